"""BlobStore: content-addressed files at {root}/blobs/<algorithm>/<hex>.

A blob only ever appears under its digest once its bytes were hashed and
checked: ingest writes to a temp file in {root}/tmp (same filesystem), hashes
while writing, refuses bytes past the promised size, and on commit compares
size and digest, fsyncs, and renames into place.  Two writers of the same blob
both succeed; the second just drops its temp file.  Each writer holds an flock
on its own temp file, so gc can tell a live ingest from one whose process died.
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import BinaryIO

from engine.config import EngineConfig
from engine.errors import IntegrityError, InvalidArgument, NotFound, StorageError, UnsafeArchive
from engine.oci.digest import validate_digest

TEMP_PREFIX = "blob-"
# A temp file this recent may belong to a writer that has not flocked it yet.
STALE_AFTER_SECONDS = 60.0


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobWriter:
    """One ingest in progress; use as a context manager (aborts unless committed)."""

    def __init__(
        self, store: "BlobStore", expected_digest: str | None, expected_size: int | None
    ) -> None:
        import hashlib  # lazily: OpenSSL's hashlib costs ms at every start
        if expected_digest is not None:
            validate_digest(expected_digest)
        if expected_size is not None and expected_size < 0:
            raise InvalidArgument(f"invalid blob size {expected_size}")
        self._store = store
        self.expected_digest = expected_digest
        self.expected_size = expected_size
        algorithm = expected_digest.partition(":")[0] if expected_digest else "sha256"
        self._hasher = hashlib.new(algorithm)
        self._algorithm = algorithm
        self.size = 0
        self.digest: str | None = None
        self._done = False
        self.temp_path = store.tmp_dir / f"{TEMP_PREFIX}{os.urandom(12).hex()}"
        try:
            self._fd = os.open(
                self.temp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600
            )
        except OSError as exc:
            raise StorageError(f"cannot create {self.temp_path}: {exc.strerror}") from None
        fcntl.flock(self._fd, fcntl.LOCK_EX)  # "alive" marker for gc

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._done:
            raise StorageError("write to a finished blob ingest")
        n = len(data)
        if self.expected_size is not None and self.size + n > self.expected_size:
            self.abort()
            what = self.expected_digest or "blob"
            raise IntegrityError(f"{what} is larger than its expected {self.expected_size} bytes")
        view = memoryview(data)
        try:
            while view:
                written = os.write(self._fd, view)
                view = view[written:]
        except OSError as exc:
            self.abort()
            raise StorageError(f"cannot write blob: {exc.strerror}") from None
        self._hasher.update(data)
        self.size += n
        return n

    def commit(self) -> str:
        """Verify size and digest, make the bytes durable, move them into place."""
        if self._done:
            raise StorageError("commit of a finished blob ingest")
        digest = f"{self._algorithm}:{self._hasher.hexdigest()}"
        if self.expected_size is not None and self.size != self.expected_size:
            self.abort()
            raise IntegrityError(
                f"blob {self.expected_digest or digest} has {self.size} bytes, expected {self.expected_size}"
            )
        if self.expected_digest is not None and digest != self.expected_digest:
            self.abort()
            raise IntegrityError(f"digest mismatch: expected {self.expected_digest}, got {digest}")
        final = self._store.path(digest)
        try:
            os.fsync(self._fd)
            if os.path.exists(final):
                os.unlink(self.temp_path)  # same bytes are already there
            else:
                final.parent.mkdir(mode=0o700, exist_ok=True)
                os.rename(self.temp_path, final)
                _fsync_dir(final.parent)
        except OSError as exc:
            self.abort()
            raise StorageError(f"cannot store blob {digest}: {exc.strerror}") from None
        os.close(self._fd)
        self._done = True
        self.digest = digest
        return digest

    def abort(self) -> None:
        if self._done:
            return
        self._done = True
        try:
            os.unlink(self.temp_path)
        except FileNotFoundError:
            pass
        os.close(self._fd)

    def __enter__(self) -> "BlobWriter":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.abort()  # no-op after commit()


class BlobStore:
    def __init__(self, cfg: EngineConfig) -> None:
        self.dir = cfg.blobs_dir
        self.tmp_dir = cfg.tmp_dir

    def path(self, digest: str) -> Path:
        algorithm, _, hex_part = validate_digest(digest).partition(":")
        return self.dir / algorithm / hex_part

    def has(self, digest: str) -> bool:
        return self.path(digest).is_file()

    def size(self, digest: str) -> int:
        try:
            return self.path(digest).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"blob {digest} not known") from None

    def open(self, digest: str) -> BinaryIO:
        try:
            return open(self.path(digest), "rb")
        except FileNotFoundError:
            raise NotFound(f"blob {digest} not known") from None
        except OSError as exc:
            raise StorageError(f"cannot open blob {digest}: {exc.strerror}") from None

    def read_bytes(self, digest: str, max_size: int) -> bytes:
        """The whole blob, verified against its digest; refuses one over max_size."""
        with self.open(digest) as f:
            data = f.read(max_size + 1)
        if len(data) > max_size:
            raise UnsafeArchive(f"blob {digest} is larger than the {max_size} byte limit")
        algorithm, _, hex_part = digest.partition(":")
        if algorithm == "sha256":  # the builtin module: loading OpenSSL's hashlib costs ~4 ms per run
            from _sha256 import sha256

            actual = sha256(data).hexdigest()
        else:
            import hashlib

            actual = hashlib.new(algorithm, data).hexdigest()
        if actual != hex_part:
            raise IntegrityError(f"blob {digest} is corrupt: its content does not match its digest")
        return data

    def ingest(self, expected_digest: str | None = None, expected_size: int | None = None) -> BlobWriter:
        return BlobWriter(self, expected_digest, expected_size)

    def put_bytes(self, data: bytes, expected_digest: str | None = None) -> str:
        import hashlib  # lazily: OpenSSL's hashlib costs ms at every start
        if expected_digest is not None:
            algorithm, _, hex_part = validate_digest(expected_digest).partition(":")
            if hashlib.new(algorithm, data).hexdigest() != hex_part:
                raise IntegrityError(f"digest mismatch: expected {expected_digest}")
            if self.has(expected_digest):
                return expected_digest
        with self.ingest(expected_digest, len(data)) as writer:
            writer.write(data)
            return writer.commit()

    def delete(self, digest: str) -> None:
        try:
            os.unlink(self.path(digest))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"cannot delete blob {digest}: {exc.strerror}") from None

    def digests(self) -> Iterator[str]:
        """Every stored blob's digest (entries that are not valid digests are skipped)."""
        try:
            algorithms = os.listdir(self.dir)
        except FileNotFoundError:
            return
        for algorithm in algorithms:
            try:
                names = os.listdir(self.dir / algorithm)
            except (NotADirectoryError, FileNotFoundError):
                continue
            for name in names:
                digest = f"{algorithm}:{name}"
                try:
                    validate_digest(digest)
                except InvalidArgument:
                    continue
                yield digest

    def remove_stale_temps(self, min_age: float = STALE_AFTER_SECONDS) -> int:
        """Delete temp files of ingests whose process died (flock free, not fresh)."""
        removed = 0
        now = time.time()
        try:
            names = os.listdir(self.tmp_dir)
        except FileNotFoundError:
            return 0
        for name in names:
            if not name.startswith(TEMP_PREFIX):
                continue
            path = self.tmp_dir / name
            try:
                if now - path.lstat().st_mtime < min_age:
                    continue
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                continue  # a live writer holds it
            try:
                os.unlink(path)
                removed += 1
            except FileNotFoundError:
                pass
            finally:
                os.close(fd)
        return removed
