"""The state database schema, as an append-only list of migrations.

`PRAGMA user_version` holds how many migrations a database has had.  A later
issue that needs a table (containers, volumes, pods, ...) APPENDS a migration
here; never edit one that has shipped, since existing databases already ran it.

Digests and chain ids are stored in full ("sha256:<hex>").  Times are Unix
seconds (REAL).  Foreign keys are on for every connection (db.py), so a layer
cannot vanish from under an image or a child layer, and deleting an image takes
its names and digests with it.
"""

from __future__ import annotations

MIGRATIONS: list[str] = [
    # 1 - issue 2: layers, images, their names and manifest digests.
    """
    CREATE TABLE layers (
        chain_id          TEXT PRIMARY KEY,
        diff_id           TEXT NOT NULL,
        parent            TEXT REFERENCES layers(chain_id),
        size              INTEGER NOT NULL DEFAULT 0,
        compressed_digest TEXT,
        created           REAL NOT NULL,
        -- 0 until populate() finished and the directory is in place
        complete          INTEGER NOT NULL DEFAULT 0,
        -- the directory populate() is filling, so cleanup can find it
        tmp_dir           TEXT
    );
    CREATE INDEX layers_parent ON layers(parent);
    CREATE INDEX layers_incomplete ON layers(complete) WHERE complete = 0;

    CREATE TABLE images (
        id                  TEXT PRIMARY KEY,       -- config digest
        digest              TEXT NOT NULL,          -- manifest digest
        manifest_media_type TEXT NOT NULL,
        top_layer           TEXT REFERENCES layers(chain_id),
        layers              TEXT NOT NULL,          -- JSON list of chain ids, bottom first
        size                INTEGER NOT NULL,
        created             TEXT,                   -- config "created", as written there
        stored              REAL NOT NULL
    );
    CREATE INDEX images_top_layer ON images(top_layer);

    CREATE TABLE image_names (
        name     TEXT PRIMARY KEY,                  -- full reference, e.g. docker.io/library/busybox:latest
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        added    REAL NOT NULL
    );
    CREATE INDEX image_names_image ON image_names(image_id);

    -- every manifest digest the image is known by (its manifest, the index it came from)
    CREATE TABLE image_digests (
        image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        digest   TEXT NOT NULL,
        PRIMARY KEY (image_id, digest)
    ) WITHOUT ROWID;
    CREATE INDEX image_digests_digest ON image_digests(digest);
    """,
    # 2 - containers, volumes... : later issues append their migrations here.
]

SCHEMA_VERSION = len(MIGRATIONS)
