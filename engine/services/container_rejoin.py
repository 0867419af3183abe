"""`container:X` dependents after X started again.

A dependent joined X's namespaces through /proc/<X's init>/ns/<type> when it
started.  When X runs again (`hull restart X`, or its restart policy), X may be in
new namespaces: a stop tears down a pasta/bridge netns, and ipc, uts, pid and a
private network are made anew by the runtime at every start.  A dependent left
alone would keep the dead ones silently (no network, another hostname).  As Podman
restarts the containers that depend on a restarted one, `rejoin` restarts each
running dependent whose joined namespaces are no longer X's; a dependent whose
namespaces are still X's (a restart by policy keeps the netns file) is left as is.
"""

from __future__ import annotations

import os
from typing import Any

from engine.errors import HullError
from engine.network.lifecycle import SHARED, _container_target, dependents

_PROC = {"network": "net", "ipc": "ipc", "uts": "uts", "pid": "pid"}


def _ns_ino(pid: int, nstype: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/{_PROC[nstype]}").st_ino
    except OSError:
        return None


def stale_joins(store: Any, dep: Any, target: Any) -> list[str]:
    """Namespace types `dep` joins from `target` that are not `target`'s any more."""
    from engine.services.container_state import container_process

    mine, theirs = container_process(store, dep), container_process(store, target)
    if mine is None:
        return []
    out = []
    for nstype, key, arg_key in SHARED:
        if _container_target(dep.options or {}, key, arg_key) != target.id:
            continue
        now = _ns_ino(theirs[0], nstype) if theirs else None
        if now is None or _ns_ino(mine[0], nstype) != now:
            out.append(nstype)
    return out


def rejoin(cfg: Any, store: Any, cid: str, timeout: int | None = None) -> list[str]:
    """Restart the running dependents of `cid` that keep namespaces it left; returns
    their names.  Each goes through the ordinary stop + start (its setup re-joins)."""
    from engine.services import containers as svc
    from engine.services.container_state import reconcile
    from engine.services.events import container_event

    try:
        target = store.containers.get(cid)
    except HullError:
        return []
    done = []
    for name in dependents(store, cid):
        try:
            dep = reconcile(store, store.containers.lookup(name))
        except HullError:
            continue
        if not dep.state.active or not stale_joins(store, dep, target):
            continue
        dep = svc._stop_one(cfg, store, dep, timeout)
        svc._start_one(cfg, store, store.containers.get(dep.id))
        container_event(cfg, "restart", store.containers.get(dep.id))
        done.append(dep.name)
    return done


__all__ = ["rejoin", "stale_joins"]
