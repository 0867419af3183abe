"""COPY and ADD: sources (context, another stage, an image, a heredoc, a URL)
into the working mount, with Docker's destination rules:

- a relative destination is relative to WORKDIR;
- several sources (or a glob) need a destination ending in `/`;
- a directory source copies its contents, not itself;
- a file goes to `dest/<name>` when dest ends in `/` or is a directory in the
  image, else it becomes `dest`;
- ADD unpacks a local tar archive (any compression) into the destination with
  the safe extractor, and downloads a URL without unpacking it.
"""

from __future__ import annotations

import os
import posixpath
import stat
from pathlib import Path
from typing import Any, Callable

from engine.build.copier import CopyAttrs, copy_entry, may_hold_included, write_file
from engine.errors import HullError, InvalidArgument, StorageError

MAX_DOWNLOAD = 8 << 30


def dest_path(dest: str, workdir: str) -> str:
    path = dest if dest.startswith("/") else posixpath.join(workdir or "/", dest)
    cleaned = posixpath.normpath(path)
    return cleaned + "/" if dest.endswith("/") or dest in (".", "./") else cleaned


def _open_dir(merged: Path, path: str, create: bool = True) -> int:
    from engine.archive.inroot import InRoot

    with InRoot(merged) as root:
        return root.open_dir(os.fsencode(path), create=create, flags=os.O_RDONLY)


def _is_dir(merged: Path, path: str) -> bool:
    from engine.archive.inroot import InRoot

    try:
        with InRoot(merged) as root:
            fd = root.open(os.fsencode(path), os.O_PATH)
    except HullError:
        return False
    try:
        return stat.S_ISDIR(os.fstat(fd).st_mode)
    finally:
        os.close(fd)


def copy_sources(merged: Path, sources: list[Any], dest: str, attrs: CopyAttrs, multi: bool,
                 ignored: Callable[[str], bool] | None, unpack: bool = False) -> None:
    """`sources` are engine.build.context.Source entries."""
    as_dir = dest.endswith("/") or multi
    target = dest.rstrip("/") or "/"
    for src in sources:
        if stat.S_ISDIR(src.st.st_mode):
            dfd = _open_dir(merged, target)
            try:
                sfd = os.open(src.name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                              dir_fd=src.dir_fd)
                try:
                    for name in sorted(os.listdir(sfd)):
                        rel = f"{src.rel}/{name}" if src.rel else name
                        if ignored is not None and ignored(rel):
                            if not (stat.S_ISDIR(os.lstat(name, dir_fd=sfd).st_mode)
                                    and may_hold_included(ignored, rel)):
                                continue
                            if copy_entry(sfd, name, dfd, name, attrs, ignored, rel) == 1:
                                os.rmdir(name, dir_fd=dfd)
                            continue
                        copy_entry(sfd, name, dfd, name, attrs, ignored, rel)
                finally:
                    os.close(sfd)
            finally:
                os.close(dfd)
            continue
        if unpack and stat.S_ISREG(src.st.st_mode) and _is_archive(src):
            _unpack(merged, src, target, attrs)
            continue
        base = posixpath.basename(src.rel) or src.name
        if as_dir or _is_dir(merged, target):
            parent, name = target, base
        else:
            parent, name = posixpath.dirname(target) or "/", posixpath.basename(target)
        dfd = _open_dir(merged, parent)
        try:
            copy_entry(src.dir_fd, src.name, dfd, name, attrs, None, src.rel)
        finally:
            os.close(dfd)


def _is_archive(src: Any) -> bool:
    from engine.archive.compression import open_decompressed

    try:
        fd = os.open(src.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src.dir_fd)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        try:
            reader = open_decompressed(f)
            head = b""
            while len(head) < 512:
                chunk = reader.read(512 - len(head))
                if not chunk:
                    break
                head += chunk
        except HullError:
            return False
    return len(head) == 512 and head[257:262] == b"ustar"


def _unpack(merged: Path, src: Any, target: str, attrs: CopyAttrs) -> None:
    """ADD of a local archive: unpacked with the safe extractor into a private
    directory (caps and hostile entries refused there), then merged in-root."""
    import tempfile

    from engine.archive.extract import apply_layer

    scratch = Path(tempfile.mkdtemp(prefix=".add-", dir=merged.parent))
    try:
        fd = os.open(src.name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=src.dir_fd)
        (scratch / "tree").mkdir(mode=0o755)
        with os.fdopen(fd, "rb") as f:
            apply_layer(f, scratch / "tree", ignore_chown_errors=True)
        # the archive's owners stay unless --chown was given
        keep = CopyAttrs(owner=attrs.owner if attrs.explicit_owner else None, chmod=attrs.chmod)
        tree = os.open(scratch / "tree", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        dfd = _open_dir(merged, target)
        try:
            for name in sorted(os.listdir(tree)):
                copy_entry(tree, name, dfd, name, keep, None, name)
        finally:
            os.close(tree)
            os.close(dfd)
    finally:
        from engine.store.rmtree import remove_tree

        remove_tree(scratch)


def write_heredoc(merged: Path, name: str, content: bytes, dest: str, attrs: CopyAttrs, multi: bool) -> None:
    as_dir = dest.endswith("/") or multi or _is_dir(merged, dest.rstrip("/") or "/")
    target = dest.rstrip("/") or "/"
    parent, fname = (target, name) if as_dir else (posixpath.dirname(target) or "/", posixpath.basename(target))
    dfd = _open_dir(merged, parent)
    try:
        write_file(dfd, fname, content, attrs, 0o644)
    finally:
        os.close(dfd)


def download(url: str, scratch: Path) -> tuple[Path, str, float | None]:
    """(file, name from the URL, Last-Modified) of a URL, never unpacked."""
    import email.utils
    import hashlib

    import httpx

    name = posixpath.basename(httpx.URL(url).path) or "index.html"
    path = scratch / f"download-{hashlib.sha256(url.encode()).hexdigest()[:16]}"
    try:
        with httpx.stream("GET", url, follow_redirects=True, timeout=60) as resp:
            if resp.status_code >= 400:
                raise HullError(f"reading {url!r}: invalid response status {resp.status_code}")
            total = 0
            with open(path, "wb") as out:
                for chunk in resp.iter_bytes(1 << 20):
                    total += len(chunk)
                    if total > MAX_DOWNLOAD:
                        raise StorageError(f"reading {url!r}: larger than {MAX_DOWNLOAD} bytes")
                    out.write(chunk)
            modified = resp.headers.get("last-modified")
    except httpx.HTTPError as exc:
        raise HullError(f"reading {url!r}: {exc}") from None
    mtime = None
    if modified:
        try:
            mtime = email.utils.parsedate_to_datetime(modified).timestamp()
        except (TypeError, ValueError):
            mtime = None
    return path, name, mtime


def place_download(merged: Path, path: Path, name: str, dest: str, attrs: CopyAttrs, mtime: float | None,
                   multi: bool) -> None:
    as_dir = dest.endswith("/") or multi or _is_dir(merged, dest.rstrip("/") or "/")
    target = dest.rstrip("/") or "/"
    parent, fname = (target, name) if as_dir else (posixpath.dirname(target) or "/", posixpath.basename(target))
    dfd = _open_dir(merged, parent)
    try:
        write_file(dfd, fname, path.read_bytes(), attrs, 0o600, mtime)
    finally:
        os.close(dfd)


def parse_chmod(text: str) -> int:
    try:
        mode = int(text, 8)
    except ValueError:
        raise InvalidArgument(f"invalid chmod {text!r}") from None
    if mode < 0 or mode > 0o7777:
        raise InvalidArgument(f"invalid chmod {text!r}")
    return mode
