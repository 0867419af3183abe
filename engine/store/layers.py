"""LayerStore: each layer unpacked once, at {root}/layers/<chain-id hex>/diff.

A layer is keyed by its OCI ChainID, so the same diff on a different parent is
a different layer, and one pulled by two images is stored once.  Creating one
follows a crash-safe sequence, all under the per-layer lock file:

  1. record it in the DB as incomplete, naming its temp directory;
  2. `populate(dir)` fills {root}/layers/<hex>.tmp-<random>/diff;
  3. rename the temp directory to {root}/layers/<hex>;
  4. mark the record complete.

A process killed anywhere in between leaves an incomplete record, a temp dir,
or a final dir with no complete record; `cleanup_incomplete()` removes each of
those whose layer lock is free (so never the work of a live process).
"""

from __future__ import annotations

import os
import re
import sqlite3
import stat
import time
from collections.abc import Callable
from engine.record import Record
from datetime import datetime, timezone
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import InUse, NotFound, StorageError
from engine.oci.digest import validate_digest
from engine.store.db import StateDB
from engine.store.locks import file_lock, remove_lock_file
from engine.store.rmtree import remove_tree

# populate(diff_dir) fills the empty directory and returns the layer's size
# (None: measure the tree).
Populate = Callable[[Path], "int | None"]

_TMP_MARK = ".tmp-"
_HEX_NAME = re.compile(r"^(?:[a-f0-9]{64}|[a-f0-9]{128})$")
_COLUMNS = "chain_id, diff_id, parent, size, compressed_digest, created"


class Layer(Record):
    chain_id: str
    diff_id: str
    parent: str | None
    size: int
    compressed_digest: str | None
    created: datetime


def _layer(row: sqlite3.Row) -> Layer:
    return Layer(
        chain_id=row["chain_id"],
        diff_id=row["diff_id"],
        parent=row["parent"],
        size=row["size"],
        compressed_digest=row["compressed_digest"],
        created=datetime.fromtimestamp(row["created"], timezone.utc),
    )


def _tree_size(path: Path) -> int:
    total, stack = 0, [os.fspath(path)]
    while stack:
        for entry in os.scandir(stack.pop()):
            st = entry.stat(follow_symlinks=False)
            if stat.S_ISDIR(st.st_mode):
                stack.append(entry.path)
            else:
                total += st.st_size
    return total


class LayerStore:
    def __init__(self, cfg: EngineConfig, db: StateDB) -> None:
        self.dir = cfg.layers_dir
        self.locks_dir = cfg.locks_dir
        self.db = db

    # --- naming ---
    @staticmethod
    def chain_id(parent_chain_id: str | None, diff_id: str) -> str:
        """OCI ChainID: the diff ID for a base layer, else sha256("<parent> <diff>")."""
        import hashlib  # lazily: OpenSSL's hashlib costs ms at every start
        validate_digest(diff_id)
        if parent_chain_id is None:
            return diff_id
        validate_digest(parent_chain_id)
        return "sha256:" + hashlib.sha256(f"{parent_chain_id} {diff_id}".encode()).hexdigest()

    def layer_dir(self, chain_id: str) -> Path:
        return self.dir / validate_digest(chain_id).partition(":")[2]

    def diff_path(self, chain_id: str) -> Path:
        return self.layer_dir(chain_id) / "diff"

    def _lock_path(self, chain_id: str) -> Path:
        return self.locks_dir / f"layer-{validate_digest(chain_id).partition(':')[2]}.lock"

    # --- reading ---
    def _find(self, chain_id: str) -> Layer | None:
        rows = self.db.query(
            f"SELECT {_COLUMNS} FROM layers WHERE chain_id = ? AND complete = 1", (chain_id,)
        )
        return _layer(rows[0]) if rows else None

    def get(self, chain_id: str) -> Layer:
        layer = self._find(validate_digest(chain_id))
        if layer is None:
            raise NotFound(f"layer {chain_id} not known")
        return layer

    def exists(self, chain_id: str) -> bool:
        return self._find(validate_digest(chain_id)) is not None

    def list(self) -> list[Layer]:
        rows = self.db.query(f"SELECT {_COLUMNS} FROM layers WHERE complete = 1")
        return [_layer(row) for row in rows]

    # --- creating ---
    def create(
        self,
        diff_id: str,
        parent: str | None,
        populate: Populate,
        compressed_digest: str | None = None,
    ) -> Layer:
        """The layer for `diff_id` on `parent`, populated once however many ask."""
        chain = self.chain_id(parent, diff_id)
        if compressed_digest is not None:
            validate_digest(compressed_digest)
        layer = self._find(chain)
        if layer is not None and self.diff_path(chain).is_dir():
            return layer  # the common, lock-free path
        with file_lock(self._lock_path(chain)):
            layer = self._find(chain)
            if layer is not None and self.diff_path(chain).is_dir():
                return layer  # another process made it while we waited
            if parent is not None and not self.exists(parent):
                raise StorageError(f"parent layer {parent} is not in the store")
            # We hold the lock: anything on disk for this layer is a crashed attempt's debris.
            self._remove_debris(chain)
            tmp = self.dir / f"{self.layer_dir(chain).name}{_TMP_MARK}{os.urandom(6).hex()}"
            with self.db.transaction() as conn:
                conn.execute(
                    "INSERT INTO layers (chain_id, diff_id, parent, compressed_digest, created, complete, tmp_dir)"
                    " VALUES (?, ?, ?, ?, ?, 0, ?)"
                    " ON CONFLICT(chain_id) DO UPDATE SET complete = 0, tmp_dir = excluded.tmp_dir,"
                    " compressed_digest = coalesce(excluded.compressed_digest, layers.compressed_digest)",
                    (chain, diff_id, parent, compressed_digest, time.time(), tmp.name),
                )
            try:
                os.mkdir(tmp, 0o700)
                diff = tmp / "diff"
                os.mkdir(diff, 0o755)
                size = populate(diff)
                if size is None:
                    size = _tree_size(diff)
                os.rename(tmp, self.layer_dir(chain))
            except BaseException as exc:
                self._discard(chain, tmp)
                if isinstance(exc, OSError):
                    raise StorageError(f"cannot create layer {chain}: {exc.strerror}") from None
                raise
            with self.db.transaction() as conn:
                conn.execute(
                    "UPDATE layers SET complete = 1, size = ?, tmp_dir = NULL WHERE chain_id = ?",
                    (int(size), chain),
                )
            layer = self._find(chain)
        if layer is None:
            raise StorageError(f"layer {chain} vanished while it was being created")
        return layer

    def _remove_debris(self, chain: str) -> None:
        """Delete the temp and final directories of `chain`; caller holds its lock."""
        hex_part = self.layer_dir(chain).name
        try:
            names = [n for n in os.listdir(self.dir) if n.startswith(hex_part + _TMP_MARK)]
        except FileNotFoundError:
            names = []
        for name in names:
            remove_tree(self.dir / name)
        remove_tree(self.layer_dir(chain))

    def _forget(self, chain: str) -> None:
        """Drop an incomplete record; one an image still names stays, marked incomplete."""
        try:
            with self.db.transaction() as conn:
                conn.execute("DELETE FROM layers WHERE chain_id = ? AND complete = 0", (chain,))
        except InUse:
            with self.db.transaction() as conn:
                conn.execute("UPDATE layers SET tmp_dir = NULL WHERE chain_id = ?", (chain,))

    def _discard(self, chain: str, tmp: Path) -> None:
        try:
            remove_tree(tmp)
            self._forget(chain)
        except StorageError:
            pass  # cleanup_incomplete() will finish the job; report the first error

    # --- removing ---
    def remove(self, chain_id: str) -> None:
        """Delete a layer no image and no child layer uses (else InUse)."""
        chain = validate_digest(chain_id)
        lock = self._lock_path(chain)
        with file_lock(lock):
            with self.db.transaction() as conn:
                if conn.execute("SELECT 1 FROM layers WHERE chain_id = ?", (chain,)).fetchone() is None:
                    raise NotFound(f"layer {chain} not known")
                try:
                    conn.execute("DELETE FROM layers WHERE chain_id = ?", (chain,))
                except sqlite3.IntegrityError:
                    raise InUse(f"layer {chain} is in use by an image or another layer") from None
            # The record is gone: a crash here leaves a dir that cleanup_incomplete() removes.
            self._remove_debris(chain)
            remove_lock_file(lock)

    def cleanup_incomplete(self) -> int:
        """Remove what crashed layer creations left behind; returns how many were cleaned.

        Run at the start of storage-mutating commands.  Work whose layer lock is
        held belongs to a live process and is left alone.
        """
        cleaned = 0
        for row in self.db.query("SELECT chain_id FROM layers WHERE complete = 0"):
            cleaned += self._cleanup_one(row["chain_id"])
        try:
            names = os.listdir(self.dir)
        except FileNotFoundError:
            return cleaned
        complete = {row[0] for row in self.db.query("SELECT chain_id FROM layers WHERE complete = 1")}
        for name in names:
            hex_part = name.split(_TMP_MARK)[0]
            if not _HEX_NAME.match(hex_part):
                continue
            chain = f"{'sha256' if len(hex_part) == 64 else 'sha512'}:{hex_part}"
            if _TMP_MARK in name or chain not in complete:
                cleaned += self._cleanup_one(chain)
        return cleaned

    def _cleanup_one(self, chain: str) -> int:
        lock = self._lock_path(chain)
        with file_lock(lock, blocking=False) as acquired:
            if not acquired:
                return 0  # a live process is creating it
            rows = self.db.query("SELECT complete FROM layers WHERE chain_id = ?", (chain,))
            if rows and rows[0][0]:
                # Complete: only stray temp dirs can be debris; the layer itself stays.
                hex_part = self.layer_dir(chain).name
                stray = [n for n in os.listdir(self.dir) if n.startswith(hex_part + _TMP_MARK)]
                for name in stray:
                    remove_tree(self.dir / name)
                return len(stray)
            self._remove_debris(chain)
            if rows:
                self._forget(chain)
                still = self.db.query("SELECT 1 FROM layers WHERE chain_id = ?", (chain,))
            else:
                still = []
            if not still:
                remove_lock_file(lock)
            return 1
