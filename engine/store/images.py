"""ImageStore: image records, their names (tags) and the manifest digests they go by.

An image's id is its config digest.  Names are full references
("docker.io/library/busybox:latest"); a name belongs to one image at a time, so
adding or tagging a name another image holds moves it, and the other image stays,
dangling if that was its last name - as Podman does.  Short names are the
caller's business (services normalise them into candidates for
`lookup_candidates`); this store matches ids, id prefixes and exact names.
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable
from engine.record import Factory, Record
from datetime import datetime, timezone
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import ImageNotFound, InUse, InvalidArgument, StorageError
from engine.oci.digest import validate_digest
from engine.store.blobs import BlobStore
from engine.store.db import StateDB
from engine.store.layers import LayerStore

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
# Same cap as engine/oci/manifest.py applies when a config is first parsed.
MAX_CONFIG_SIZE = 4 * 1024 * 1024
MIN_ID_PREFIX = 3

_HEX = re.compile(r"^[a-f0-9]+$")

# Checks that an image is still used; each gets the open write transaction and
# an image id and returns what uses it ("container 3f2a...") or None.  Later
# issues (containers, pods) register theirs with `ImageStore.add_user_check`.
UserCheck = Callable[[sqlite3.Connection, str], "str | None"]
_user_checks: list[UserCheck] = []

# One statement for get/list: the image rows with their names and digests folded in.
_SELECT = """
SELECT i.id, i.digest, i.manifest_media_type, i.layers, i.size, i.created, i.stored,
  (SELECT json_group_array(name) FROM
     (SELECT name FROM image_names WHERE image_id = i.id ORDER BY added, rowid)) AS names,
  (SELECT json_group_array(digest) FROM image_digests WHERE image_id = i.id) AS digests
FROM images AS i
"""


def load_config(blobs: BlobStore, config_digest: str) -> dict[str, Any]:
    data = blobs.read_bytes(config_digest, MAX_CONFIG_SIZE)
    try:
        doc = json.loads(data)
    except ValueError:
        raise StorageError(f"config {config_digest} is not valid JSON") from None
    if not isinstance(doc, dict):
        raise StorageError(f"config {config_digest} is not a JSON object")
    return doc


def repository_of(name: str) -> str:
    """`registry/repo` of a full reference, without its tag and digest."""
    name = name.partition("@")[0]
    colon, slash = name.rfind(":"), name.rfind("/")
    return name[:colon] if colon > slash else name


def parse_created(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        created = datetime.fromisoformat(value)
    except ValueError:
        return None
    return created if created.tzinfo else created.replace(tzinfo=timezone.utc)


class Image(Record):
    id: str
    names: list[str]
    digest: str
    manifest_media_type: str
    layers: list[str]
    size: int
    created: datetime | None
    stored: datetime
    digests: list[str] = Factory(list)  # every manifest digest, `digest` first
    _blobs: BlobStore | None = None
    _config: dict[str, Any] | None = None

    @property
    def config(self) -> dict[str, Any]:
        """The parsed image config, read from its blob on first use."""
        if self._config is None:
            if self._blobs is None:
                raise StorageError(f"image {self.id} has no content store to read its config from")
            self._config = load_config(self._blobs, self.id)
        return self._config

    @property
    def short_id(self) -> str:
        return self.id.partition(":")[2][:12]

    @property
    def top_layer(self) -> str | None:
        return self.layers[-1] if self.layers else None

    @property
    def repo_digests(self) -> list[str]:
        """`repository@digest` for each repository it is named in and each manifest digest."""
        repos = list(dict.fromkeys(repository_of(n) for n in self.names))
        return [f"{repo}@{digest}" for repo in repos for digest in self.digests]


class ImageStore:
    def __init__(self, cfg: EngineConfig, db: StateDB, blobs: BlobStore, layers: LayerStore) -> None:
        self.cfg = cfg
        self.db = db
        self.blobs = blobs
        self.layer_store = layers

    @staticmethod
    def add_user_check(check: UserCheck) -> None:
        if check not in _user_checks:
            _user_checks.append(check)

    # --- reading ---
    def _image(self, row: sqlite3.Row) -> Image:
        digests = json.loads(row["digests"])
        digests.sort(key=lambda d: (d != row["digest"], d))
        return Image(
            id=row["id"],
            names=json.loads(row["names"]),
            digest=row["digest"],
            manifest_media_type=row["manifest_media_type"],
            layers=json.loads(row["layers"]),
            size=row["size"],
            created=parse_created(row["created"]),
            stored=datetime.fromtimestamp(row["stored"], timezone.utc),
            digests=digests,
            _blobs=self.blobs,
        )

    def _by_id(self, image_id: str) -> Image | None:
        rows = self.db.query(_SELECT + "WHERE i.id = ?", (image_id,))
        return self._image(rows[0]) if rows else None

    def get(self, image_id: str) -> Image:
        image = self._by_id(image_id)
        if image is None:
            raise ImageNotFound(f"{image_id}: image not known")
        return image

    def exists(self, name_or_id: str) -> bool:
        try:
            self.lookup(name_or_id)
            return True
        except ImageNotFound:
            return False

    def list(self) -> list[Image]:
        """Every image, newest stored first, in one query."""
        return [self._image(row) for row in self.db.query(_SELECT + "ORDER BY i.stored DESC")]

    def _find(self, text: str) -> Image | None:
        hex_part = text[len("sha256:"):] if text.startswith("sha256:") else text
        is_hex = bool(_HEX.match(hex_part))
        if is_hex and len(hex_part) == 64:
            image = self._by_id("sha256:" + hex_part)
            if image is not None:
                return image
        rows = self.db.query(_SELECT + "WHERE i.id = (SELECT image_id FROM image_names WHERE name = ?)", (text,))
        if rows:
            return self._image(rows[0])
        if "@" in text:
            image = self._by_repo_digest(text)
            if image is not None:
                return image
        if is_hex and MIN_ID_PREFIX <= len(hex_part) < 64:
            low = "sha256:" + hex_part
            rows = self.db.query(
                _SELECT + "WHERE i.id >= ? AND i.id < ? ORDER BY i.id LIMIT 2", (low, low + "g")
            )
            if len(rows) > 1:
                raise InvalidArgument(f"{text}: image ID prefix is ambiguous")
            if rows:
                return self._image(rows[0])
        return None

    def _by_repo_digest(self, text: str) -> Image | None:
        """`repo@digest` names the image pulled with that manifest under that repository."""
        base, _, digest = text.rpartition("@")
        repo = repository_of(base)
        rows = self.db.query(
            _SELECT + "WHERE i.id IN (SELECT image_id FROM image_digests WHERE digest = ?) ORDER BY i.stored DESC",
            (digest,),
        )
        for row in rows:
            image = self._image(row)
            if any(repository_of(n) == repo for n in image.names):
                return image
        return None

    def lookup(self, name_or_id: str) -> Image:
        """By full id (with or without "sha256:"), exact full name, repo@digest, or id prefix."""
        image = self._find(name_or_id.strip())
        if image is None:
            raise ImageNotFound(f"{name_or_id}: image not known")
        return image

    def lookup_candidates(self, candidates: Iterable[str]) -> Image:
        """The first of several candidate names/ids that is stored (short-name resolution)."""
        candidates = list(candidates)
        for text in candidates:
            image = self._find(text.strip())
            if image is not None:
                return image
        raise ImageNotFound(f"{candidates[0] if candidates else ''}: image not known")

    # --- writing ---
    def add(
        self,
        config_digest: str,
        manifest_digest: str,
        layers: list[str],
        names: Iterable[str] = (),
        manifest_media_type: str = OCI_MANIFEST,
        digests: Iterable[str] = (),
    ) -> Image:
        """Record an image whose config blob and layers are stored; merge if it exists.

        `digests` are further manifest digests it is known by (e.g. the index it
        was chosen from).  Names held by other images move to this one.
        """
        image_id = validate_digest(config_digest)
        validate_digest(manifest_digest)
        all_digests = [manifest_digest, *(validate_digest(d) for d in digests)]
        names = [_check_name(n) for n in names]
        chain = [validate_digest(c) for c in layers]
        config = load_config(self.blobs, image_id)
        created = config.get("created")
        now = time.time()
        with self.db.transaction() as conn:
            size = _check_chain(conn, chain)
            conn.execute(
                "INSERT INTO images (id, digest, manifest_media_type, top_layer, layers, size, created, stored)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
                (image_id, manifest_digest, manifest_media_type, chain[-1] if chain else None,
                 json.dumps(chain), size, created if isinstance(created, str) else None, now),
            )
            conn.executemany(
                "INSERT INTO image_digests (image_id, digest) VALUES (?, ?) ON CONFLICT DO NOTHING",
                [(image_id, d) for d in all_digests],
            )
            _set_names(conn, image_id, names, now)
        image = self.get(image_id)
        image._config = config
        return image

    def tag(self, image_id: str, name: str) -> None:
        """Give `name` to the image (moving it from whichever image had it)."""
        name = _check_name(name)
        with self.db.transaction() as conn:
            _require(conn, image_id)
            _set_names(conn, image_id, [name], time.time())

    def untag(self, image_id: str, name: str | None = None) -> None:
        """Take `name` (or, with None, every name) off the image."""
        with self.db.transaction() as conn:
            _require(conn, image_id)
            if name is None:
                conn.execute("DELETE FROM image_names WHERE image_id = ?", (image_id,))
                return
            cur = conn.execute("DELETE FROM image_names WHERE image_id = ? AND name = ?", (image_id, name))
            if cur.rowcount == 0:
                raise ImageNotFound(f"{name}: tag not known")

    def remove(self, image_id: str) -> Image:
        """Delete the image record (names and digests go with it).

        Refuses with InUse while a registered user check names a user.  Blobs and
        layers stay until gc, which rmi runs next.
        """
        image = self.get(image_id)
        with self.db.transaction() as conn:
            _require(conn, image_id)
            for check in _user_checks:
                user = check(conn, image_id)
                if user:
                    raise InUse(f"image used by {user}: image is in use by a container: "  # c/storage + libimage
                                "consider listing external containers and force-removing image")
            conn.execute("DELETE FROM images WHERE id = ?", (image_id,))
        return image


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not name or any(c.isspace() for c in name) or "/" not in name:
        raise InvalidArgument(f"invalid image name {name!r}: expected a full reference")
    return name


def _require(conn: sqlite3.Connection, image_id: str) -> None:
    if conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone() is None:
        raise ImageNotFound(f"{image_id}: image not known")


def _set_names(conn: sqlite3.Connection, image_id: str, names: list[str], now: float) -> None:
    conn.executemany(
        "INSERT INTO image_names (name, image_id, added) VALUES (?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added = excluded.added"
        " WHERE image_id != excluded.image_id",
        [(name, image_id, now) for name in names],
    )


def _check_chain(conn: sqlite3.Connection, chain: list[str]) -> int:
    """Every layer complete, each the child of the one below; returns the total size."""
    total = 0
    parent = None
    for chain_id in chain:
        row = conn.execute(
            "SELECT parent, size, complete FROM layers WHERE chain_id = ?", (chain_id,)
        ).fetchone()
        if row is None or not row["complete"]:
            raise StorageError(f"layer {chain_id} is not in the store")
        if row["parent"] != parent:
            raise StorageError(f"layer {chain_id} does not sit on {parent or 'nothing'}")
        total += row["size"]
        parent = chain_id
    return total
