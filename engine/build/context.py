"""The build context: a directory (or a tar unpacked into a private directory),
the Containerfile to use, and the ignore rules.

Nothing outside the context can be reached: a source path is cleaned, a path
climbing above the context (`COPY ../x`) is refused, and the rest is resolved
inside the context with engine/archive/inroot (symlinks followed in-root only),
then copied without following links (engine/build/copier.py).  A tar context is
unpacked with the safe extractor (engine/archive/extract.py), so hostile names,
links and bombs are refused there.
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import stat
import sys
from dataclasses import dataclass, field
from pathlib import Path

from engine.build.ignore import IgnoreMatcher, parse_patterns
from engine.errors import HullError, InvalidArgument, NotFound, SyscallError

DOCKERFILE_NAMES = ("Containerfile", "Dockerfile")
IGNORE_NAMES = (".containerignore", ".dockerignore")
MAX_DOCKERFILE = 16 << 20


class SourceNotFound(NotFound):
    pass


@dataclass
class Source:
    """One resolved COPY/ADD source: a parent dir fd + name under a root, and its
    path relative to that root (for ignore rules and messages)."""
    dir_fd: int
    name: str
    rel: str
    st: os.stat_result


@dataclass
class SourceRoot:
    """A tree COPY reads from: the context, a stage's or an image's rootfs."""
    path: Path
    ignore: IgnoreMatcher = field(default_factory=lambda: IgnoreMatcher([]))
    label: str = ""
    is_context: bool = False
    _fd: int = -1

    def fd(self) -> int:
        if self._fd < 0:
            self._fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        return self._fd

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def ignored(self, rel: str) -> bool:
        return bool(self.ignore) and self.ignore.excluded(rel)

    def may_hold_included(self, rel: str) -> bool:
        return self.ignore.may_hold_included(rel)

    def resolve(self, pattern: str) -> list[Source]:
        """The entries `pattern` (a path or a glob, relative to the root) names."""
        cleaned = posixpath.normpath("/" + pattern.replace("\\", "/") if not pattern.startswith("/") else pattern)
        raw = posixpath.normpath(pattern)
        if self.is_context and (raw == ".." or raw.startswith("../")):
            raise SourceNotFound(f'checking on sources under "{self.path}": possible escaping context directory '
                                 f'error: copier: stat: "{cleaned}": no such file or directory')
        rel = cleaned.lstrip("/")
        if not _has_glob(rel):
            found = self._lookup(rel)
            if found is None:
                raise SourceNotFound(f'checking on sources under "{self.path}": copier: stat: '
                                     f'"{cleaned}": no such file or directory')
            return [found]
        matches = [s for s in self._glob(rel.split("/")) if not self.ignored(s.rel)]
        if not matches:
            raise SourceNotFound(f'checking on sources under "{self.path}": copier: stat: '
                                 f'"{cleaned}": no such file or directory')
        return matches

    def _lookup(self, rel: str, depth: int = 0) -> Source | None:
        from engine.archive.inroot import InRoot

        if rel in ("", "."):
            fd = os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.fd())
            return Source(fd, ".", "", os.fstat(fd))
        if self.ignored(rel) and not self._dir_has_included(rel):
            return None
        with InRoot(self.fd()) as root:
            try:
                parent, last = root.open_parent(os.fsencode(rel))
            except SyscallError:
                return None
            name = os.fsdecode(last) if last is not None else "."
            try:
                st = os.lstat(name, dir_fd=parent)
            except OSError:
                os.close(parent)
                return None
            if not stat.S_ISLNK(st.st_mode):
                return Source(parent, name, rel, st)
            os.close(parent)
            # a top-level symlink is followed as Docker does, but only inside the
            # root: find where it lands in-root and look that path up instead
            try:
                target = root.open(os.fsencode(rel), os.O_PATH)
            except SyscallError:
                raise SourceNotFound(f'checking on sources under "{self.path}": possible escaping context '
                                     f'directory error: symlink "/{rel}" points outside the context or '
                                     f'to nothing') from None
            try:
                landed = os.readlink(f"/proc/self/fd/{target}")
            finally:
                os.close(target)
        base = os.readlink(f"/proc/self/fd/{self.fd()}")
        inside = os.path.relpath(landed, base)
        if inside.startswith("..") or depth > 40:
            return None
        return self._lookup(inside.replace(os.sep, "/"), depth + 1)

    def _dir_has_included(self, rel: str) -> bool:
        return self.ignore.may_hold_included(rel)

    def _glob(self, parts: list[str]) -> list[Source]:
        results: list[tuple[int, str, str]] = []
        level = [(os.open(".", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=self.fd()), "")]
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            nxt: list[tuple[int, str]] = []
            for dfd, prefix in level:
                names = sorted(os.listdir(dfd)) if _has_glob(part) else [part]
                for name in names:
                    if not fnmatch.fnmatchcase(name, part) and name != part:
                        continue
                    rel = f"{prefix}/{name}" if prefix else name
                    try:
                        st = os.lstat(name, dir_fd=dfd)
                    except FileNotFoundError:
                        continue
                    if last:
                        results.append((os.dup(dfd), name, rel))
                    elif stat.S_ISDIR(st.st_mode):
                        nxt.append((os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC,
                                            dir_fd=dfd), rel))
                os.close(dfd)
            level = nxt
        for dfd, _ in level:
            os.close(dfd)
        return [Source(d, n, r, os.lstat(n, dir_fd=d)) for d, n, r in results]


def close_sources(sources: list[Source]) -> None:
    for s in sources:
        try:
            os.close(s.dir_fd)
        except OSError:
            pass


def _has_glob(text: str) -> bool:
    return any(c in text for c in "*?[")


@dataclass
class BuildContext:
    root: SourceRoot
    dockerfile_text: str
    dockerfile_path: str        # as shown in messages
    cleanup: list[Path] = field(default_factory=list)


def _read_dockerfile(path: Path) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_DOCKERFILE + 1)
    except FileNotFoundError:
        raise InvalidArgument(f"stat {path}: no such file or directory") from None
    except IsADirectoryError:
        raise InvalidArgument(f"read {path}: is a directory") from None
    except OSError as exc:
        raise HullError(f"reading {path}: {exc.strerror}") from None
    if len(data) > MAX_DOCKERFILE:
        raise InvalidArgument(f"{path}: Containerfile larger than {MAX_DOCKERFILE} bytes")
    return data.decode("utf-8", "replace")


def locate_dockerfile(context: Path, files: list[str]) -> tuple[str, str]:
    """(text, name) of the Containerfile: `-f` as given (absolute, relative to the
    current directory, then to the context, as Podman), `-` for stdin, else
    Containerfile/Dockerfile in the context."""
    if files:
        texts, names = [], []
        for f in files:
            if f == "-":
                texts.append(sys.stdin.read())
                names.append("-")
                continue
            path = Path(f)
            if not path.exists() and not path.is_absolute():
                path = context / f
            elif not path.exists():
                path = context / f.lstrip("/")
            texts.append(_read_dockerfile(path))
            names.append(str(path))
        return "\n".join(texts), names[0]
    for name in DOCKERFILE_NAMES:
        path = context / name
        if path.is_file():
            return _read_dockerfile(path), str(path)
    raise InvalidArgument(f"no Containerfile or Dockerfile specified or found in context directory, "
                          f"{context}: no such file or directory")


def load_ignore(context: Path, ignorefile: str | None) -> IgnoreMatcher:
    candidates = [Path(ignorefile)] if ignorefile else [context / n for n in IGNORE_NAMES]
    for path in candidates:
        try:
            with open(path, "rb") as f:
                return IgnoreMatcher(parse_patterns(f.read(1 << 20).decode("utf-8", "replace")))
        except FileNotFoundError:
            if ignorefile:
                raise InvalidArgument(f"open {ignorefile}: no such file or directory") from None
        except OSError as exc:
            raise HullError(f"reading {path}: {exc.strerror}") from None
    return IgnoreMatcher([])


def unpack_tar_context(path_or_stream, dest: Path) -> None:
    """A tar (file or stream, compressed or not) -> `dest` (empty), with the safe extractor."""
    from engine.archive.extract import apply_layer

    if isinstance(path_or_stream, (str, Path)):
        with open(path_or_stream, "rb") as f:
            apply_layer(f, dest, ignore_chown_errors=True)
    else:
        apply_layer(path_or_stream, dest, ignore_chown_errors=True)


def open_context(location: str, files: list[str], ignorefile: str | None, scratch: Path) -> BuildContext:
    """`location` is a directory or a tar file (`-`: a tar on stdin); `scratch` a
    private directory for an unpacked tar."""
    cleanup: list[Path] = []
    if location == "-":
        dest = scratch / "context"
        dest.mkdir(mode=0o700)
        unpack_tar_context(sys.stdin.buffer, dest)
        directory = dest
    else:
        path = Path(location)
        if path.is_dir():
            directory = path.resolve()
        elif path.is_file():
            dest = scratch / "context"
            dest.mkdir(mode=0o700)
            unpack_tar_context(path, dest)
            directory = dest
        else:
            raise InvalidArgument(f'context must be a directory: "{path.absolute()}"')
    text, name = locate_dockerfile(directory, files)
    ignore = load_ignore(directory, ignorefile)
    root = SourceRoot(directory, ignore, label="context", is_context=True)
    return BuildContext(root, text, name, cleanup)
