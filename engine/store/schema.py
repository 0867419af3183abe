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
    # 2 - issue 3: containers, named volumes (and which containers use them), secrets.
    """
    CREATE TABLE containers (
        id            TEXT PRIMARY KEY,                 -- 64 hex
        name          TEXT NOT NULL UNIQUE,
        image_id      TEXT REFERENCES images(id),       -- NULL for a --rootfs container
        image_name    TEXT NOT NULL DEFAULT '',         -- what the user asked for, normalised
        created       REAL NOT NULL,
        state         TEXT NOT NULL,                    -- configured|created|running|paused|stopped|exited|removing
        pid           INTEGER NOT NULL DEFAULT 0,
        monitor_pid   INTEGER NOT NULL DEFAULT 0,
        exit_code     INTEGER NOT NULL DEFAULT 0,
        started_at    REAL NOT NULL DEFAULT 0,
        finished_at   REAL NOT NULL DEFAULT 0,
        restart_count INTEGER NOT NULL DEFAULT 0,
        health        TEXT NOT NULL DEFAULT '',         -- '', starting, healthy, unhealthy
        health_log    TEXT NOT NULL DEFAULT '[]',       -- JSON list of the last checks
        failing_streak INTEGER NOT NULL DEFAULT 0,
        stopped_by_user INTEGER NOT NULL DEFAULT 0,     -- restart policies never restart these
        oom_killed    INTEGER NOT NULL DEFAULT 0,
        error         TEXT NOT NULL DEFAULT '',
        pod           TEXT NOT NULL DEFAULT '',
        labels        TEXT NOT NULL DEFAULT '{}',       -- JSON, copied from options for filters
        command       TEXT NOT NULL DEFAULT '[]',       -- JSON argv (entrypoint + cmd) for ps
        options       TEXT NOT NULL DEFAULT '{}',       -- ContainerOptions as JSON
        spec_path     TEXT NOT NULL DEFAULT '',         -- userdata/config.json once generated
        runtime       TEXT NOT NULL DEFAULT '',         -- '' = built-in, else crun/runc/a path
        mounted       INTEGER NOT NULL DEFAULT 0        -- `hull mount` references
    );
    CREATE INDEX containers_image ON containers(image_id);
    CREATE INDEX containers_state ON containers(state);

    CREATE TABLE volumes (
        name        TEXT PRIMARY KEY,
        driver      TEXT NOT NULL DEFAULT 'local',
        mountpoint  TEXT NOT NULL,
        labels      TEXT NOT NULL DEFAULT '{}',
        options     TEXT NOT NULL DEFAULT '{}',
        created     REAL NOT NULL,
        anonymous   INTEGER NOT NULL DEFAULT 0,
        needs_copy_up INTEGER NOT NULL DEFAULT 1,       -- image content not yet copied in
        uid         INTEGER,
        gid         INTEGER
    );

    CREATE TABLE container_volumes (
        container_id TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        volume       TEXT NOT NULL REFERENCES volumes(name),
        destination  TEXT NOT NULL,
        PRIMARY KEY (container_id, destination)
    ) WITHOUT ROWID;
    CREATE INDEX container_volumes_volume ON container_volumes(volume);

    CREATE TABLE secrets (
        id       TEXT PRIMARY KEY,                      -- 25 hex, as Podman
        name     TEXT NOT NULL UNIQUE,
        driver   TEXT NOT NULL DEFAULT 'file',
        labels   TEXT NOT NULL DEFAULT '{}',
        options  TEXT NOT NULL DEFAULT '{}',
        created  REAL NOT NULL,
        updated  REAL NOT NULL
    );
    """,
    # 3 - issue 4: named networks and which containers are attached to them (IPAM).
    """
    CREATE TABLE networks (
        id                TEXT PRIMARY KEY,                 -- 64 hex
        name              TEXT NOT NULL UNIQUE,
        driver            TEXT NOT NULL DEFAULT 'bridge',
        network_interface TEXT NOT NULL UNIQUE,             -- bridge: hull0 (default), hull1, ...
        subnets           TEXT NOT NULL DEFAULT '[]',       -- JSON [{subnet, gateway, lease_range}]
        ipv6_enabled      INTEGER NOT NULL DEFAULT 0,
        internal          INTEGER NOT NULL DEFAULT 0,
        dns_enabled       INTEGER NOT NULL DEFAULT 1,
        labels            TEXT NOT NULL DEFAULT '{}',
        options           TEXT NOT NULL DEFAULT '{}',
        created           REAL NOT NULL
    );

    -- an address is held from container create to container removal (Podman keeps it
    -- across restarts); the container's row going takes its attachments with it
    CREATE TABLE network_attachments (
        network_id     TEXT NOT NULL REFERENCES networks(id),
        container_id   TEXT NOT NULL REFERENCES containers(id) ON DELETE CASCADE,
        ip             TEXT NOT NULL,
        mac            TEXT NOT NULL,
        aliases        TEXT NOT NULL DEFAULT '[]',          -- JSON list
        interface_name TEXT NOT NULL,                       -- eth0, eth1, ... in the container
        seq            INTEGER NOT NULL DEFAULT 0,          -- order the container joined its networks
        PRIMARY KEY (network_id, container_id),
        UNIQUE (network_id, ip)
    ) WITHOUT ROWID;
    CREATE INDEX network_attachments_container ON network_attachments(container_id);
    """,
    # 4 - issue 4: pods (members are the containers whose `pod` column holds the id).
    """
    CREATE TABLE pods (
        id            TEXT PRIMARY KEY,                 -- 64 hex
        name          TEXT NOT NULL UNIQUE,
        created       REAL NOT NULL,
        infra_id      TEXT NOT NULL DEFAULT '',         -- '' for --infra=false
        shared        TEXT NOT NULL DEFAULT '[]',       -- JSON namespaces members join: ipc, net, uts...
        share_parent  INTEGER NOT NULL DEFAULT 1,
        labels        TEXT NOT NULL DEFAULT '{}',
        hostname      TEXT NOT NULL DEFAULT '',
        exit_policy   TEXT NOT NULL DEFAULT 'continue', -- continue|stop
        cgroup_parent TEXT NOT NULL DEFAULT '',
        options       TEXT NOT NULL DEFAULT '{}'        -- JSON: network, ports, dns, add_hosts, infra_*...
    );
    CREATE INDEX containers_pod ON containers(pod);
    """,
    # 5 - --userns=auto id ranges and --uidmap/--gidmap maps of containers (engine/store/idranges.py):
    # one row per container with its own user namespace maps; the row goes with the container.
    """
    CREATE TABLE id_ranges (
        container_id TEXT PRIMARY KEY REFERENCES containers(id) ON DELETE CASCADE,
        uid_start    INTEGER NOT NULL DEFAULT 0,   -- the auto-allocated block (size 0: none)
        uid_size     INTEGER NOT NULL DEFAULT 0,
        gid_start    INTEGER NOT NULL DEFAULT 0,
        gid_size     INTEGER NOT NULL DEFAULT 0,
        uid_maps     TEXT NOT NULL,                -- JSON [[container, host, size], ...]
        gid_maps     TEXT NOT NULL,
        copy_key     TEXT NOT NULL DEFAULT ''      -- rootless: the chowned layer copy it uses
    );
    """,
    # 6 - manifest lists (engine/store/manifest_lists.py): where each entry of a list image came
    # from, so `manifest push --all` can copy it (a local image ID or a docker:// reference).
    """
    CREATE TABLE manifest_instances (
        list_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        digest  TEXT NOT NULL,                     -- the entry's manifest digest
        source  TEXT NOT NULL,                     -- containers-storage:<image id> | docker://<ref>
        PRIMARY KEY (list_id, digest)
    ) WITHOUT ROWID;
    """,
    # 7 - dual-stack networks: a container's IPv6 address on a network (network_attachments.ip
    # keeps the IPv4 one; every network has an IPv4 subnet, as Podman's), unique per network.
    """
    ALTER TABLE network_attachments ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';
    CREATE UNIQUE INDEX network_attachments_ip6 ON network_attachments(network_id, ip6) WHERE ip6 != '';
    """,
    # 8 - later issues append their migrations here.
]

SCHEMA_VERSION = len(MIGRATIONS)
