"""StateDB: pragmas, migrations by user_version, transactions, error translation."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.errors import InUse, StorageError
from engine.store import schema
from engine.store.db import StateDB


def test_new_database_is_wal_with_current_schema(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    conn = db.read()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema.SCHEMA_VERSION >= 1
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 30000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"layers", "images", "image_names", "image_digests"} <= tables


def test_current_schema_is_not_touched_on_open(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    StateDB(path).read()
    statements: list[str] = []
    db = StateDB(path)
    original = db._connect

    def traced() -> sqlite3.Connection:
        conn = original()
        conn.set_trace_callback(statements.append)
        return conn

    db._connect = traced  # type: ignore[method-assign]
    db.query("SELECT count(*) FROM images")
    assert statements == ["PRAGMA user_version", "SELECT count(*) FROM images"]


def test_later_migration_is_applied_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "state.db"
    StateDB(path).read()
    more = [*schema.MIGRATIONS, "CREATE TABLE later_things (id TEXT PRIMARY KEY);"]
    monkeypatch.setattr("engine.store.db.MIGRATIONS", more)
    monkeypatch.setattr("engine.store.db.SCHEMA_VERSION", len(more))
    db = StateDB(path)
    assert db.query("PRAGMA user_version")[0][0] == len(more)
    assert db.query("SELECT count(*) FROM later_things")[0][0] == 0
    # a second open does not run it again (CREATE TABLE would fail if it did)
    assert StateDB(path).query("SELECT count(*) FROM later_things")[0][0] == 0


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version={schema.SCHEMA_VERSION + 5}")
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        StateDB(path).read()


def test_transaction_commits_and_rolls_back(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    with db.transaction() as conn:
        conn.execute("INSERT INTO images (id, digest, manifest_media_type, layers, size, stored)"
                     " VALUES ('a', 'd', 'm', '[]', 0, 0)")
    with pytest.raises(RuntimeError):
        with db.transaction() as conn:
            conn.execute("INSERT INTO images (id, digest, manifest_media_type, layers, size, stored)"
                         " VALUES ('b', 'd', 'm', '[]', 0, 0)")
            raise RuntimeError("boom")
    assert [r[0] for r in db.query("SELECT id FROM images")] == ["a"]
    assert not db.read().in_transaction


def test_nested_transaction_is_a_savepoint(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    insert = ("INSERT INTO images (id, digest, manifest_media_type, layers, size, stored)"
              " VALUES (?, 'd', 'm', '[]', 0, 0)")
    with db.transaction() as conn:
        conn.execute(insert, ("outer",))
        with pytest.raises(ValueError):
            with db.transaction() as inner:
                inner.execute(insert, ("inner",))
                raise ValueError
        with db.transaction() as inner:
            inner.execute(insert, ("kept",))
    assert sorted(r[0] for r in db.query("SELECT id FROM images")) == ["kept", "outer"]


def test_sqlite_errors_become_storage_errors(tmp_path: Path) -> None:
    db = StateDB(tmp_path / "state.db")
    with pytest.raises(StorageError, match="no such table"):
        db.query("SELECT * FROM nothing_here")
    with pytest.raises(StorageError, match="UNIQUE"):
        with db.transaction() as conn:
            conn.execute("INSERT INTO layers (chain_id, diff_id, created) VALUES ('x', 'x', 0)")
            conn.execute("INSERT INTO layers (chain_id, diff_id, created) VALUES ('x', 'x', 0)")
    with pytest.raises(InUse):
        with db.transaction() as conn:
            conn.execute("INSERT INTO layers (chain_id, diff_id, parent, created) VALUES ('y', 'y', 'missing', 0)")


def test_corrupt_database_file_is_a_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StorageError) as info:
        StateDB(path).read()
    assert "\n" not in str(info.value)
