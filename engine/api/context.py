"""The engine configuration (and store) of the connection being served.

The service's parent builds nothing: each forked child asks for the
configuration here, and enters Hull's user namespace on first use (rootless),
while it is still single-threaded.  `warm_up()` does that ahead of time in the
service's spare child (engine/api/server.py), before its connection arrives.
"""

from __future__ import annotations

import gc
import json
import os
from typing import Any, Callable

_factory: Callable[[], Any] | None = None
_config: Any = None
_store: Any = None
_store_inode: tuple[int, int] | None = None


def set_factory(factory: Callable[[], Any]) -> None:
    global _factory, _config, _store
    _factory, _config, _store = factory, None, None


def config() -> Any:
    """The EngineConfig, with the user namespace entered (rootless)."""
    global _config
    if _config is None:
        if _factory is None:
            raise RuntimeError("API context used outside a connection")
        from engine.services.common import enter_userns

        cfg = _factory()
        enter_userns(cfg)
        _config = cfg
    return _config


def _db_inode(path: Any) -> tuple[int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_dev, st.st_ino


def store() -> Any:
    """This process's Store, opened once and kept while its database file is the same
    one (a `system reset` in between makes a new file: then a fresh Store)."""
    global _store, _store_inode
    if _store is not None:
        inode = _db_inode(_store.cfg.db_path)
        if _store_inode is None:
            _store_inode = inode  # the file did not exist yet when the Store was opened
        if inode == _store_inode:
            return _store
        _store.close()
    from engine.services.common import open_store

    _store = open_store(config())
    _store_inode = _db_inode(_store.cfg.db_path)
    return _store


def warm_up() -> int | None:
    """Enter the user namespace, connect to the state database and read the container
    rows and their summaries once now, so the next request starts with all three done:
    the store keeps the decoded rows while the database is unchanged (ContainerStore.
    listing), a forked child's first pass over the listing code copies hundreds of the
    parent's pages, half the time of a container list (`docker ps`, what clients ask
    most), and sqlite's page cache gets filled.  Read-only: no reconcile (it may write),
    and nothing is created: a store or pause process that is not there (yet, or after
    a reset) is left to the request to make.  Errors are left for the request to meet
    (and report to its client).  Returns the pid of the pause process joined, if any."""
    try:
        from engine.runtime.pause import read_pause
        from engine.runtime.userns import needs_userns
        from engine.services.container_list import summarize, watch_active

        cfg = _factory() if _factory is not None else None
        if cfg is None or not cfg.db_path.exists():
            return None
        pause = read_pause(cfg.runroot) if needs_userns() else None
        if needs_userns() and pause is None:
            return None
        s = store()
        # the rows are kept by the store for the request while the database is unchanged;
        # the Docker documents and their JSON are made once to touch that code here
        from engine.api.docker_containers import summary_docs

        rows = s.containers.listing()
        json.dumps(summary_docs(cfg, [summarize(s, c) for c in rows]))
        watch_active(s, rows)  # the request polls the running ones' pidfds instead of reconciling each
        # The cyclic GC leaves all of this (and what the parent made) alone from now on: a
        # collection during the request walked it, a millisecond and pages copied.
        gc.freeze()
        return pause.pid if pause is not None else None
    except Exception:  # noqa: BLE001 - the request retries and answers with the error
        return None
