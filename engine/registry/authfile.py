"""auth.json (containers-auth.json(5)) and Docker's config.json.

    {"auths": {"registry.example.com": {"auth": base64("user:password")}}}

Lookups try each candidate file in order (EngineConfig.auth_file_candidates());
login writes to the first, atomically and mode 0600.  Docker Hub is also stored
by Docker under "https://index.docker.io/v1/", so that key is read too.  Keys may
be `host` or `host/namespace/repo`; the most specific match wins.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from engine.errors import InvalidArgument, StorageError

_DOCKER_HUB_KEYS = ("docker.io", "index.docker.io", "https://index.docker.io/v1/", "registry-1.docker.io")
_MAX_AUTHFILE = 4 * 1024 * 1024


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str

    def __repr__(self) -> str:  # never print a password in a traceback or log
        return f"Credentials(username={self.username!r}, password=***)"


def _normalise_key(key: str) -> str:
    """`https://host/v1/` -> `host`; keep a repository path if there is one."""
    for scheme in ("https://", "http://"):
        if key.startswith(scheme):
            key = key[len(scheme) :]
            key = key.split("/", 1)[0]  # URLs carry API paths, never repositories
            break
    key = key.rstrip("/")
    if key in _DOCKER_HUB_KEYS:
        return "docker.io"
    return key


def _read(path: Path) -> dict:
    try:
        with open(path, "rb") as fh:
            data = fh.read(_MAX_AUTHFILE + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise StorageError(f"cannot read {path}: {exc.strerror}") from None
    if len(data) > _MAX_AUTHFILE:
        raise InvalidArgument(f"{path} is too large")
    if not data.strip():
        return {}
    try:
        doc = json.loads(data)
    except ValueError:
        raise InvalidArgument(f"{path}: invalid JSON") from None
    return doc if isinstance(doc, dict) else {}


def _decode(entry: object) -> Credentials | None:
    if not isinstance(entry, dict):
        return None
    auth = entry.get("auth")
    if isinstance(auth, str) and auth:
        try:
            user, sep, password = base64.b64decode(auth, validate=False).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        if sep and user:
            return Credentials(user, password)
    if isinstance(entry.get("username"), str) and isinstance(entry.get("password"), str):
        return Credentials(entry["username"], entry["password"])
    return None


def lookup(candidates: list[Path], registry: str, repository: str | None = None) -> Credentials | None:
    """Credentials for `registry` (and optionally a repository on it), or None."""
    registry = _normalise_key(registry)
    wanted = [f"{registry}/{repository}"] if repository else []
    if repository:  # host/ns/repo, then host/ns, then host
        parts = repository.split("/")
        wanted = [f"{registry}/{'/'.join(parts[:i])}" for i in range(len(parts), 0, -1)]
    wanted.append(registry)
    for path in candidates:
        auths = _read(path).get("auths")
        if not isinstance(auths, dict):
            continue
        normalised: dict[str, object] = {}
        for key, value in auths.items():
            if isinstance(key, str):
                normalised.setdefault(_normalise_key(key), value)
        for key in wanted:
            creds = _decode(normalised.get(key))
            if creds:
                return creds
    return None


def _write_atomic(path: Path, doc: dict) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".auth-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(doc, fh, indent="\t")
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise StorageError(f"cannot write {path}: {exc.strerror}") from None


def store(path: Path, registry: str, creds: Credentials) -> None:
    """Record credentials for `registry` in `path` (login)."""
    doc = _read(path)
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        auths = doc["auths"] = {}
    key = _normalise_key(registry)
    for old in [k for k in auths if _normalise_key(k) == key]:
        del auths[old]
    token = base64.b64encode(f"{creds.username}:{creds.password}".encode()).decode()
    auths[key] = {"auth": token}
    _write_atomic(path, doc)


def remove(path: Path, registry: str) -> bool:
    """Forget `registry` in `path` (logout); False when it was not there."""
    doc = _read(path)
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return False
    key = _normalise_key(registry)
    found = [k for k in auths if _normalise_key(k) == key]
    for k in found:
        del auths[k]
    if found:
        _write_atomic(path, doc)
    return bool(found)


def remove_all(path: Path) -> None:
    doc = _read(path)
    if doc.get("auths"):
        doc["auths"] = {}
        _write_atomic(path, doc)
