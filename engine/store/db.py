"""StateDB: the SQLite state database every hull process shares.

WAL lets readers run while one writer commits; `busy_timeout` makes a second
writer wait instead of failing; writers start with BEGIN IMMEDIATE so two of
them never deadlock upgrading read locks.  Opening is cheap: one connection
per thread, made on first use, and the schema is only touched when
`PRAGMA user_version` says it is behind.
"""

from __future__ import annotations

import os
import sqlite3
import _thread  # threading's C core: threading.local and Lock without importing threading (ms at start-up)
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.errors import HullError, InUse, StorageError
from engine.store.schema import MIGRATIONS, SCHEMA_VERSION


def translate(exc: sqlite3.Error, path: Path | str = "state database") -> HullError:
    """One HullError for a sqlite3 error: constraint failures are conflicts."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in text:
        return InUse(f"still in use: {text}")
    return StorageError(f"{path}: {text}")


@contextmanager
def storage_errors(path: Path | str = "state database") -> Iterator[None]:
    """Turn sqlite3 errors raised in the body into StorageError (or InUse)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise translate(exc, path) from None


# Connections inherited across fork(), kept referenced so they are never closed in the child.
_inherited: list[sqlite3.Connection] = []


class StateDB:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = _thread._local()
        self._schema_checked = False
        self._lock = _thread.allocate_lock()

    # --- connections ---
    def _connect(self) -> sqlite3.Connection:
        with storage_errors(self.path):
            conn = sqlite3.connect(
                self.path, timeout=30.0, isolation_level=None, check_same_thread=True
            )
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.row_factory = sqlite3.Row
        return conn

    def _conn(self) -> sqlite3.Connection:
        local = self._local
        conn = getattr(local, "conn", None)
        # A connection must never cross fork(): the child opens its own.
        if conn is None or local.pid != os.getpid():
            if conn is not None:
                _inherited.append(conn)  # closing it here could disturb the parent's locks
            conn = self._connect()
            local.conn, local.pid, local.depth = conn, os.getpid(), 0
            if not self._schema_checked:
                with self._lock:
                    if not self._schema_checked:
                        self._migrate(conn)
                        self._schema_checked = True
        return conn

    def read(self) -> sqlite3.Connection:
        """This thread's connection; each statement outside a transaction is its own snapshot."""
        return self._conn()

    def query(self, sql: str, params: Any = ()) -> list[sqlite3.Row | tuple]:
        """Run one read statement and return all rows, sqlite errors translated."""
        conn = self._conn()
        with storage_errors(self.path):
            return conn.execute(sql, params).fetchall()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE); nested calls become savepoints."""
        conn = self._conn()
        local = self._local
        depth = local.depth
        savepoint = f"sp{depth}"
        with storage_errors(self.path):
            conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT {savepoint}")
        local.depth = depth + 1
        try:
            yield conn
        except BaseException as exc:
            local.depth = depth
            self._rollback(conn, depth, savepoint)
            if isinstance(exc, sqlite3.Error):
                raise translate(exc, self.path) from None
            raise
        local.depth = depth
        try:
            conn.execute("COMMIT" if depth == 0 else f"RELEASE {savepoint}")
        except sqlite3.Error as exc:
            self._rollback(conn, depth, savepoint)
            raise translate(exc, self.path) from None

    @staticmethod
    def _rollback(conn: sqlite3.Connection, depth: int, savepoint: str) -> None:
        try:
            if depth == 0:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
            else:
                conn.execute(f"ROLLBACK TO {savepoint}")
                conn.execute(f"RELEASE {savepoint}")
        except sqlite3.Error:
            pass  # the original error is the one worth reporting

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            conn.close()
        self._local = _thread._local()

    # --- schema ---
    def _migrate(self, conn: sqlite3.Connection) -> None:
        with storage_errors(self.path):
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version == SCHEMA_VERSION:
                return  # the common case: nothing to do
            if version > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path}: schema version {version} is newer than this Hull knows ({SCHEMA_VERSION})"
                )
        # First use of a database: processes starting together set it up one at a
        # time.  Switching to WAL needs the file to itself, and sqlite answers
        # "database is locked" at once (no busy wait) while another process holds it.
        from engine.store.locks import file_lock

        with file_lock(f"{self.path}.setup-lock"), storage_errors(self.path):
            # Journal mode is stored in the file; it cannot change inside a transaction.
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Re-read under the write lock: another process may have migrated meanwhile.
                version = conn.execute("PRAGMA user_version").fetchone()[0]
                for number in range(version, SCHEMA_VERSION):
                    for statement in _statements(MIGRATIONS[number]):
                        conn.execute(statement)
                if version < SCHEMA_VERSION:
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would COMMIT for us)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        current += line
        if sqlite3.complete_statement(current):
            if current.strip():
                statements.append(current.strip())
            current = ""
    if current.strip():
        statements.append(current.strip())
    return statements
