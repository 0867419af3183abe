"""`cp` between a root (a container's root filesystem) and the host, Docker's rules.

Rules (docker-cp(1)), SRC a file: DEST missing -> a file named DEST (its parent
must exist; DEST ending in `/` must exist); DEST a file -> overwritten; DEST a
directory -> copied into it under SRC's base name.  SRC a directory: DEST missing
-> created with SRC's contents; DEST a file -> error; DEST a directory -> SRC
copied into it, or only its contents when SRC ends in `/.`.  `-` streams a tar
from stdin (DEST must be a directory) or to stdout.

Both directions go through one tar stream: the source side walks with O_PATH
fds (tarwriter's no-follow walk), the destination side unpacks with
container_cp_extract, whose every lookup is in-root.  Container paths are always
resolved inside the container's root; host paths are the user's own paths and
are never globbed, and names that come from the container are only ever created
beneath the destination directory, never followed on the host.
"""

from __future__ import annotations

import os
import stat
import tarfile
import threading
from dataclasses import dataclass
from typing import BinaryIO

from engine.archive import tarwriter
from engine.archive.inroot import InRoot
from engine.errors import InvalidArgument, NotFound, StorageError, SyscallError
from engine.services.container_cp_extract import Ownership, extract_into

_PATH = os.O_PATH | os.O_CLOEXEC
_NOFOLLOW = os.O_PATH | os.O_NOFOLLOW | os.O_CLOEXEC
MISSING, DIR, FILE = "missing", "dir", "file"


@dataclass(frozen=True)
class CopyOptions:
    archive: bool = False      # keep the source's uid/gid (Docker's -a)
    follow_link: bool = False  # -L: copy what a symlink SRC points to


@dataclass(frozen=True)
class Plan:
    """Where the stream is unpacked and the name its top entry gets (None: SRC's contents)."""

    extract_dir: str
    top: str | None


# -- the rules table ---------------------------------------------------------------------
def contents_only(src: str) -> bool:
    """`dir/.` (and `/`): copy what is inside, not the directory itself."""
    stripped = src.rstrip("/")
    return src.endswith("/.") or stripped in ("", ".") or stripped.endswith("/.")


def base_name(path: str) -> str:
    return os.path.basename(path.rstrip("/")) or "/"


def plan_copy(src: str, src_is_dir: bool, dest: str, dest_kind: str, dest_parent_is_dir: bool,
              where: str = "the host") -> Plan:
    """Apply Docker's cp rules; `dest_kind` is MISSING, DIR or FILE (symlinks followed)."""
    if not src_is_dir and (src.endswith("/") or src.endswith("/.")):
        raise InvalidArgument(f'"{src}": not a directory')
    if dest_kind == DIR:
        if src_is_dir and contents_only(src):
            return Plan(dest, None)
        name = base_name(src)
        if name in ("/", "..", "."):
            return Plan(dest, None)
        return Plan(dest, name)
    if dest_kind == FILE:
        if src_is_dir:
            raise InvalidArgument("destination must be a directory when copying a directory")
        if dest.endswith("/"):
            raise InvalidArgument(f'"{dest}": not a directory')
        return Plan(_parent(dest), base_name(dest))
    # missing
    if dest.endswith("/") and not src_is_dir:
        raise NotFound(f'"{dest}" could not be found on {where}: destination directory must exist')
    if not dest_parent_is_dir:
        raise NotFound(f'"{_parent(dest)}" could not be found on {where}: no such file or directory')
    name = base_name(dest)
    if name in ("/", ".", ".."):
        raise InvalidArgument(f'"{dest}": invalid destination')
    return Plan(_parent(dest), name)


def _parent(path: str) -> str:
    head = os.path.dirname(path.rstrip("/"))
    return head or ("/" if path.startswith("/") else ".")


# -- locating a source or destination -----------------------------------------------------
@dataclass
class Located:
    fd: int                 # O_PATH fd of the entry (a symlink itself unless followed)
    st: os.stat_result

    @property
    def is_dir(self) -> bool:
        return stat.S_ISDIR(self.st.st_mode)

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


def locate_in_root(root: InRoot, path: str, follow: bool) -> Located | None:
    """The entry `path` names inside `root` (None when missing); the last component is
    followed (in-root) with `follow` or when `path` ends in `/` or `/.`."""
    raw = os.fsencode(path)
    try:
        if follow or raw.endswith(b"/") or raw.endswith(b"/."):
            fd = root.open(raw, os.O_PATH)
        else:
            pfd, name = root.open_parent(raw)
            try:
                fd = os.dup(pfd) if name is None else os.open(name, _NOFOLLOW, dir_fd=pfd)
            finally:
                os.close(pfd)
    except SyscallError as exc:
        if exc.errno in (2, 20):  # ENOENT, ENOTDIR on the way
            return None
        raise
    except (FileNotFoundError, NotADirectoryError):
        return None
    return Located(fd, os.fstat(fd))


def parent_is_dir_in_root(root: InRoot, path: str) -> bool:
    try:
        fd = root.open_dir(os.fsencode(_parent(path)))
    except SyscallError:
        return False
    os.close(fd)
    return True


def locate_on_host(path: str, follow: bool) -> Located | None:
    try:
        if follow or path.endswith("/") or path.endswith("/."):
            fd = os.open(path, _PATH)
        else:
            head, tail = os.path.split(path)
            pfd = os.open(head or ".", _PATH | os.O_DIRECTORY)
            try:
                fd = os.open(tail or ".", _NOFOLLOW, dir_fd=pfd)
            finally:
                os.close(pfd)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError as exc:
        raise StorageError(f'cannot open "{path}": {exc.strerror}') from None
    return Located(fd, os.fstat(fd))


def host_kind(path: str) -> tuple[str, bool]:
    """(MISSING|DIR|FILE, parent is a directory) of a host destination (symlinks followed)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return MISSING, os.path.isdir(_parent(path))
    return (DIR if stat.S_ISDIR(st.st_mode) else FILE), True


# -- the source side: one entry as a tar stream ------------------------------------------
def write_source_tar(src: Located, out: BinaryIO, top: str | None) -> None:
    """Tar of the located entry: named `top`, or only its children when `top` is None."""
    writer = tarwriter._Writer(tarwriter._Out(out), False, "user.overlay.opaque", True)
    mode = src.st.st_mode
    proc = f"/proc/self/fd/{src.fd}"
    try:
        if stat.S_ISDIR(mode):
            dfd = os.open(proc, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                if top is None:
                    writer.tree(dfd, b"")
                else:
                    name = os.fsencode(top)
                    writer.header(name + b"/", src.st, tarfile.DIRTYPE, fd=dfd)
                    writer.tree(dfd, name + b"/")
            finally:
                os.close(dfd)
        elif top is None:
            raise InvalidArgument("source is not a directory")
        elif stat.S_ISREG(mode):
            fd = os.open(proc, os.O_RDONLY | os.O_CLOEXEC)  # the inode we located, no name
            try:
                writer.header(os.fsencode(top), src.st, tarfile.REGTYPE, fd=fd, size=src.st.st_size)
                writer.data(fd, src.st.st_size)
            finally:
                os.close(fd)
        elif stat.S_ISLNK(mode):
            writer.header(os.fsencode(top), src.st, tarfile.SYMTYPE,
                          linkname=os.readlink(b"", dir_fd=src.fd))
        elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
            kind = tarfile.CHRTYPE if stat.S_ISCHR(mode) else (
                tarfile.BLKTYPE if stat.S_ISBLK(mode) else tarfile.FIFOTYPE)
            writer.header(os.fsencode(top), src.st, kind, proc=proc)
        else:
            raise InvalidArgument("cannot copy a socket")
    except OSError as exc:
        raise StorageError(f"cannot read {exc.filename or 'source'}: {exc.strerror}") from None
    writer.out.write(bytes(2 * tarwriter.BLOCK))


def pipe_tar(src: Located, top: str | None, consume) -> None:
    """Stream the source's tar through a pipe into `consume(reader)` (the destination
    side), the writer in a thread; errors of either side come out here."""
    rfd, wfd = os.pipe2(os.O_CLOEXEC)
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with os.fdopen(wfd, "wb", buffering=1 << 20) as w:
                write_source_tar(src, w, top)
        except BrokenPipeError:
            pass  # the consumer gave up: its error is the one to report
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            failure.append(exc)

    thread = threading.Thread(target=produce, name="cp-tar", daemon=True)
    thread.start()
    try:
        with os.fdopen(rfd, "rb", buffering=0) as r:
            consume(r)
    finally:
        thread.join()
    if failure:
        raise failure[0]


# -- the two directions ---------------------------------------------------------------------
def copy_out(root: InRoot, src: str, dest: str | BinaryIO, opts: CopyOptions, where: str) -> None:
    """Container (`root`) -> host path, or -> a tar on the binary stream `dest`."""
    located = locate_in_root(root, src, opts.follow_link)
    if located is None:
        raise NotFound(f'"{src}" could not be found on {where}: no such file or directory')
    try:
        if not isinstance(dest, str):
            if not located.is_dir and (src.endswith("/") or src.endswith("/.")):
                raise InvalidArgument(f'"{src}": not a directory')
            top = None if located.is_dir and contents_only(src) else base_name(src)
            write_source_tar(located, dest, None if top == "/" else top)
            return
        kind, parent_ok = host_kind(dest)
        plan = plan_copy(src, located.is_dir, dest, kind, parent_ok)
        owner = Ownership(keep=opts.archive, strip_setid=not opts.archive)
        try:
            host = InRoot(plan.extract_dir)
        except OSError as exc:
            raise StorageError(f'cannot open "{plan.extract_dir}": {exc.strerror}') from None
        with host:
            pipe_tar(located, plan.top, lambda r: extract_into(r, host, b"", owner))
    finally:
        located.close()


def copy_in(root: InRoot, src: str | BinaryIO, dest: str, opts: CopyOptions, where: str,
            root_ids: tuple[int, int] = (0, 0), shift=None) -> None:
    """Host path, or a tar read from the binary stream `src` -> container (`root`);
    `shift`: the container's own maps (container ids -> host ids) for --archive."""
    owner = Ownership(keep=opts.archive, uid=root_ids[0], gid=root_ids[1], shift=shift)
    target = locate_in_root(root, dest, True)
    kind = MISSING if target is None else (DIR if target.is_dir else FILE)
    if target is not None:
        target.close()
    if not isinstance(src, str):
        if kind == MISSING and dest.endswith("/"):
            raise NotFound(f'"{dest}" could not be found on {where}: no such file or directory')
        if kind != DIR:
            raise InvalidArgument("destination must be a directory when copying from stdin")
        _unpack(lambda: extract_into(src, root, os.fsencode(dest), owner))
        return
    located = locate_on_host(src, opts.follow_link)
    if located is None:
        raise NotFound(f'"{src}" could not be found on the host: no such file or directory')
    try:
        parent_ok = kind != MISSING or parent_is_dir_in_root(root, dest)
        plan = plan_copy(src, located.is_dir, dest, kind, parent_ok, where)
        pipe_tar(located, plan.top,
                 lambda r: _unpack(lambda: extract_into(r, root, os.fsencode(plan.extract_dir), owner)))
    finally:
        located.close()


def _unpack(run) -> None:
    try:
        run()
    except SyscallError as exc:  # the destination directory vanished or is not one
        raise StorageError(f"cannot copy into the container: {exc}") from None
