"""Secrets: metadata in the state DB, data in `{root}/secrets/<id>` (0600, dir 0700).

The data is read only when a container is created with `--secret` (copied into
its userdata as a 0600 file, or turned into an env var in config.json) and is
never part of any inspect document.  IDs are 25 hex digits, as Podman's.
"""

from __future__ import annotations

import json
import os
import re
import secrets as _secrets
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import Conflict, InvalidArgument, NotFound, StorageError
from engine.store.db import StateDB

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
MAX_SECRET_SIZE = 512000  # Podman's limit
DRIVERS = ("file",)


class SecretNotFound(NotFound):
    pass


@dataclass
class Secret:
    id: str
    name: str
    driver: str
    created: float
    updated: float
    labels: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)


def _row(row: sqlite3.Row) -> Secret:
    return Secret(id=row["id"], name=row["name"], driver=row["driver"], created=row["created"],
                  updated=row["updated"], labels=json.loads(row["labels"]), options=json.loads(row["options"]))


def not_found(text: str) -> SecretNotFound:
    return SecretNotFound(f'no secret with name or id "{text}": no such secret')


class SecretStore:
    def __init__(self, cfg: EngineConfig, db: StateDB) -> None:
        self.cfg = cfg
        self.db = db

    @property
    def dir(self) -> Path:
        return self.cfg.root / "secrets"

    def data_path(self, secret_id: str) -> Path:
        return self.dir / secret_id

    def create(self, name: str, data: bytes, driver: str = "file", labels: dict[str, str] | None = None,
               options: dict[str, str] | None = None, replace: bool = False) -> Secret:
        if not NAME_RE.match(name or "") or len(name) > 253:
            raise InvalidArgument(f"secret name {name!r} must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: invalid secret name")
        if driver not in DRIVERS:
            raise InvalidArgument(f"secret driver {driver!r} is not supported: invalid driver")
        if not data:
            raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
        if len(data) > MAX_SECRET_SIZE:
            raise InvalidArgument("secret data must be larger than 0 and less than 512000 bytes")
        existing = self.db.query("SELECT * FROM secrets WHERE name = ?", (name,))
        if existing and not replace:
            raise Conflict(f"{name}: secret name in use")
        secret_id = existing[0]["id"] if existing else _secrets.token_hex(13)[:25]
        self._write(secret_id, data)
        now = time.time()
        with self.db.transaction() as conn:
            if existing:
                conn.execute("UPDATE secrets SET labels = ?, options = ?, updated = ? WHERE id = ?",
                             (json.dumps(labels or {}, sort_keys=True), json.dumps(options or {}, sort_keys=True),
                              now, secret_id))
            else:
                conn.execute("INSERT INTO secrets (id, name, driver, labels, options, created, updated) "
                             "VALUES (?,?,?,?,?,?,?)",
                             (secret_id, name, driver, json.dumps(labels or {}, sort_keys=True),
                              json.dumps(options or {}, sort_keys=True), now, now))
        return self.get(secret_id)

    def _write(self, secret_id: str, data: bytes) -> None:
        try:
            self.dir.mkdir(mode=0o700, exist_ok=True)
            tmp = self.dir / f".{secret_id}.tmp"
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            try:
                os.fchmod(fd, 0o600)
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(tmp, self.data_path(secret_id))
        except OSError as exc:
            raise StorageError(f"writing secret data: {exc.strerror}") from None

    def get(self, secret_id: str) -> Secret:
        rows = self.db.query("SELECT * FROM secrets WHERE id = ?", (secret_id,))
        if not rows:
            raise not_found(secret_id)
        return _row(rows[0])

    def lookup(self, text: str) -> Secret:
        """Name, full ID, then a unique ID prefix."""
        rows = self.db.query("SELECT * FROM secrets WHERE name = ? OR id = ?", (text, text))
        if rows:
            return _row(rows[0])
        if text and re.fullmatch(r"[0-9a-f]+", text):
            rows = self.db.query("SELECT * FROM secrets WHERE id >= ? AND id < ? LIMIT 2", (text, text + "g"))
            if len(rows) == 1:
                return _row(rows[0])
            if len(rows) > 1:
                raise InvalidArgument(f"more than one result secret with prefix {text}: secret is ambiguous")
        raise not_found(text)

    def exists(self, text: str) -> bool:
        try:
            self.lookup(text)
            return True
        except SecretNotFound:
            return False

    def list(self) -> list[Secret]:
        return [_row(r) for r in self.db.query("SELECT * FROM secrets ORDER BY created, name")]

    def read_data(self, secret: Secret) -> bytes:
        try:
            fd = os.open(self.data_path(secret.id), os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as exc:
            raise StorageError(f"reading secret {secret.name}: {exc.strerror}") from None
        with open(fd, "rb") as f:
            return f.read(MAX_SECRET_SIZE + 1)

    def remove(self, text: str) -> Secret:
        secret = self.lookup(text)
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM secrets WHERE id = ?", (secret.id,))
        try:
            os.unlink(self.data_path(secret.id))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise StorageError(f"removing secret data: {exc.strerror}") from None
        return secret
