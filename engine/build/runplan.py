"""What one RUN step's container gets besides its rootfs: the `RUN --mount=...`
mounts, secrets exposed as environment variables, and a heredoc run as a script.

Mount types (BuildKit's syntax):
- bind (default): `source` of the context, a --build-context, a stage or an image
  (`from=`), read-only; with `rw` the step may write, but into a scratch overlay (a
  directory) or a scratch copy (a file) that is thrown away after the step, as BuildKit.
- cache: a directory kept between builds under {root}/build-cache/mounts/, by `id`.
- secret: a `--secret` of the build, at `target` (default /run/secrets/<id>) and/or,
  with `env=VAR`, as VAR in this step's environment only: never in the image's
  config, history or cache key (the key has the secret's id, not its value).
- tmpfs.

A heredoc that is the whole command and starts with `#!` is written to a file
(mode 0755, read-only bind at /dev/pipes/<NAME>) and executed directly, as Docker
does; the kernel then runs the interpreter its first line names.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.errors import InvalidArgument

SCRIPT_DIR = "/dev/pipes"


@dataclass
class RunMounts:
    mounts: list[Any] = field(default_factory=list)            # MountSpec
    overlays: dict[str, list[str]] = field(default_factory=dict)   # destination -> overlay options (bind,rw)
    env: dict[str, str] = field(default_factory=dict)          # secrets as env vars of this step only
    key: list[str] = field(default_factory=list)               # cache key parts
    cleanups: list[Callable[[], None]] = field(default_factory=list)


def parse_fields(text: str) -> dict[str, str]:
    """`type=bind,source=x,rw` -> {"type": "bind", "source": "x", "rw": "true"}."""
    out: dict[str, str] = {}
    for part in text.split(","):
        k, eq, v = part.partition("=")
        if k.strip():
            out[k.strip().lower()] = v if eq else "true"
    return out


def secret_bytes(opts: Any, sid: str) -> bytes | None:
    """The value of build secret `sid` (--secret id=...), None when not given."""
    values = getattr(opts, "secret_values", None) or {}
    if sid in values:
        v = values[sid]
        return v.encode() if isinstance(v, str) else bytes(v)
    path = (opts.secrets or {}).get(sid)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as exc:
        raise InvalidArgument(f"secret {sid!r}: {path}: {exc.strerror}") from None


def _private_file(scratch: Path, data: bytes, mode: int) -> Path:
    d = scratch / "run-files"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = d / secrets.token_hex(8)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    with open(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # not narrowed by the umask
    return path


def _remover(path: Path) -> Callable[[], None]:
    def remove() -> None:
        from engine.store.rmtree import remove_tree

        try:
            if path.is_dir() and not path.is_symlink():
                remove_tree(path)
            else:
                path.unlink()
        except (OSError, FileNotFoundError):
            pass

    return remove


def plan(texts: list[str], opts: Any, cache_root: Path, scratch: Path,
         source_path: Callable[[str, str], tuple[str, Callable[[], None]]]) -> RunMounts:
    """The mounts of `RUN --mount=` flags (already expanded).  `source_path(from, source)`
    gives the host path of a bind source and its release."""
    from engine.spec.options import MountSpec

    out = RunMounts()
    for text in texts:
        f = parse_fields(text)
        kind = f.get("type", "bind")
        target = f.get("target") or f.get("dst") or f.get("destination") or ""
        if kind == "secret":
            sid = f.get("id") or os.path.basename(target)
            data = secret_bytes(opts, sid)
            if data is None:
                if f.get("required") == "true":
                    raise InvalidArgument(f"secret {sid!r} is required but was not given with --secret")
                continue
            if f.get("env"):
                out.env[f["env"]] = data.decode(errors="replace")
                out.key.append(f"secret-env:{sid}:{f['env']}")
            if target or not f.get("env"):  # env= alone: no file (BuildKit)
                target = target or f"/run/secrets/{sid}"
                path = _private_file(scratch, data, int(f.get("mode", "400"), 8))
                out.cleanups.append(_remover(path))
                out.mounts.append(MountSpec(type="bind", destination=target, source=str(path), readonly=True,
                                            recursive=False))
                out.key.append(f"secret:{sid}:{target}")
            continue
        if not target:
            raise InvalidArgument(f"RUN --mount={text}: target is required")
        if kind == "cache":
            cid = f.get("id") or target
            path = cache_root / hashlib.sha256(cid.encode()).hexdigest()[:32]
            path.mkdir(mode=0o755, parents=True, exist_ok=True)
            out.mounts.append(MountSpec(type="bind", destination=target, source=str(path), recursive=False))
            out.key.append(f"cache:{cid}:{target}")
        elif kind == "bind":
            source = f.get("source") or f.get("src") or "/"
            host_path, release = source_path(f.get("from", ""), source)
            out.cleanups.append(release)
            rw = f.get("rw") == "true" or f.get("readwrite") == "true"
            out.key.append(f"bind:{f.get('from', '')}:{source}:{target}:{'rw' if rw else 'ro'}")
            if not rw:
                out.mounts.append(MountSpec(type="bind", destination=target, source=host_path, readonly=True,
                                            recursive=False))
            elif os.path.isdir(host_path):
                out.mounts.append(MountSpec(type="bind", destination=target, source=host_path, overlay=True))
                out.overlays[target] = _scratch_overlay(scratch, host_path, out.cleanups)
            else:
                copy = scratch / "run-files" / secrets.token_hex(8)
                copy.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                shutil.copy2(host_path, copy)
                out.cleanups.append(_remover(copy))
                out.mounts.append(MountSpec(type="bind", destination=target, source=str(copy), recursive=False))
        elif kind == "tmpfs":
            out.mounts.append(MountSpec(type="tmpfs", destination=target, source="tmpfs"))
            out.key.append(f"tmpfs:{target}")
        else:
            raise InvalidArgument(f"RUN --mount type {kind!r} is not supported (bind, cache, secret, tmpfs)")
    return out


def _scratch_overlay(scratch: Path, lower: str, cleanups: list[Callable[[], None]]) -> list[str]:
    """bind,rw of a directory: an overlay over it whose upper layer is discarded."""
    from engine.runtime.overlay import escape_option_path

    base = scratch / "run-rw" / secrets.token_hex(8)
    (base / "upper").mkdir(mode=0o755, parents=True)
    (base / "work").mkdir(mode=0o700)
    cleanups.append(_remover(base))
    return ["lowerdir=" + escape_option_path(lower), "upperdir=" + escape_option_path(str(base / "upper")),
            "workdir=" + escape_option_path(str(base / "work")), "userxattr"]


def shebang_script(args: str, heredocs: list[Any], scratch: Path) -> tuple[list[str], Any, str] | None:
    """`RUN <<EOF` whose only heredoc starts with `#!`: (argv, its mount, the content
    for the cache key); None when the heredoc is for the shell."""
    from engine.spec.options import MountSpec

    if len(heredocs) != 1:
        return None
    h = heredocs[0]
    if args.strip() not in (f"<<{h.name}", f"<<-{h.name}", f"<<'{h.name}'", f'<<"{h.name}"',
                            f"<<-'{h.name}'", f'<<-"{h.name}"') or not h.content.startswith("#!"):
        return None
    path = _private_file(scratch, h.content.encode(), 0o755)
    dest = f"{SCRIPT_DIR}/{h.name}"
    return [dest], MountSpec(type="bind", destination=dest, source=str(path), readonly=True, recursive=False), \
        h.content


__all__ = ["RunMounts", "SCRIPT_DIR", "parse_fields", "plan", "secret_bytes", "shebang_script"]
