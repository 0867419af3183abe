"""The login token: created at every start, kept in memory and in a 0600 file.

The launcher prints it once as a login URL; the file lets the owner (and
tests, and later the browser tests) find it again. It never goes into argv or
the environment, where other users could read it from /proc.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from engine.config import EngineConfig, ensure_private_dir

TOKEN_FILE_NAME = "console-token"
_MAX_CANDIDATE = 256  # a real token is 43 characters

_current: str | None = None


def token_file(cfg: EngineConfig | None = None) -> Path:
    """$XDG_RUNTIME_DIR/hull/console-token rootless (or Hull's fallback), /run/hull as root."""
    return (cfg or EngineConfig()).runroot / TOKEN_FILE_NAME


def new_token() -> str:
    """Make and remember this process's token."""
    global _current
    _current = secrets.token_urlsafe(32)
    return _current


def set_token(token: str | None) -> None:
    """Install a known token (tests) or none (nobody can log in)."""
    global _current
    _current = token


def check(candidate: str | None) -> bool:
    """Constant-time comparison with the current token; False when none is set."""
    expected = _current
    if not expected or not candidate or len(candidate) > _MAX_CANDIDATE:
        return False
    return hmac.compare_digest(candidate.encode("utf-8", "replace"), expected.encode("ascii"))


def write_token_file(path: Path, token: str) -> None:
    """Write atomically with mode 0600 inside a private (0700) directory."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        tmp.unlink()  # a leftover of a crashed start with our pid
    except FileNotFoundError:
        pass
    fd = os.open(tmp, flags, 0o600)
    try:
        os.write(fd, (token + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def remove_token_file(path: Path, token: str) -> None:
    """Remove the file if it still holds our token (another start may have replaced it)."""
    try:
        if path.read_text().strip() == token:
            path.unlink()
    except OSError:
        pass
