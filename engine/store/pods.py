"""Pod records: one row per pod in the state DB (`pods` table, schema.py).

A pod is a name, an id, the namespaces its containers share and the options its
infra container was made from; its members are the container rows whose `pod`
column holds the pod's id.  The pod's status is never stored: it is derived from
its members' states (engine/services/pods.py), so it can never disagree with them.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, InvalidArgument, PodNotFound
from engine.record import Factory, Record
from engine.store.db import StateDB

NAME_RE = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
ID_RE = re.compile(r"^[0-9a-f]{64}$")
NAMESPACES = ("cgroup", "ipc", "net", "pid", "uts")
DEFAULT_SHARE = ("ipc", "net", "uts")
EXIT_POLICIES = ("continue", "stop")


class Pod(Record):
    id: str
    name: str
    created: float
    infra_id: str = ""                            # "" for --infra=false pods
    shared: list[str] = Factory(list)             # namespaces members join (through the infra)
    share_parent: bool = True                     # members use the pod's cgroup parent
    labels: dict[str, str] = Factory(dict)
    hostname: str = ""
    exit_policy: str = "continue"
    cgroup_parent: str = ""
    options: dict[str, Any] = Factory(dict)       # network, ports, dns, add_hosts, infra_* ...

    @property
    def short_id(self) -> str:
        return self.id[:12]


def _row(row: sqlite3.Row) -> Pod:
    return Pod(id=row["id"], name=row["name"], created=row["created"], infra_id=row["infra_id"],
               shared=json.loads(row["shared"]), share_parent=bool(row["share_parent"]),
               labels=json.loads(row["labels"]), hostname=row["hostname"], exit_policy=row["exit_policy"],
               cgroup_parent=row["cgroup_parent"], options=json.loads(row["options"]))


def pod_not_found(text: str) -> PodNotFound:
    return PodNotFound(f"no pod with name or ID {text} found: no such pod")


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise InvalidArgument(f"names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*: {name!r}: invalid argument")
    return name


class PodStore:
    def __init__(self, cfg: EngineConfig, db: StateDB) -> None:
        self.cfg = cfg
        self.db = db

    def new_id(self) -> str:
        while True:
            pid = os.urandom(32).hex()
            if not pid[:12].isdigit():
                return pid

    def create(self, name: str | None, *, shared: list[str], share_parent: bool = True,
               labels: dict[str, str] | None = None, hostname: str = "", exit_policy: str = "continue",
               cgroup_parent: str = "", options: dict[str, Any] | None = None,
               pod_id: str | None = None) -> Pod:
        """Record a new pod (no infra yet: `set_infra` once its container exists)."""
        from engine.store.containers import random_name

        pod_id = pod_id or self.new_id()
        if not ID_RE.match(pod_id):
            raise InvalidArgument(f"invalid pod ID {pod_id!r}")
        if exit_policy not in EXIT_POLICIES:
            raise InvalidArgument(f'invalid pod exit policy: "{exit_policy}"')
        with self.db.transaction() as conn:
            if name is None:
                for _ in range(100):
                    name = random_name()
                    if not conn.execute("SELECT 1 FROM pods WHERE name = ?", (name,)).fetchone():
                        break
                else:
                    name = f"{random_name()}_{os.urandom(3).hex()}"
            check_name(name)
            taken = conn.execute("SELECT id FROM pods WHERE name = ?", (name,)).fetchone()
            if taken is not None:
                raise Conflict(f'adding pod to state: name "{name}" is in use: pod already exists')
            conn.execute(
                "INSERT INTO pods (id, name, created, shared, share_parent, labels, hostname, exit_policy, "
                "cgroup_parent, options) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (pod_id, name, time.time(), json.dumps(list(shared)), int(share_parent),
                 json.dumps(labels or {}, sort_keys=True), hostname, exit_policy, cgroup_parent,
                 json.dumps(options or {}, sort_keys=True)))
        return self.get(pod_id)

    def set_infra(self, pod_id: str, infra_id: str) -> Pod:
        with self.db.transaction() as conn:
            conn.execute("UPDATE pods SET infra_id = ? WHERE id = ?", (infra_id, pod_id))
        return self.get(pod_id)

    def delete(self, pod_id: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM pods WHERE id = ?", (pod_id,))

    # --- reading ---
    def get(self, pod_id: str) -> Pod:
        rows = self.db.query("SELECT * FROM pods WHERE id = ?", (pod_id,))
        if not rows:
            raise pod_not_found(pod_id)
        return _row(rows[0])

    def lookup(self, text: str) -> Pod:
        """Exact name, full ID, then a unique ID prefix (Podman's order)."""
        if not text:
            raise pod_not_found('""')
        rows = self.db.query("SELECT * FROM pods WHERE name = ? OR id = ?", (text, text))
        if rows:
            by_name = [r for r in rows if r["name"] == text]
            return _row(by_name[0] if by_name else rows[0])
        if re.fullmatch(r"[0-9a-f]+", text):
            rows = self.db.query("SELECT * FROM pods WHERE id >= ? AND id < ? LIMIT 2", (text, text + "g"))
            if len(rows) == 1:
                return _row(rows[0])
            if len(rows) > 1:
                raise InvalidArgument(f"more than one result for pod ID {text}")
        raise pod_not_found(text)

    def exists(self, text: str) -> bool:
        try:
            self.lookup(text)
            return True
        except PodNotFound:
            return False

    def list(self) -> list[Pod]:
        """All pods, newest first."""
        return [_row(r) for r in self.db.query("SELECT * FROM pods ORDER BY created DESC, rowid DESC")]

    def names(self) -> dict[str, str]:
        """{pod id: name} (ps --pod)."""
        return {r[0]: r[1] for r in self.db.query("SELECT id, name FROM pods")}

    def infra_of(self, cid: str) -> Pod | None:
        """The pod whose infra container is `cid`, if any."""
        rows = self.db.query("SELECT * FROM pods WHERE infra_id = ?", (cid,))
        return _row(rows[0]) if rows else None

    def member_ids(self, pod_id: str) -> list[str]:
        """Member containers (infra included), oldest first."""
        return [r[0] for r in self.db.query("SELECT id FROM containers WHERE pod = ? ORDER BY created, rowid",
                                            (pod_id,))]


__all__ = ["Pod", "PodStore", "NAMESPACES", "DEFAULT_SHARE", "EXIT_POLICIES", "pod_not_found", "check_name"]
