"""Real engine state for the console's page tests: the per-test HULL_ROOT and
HULL_RUNROOT of conftest.hull_dirs, with busybox loaded, driven through
engine/services in this process (as the console itself does).

Import the fixtures into a test module: `from tests.console.engine_state import engine  # noqa: F401`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fixtures.users import kill_pidfile_processes


@dataclass
class Engine:
    cfg: object
    image_id: str  # hex
    base: Path

    def create(self, name: str, *cmd: str, start: bool = False, **kw: object) -> str:
        """A busybox container without a network (fast); returns its id."""
        from engine.services import containers
        from engine.spec.options import ContainerOptions

        kw.setdefault("stop_timeout", 1)  # sleep as PID 1 ignores SIGTERM: don't wait 10 s to stop
        if "pod" not in kw:  # a pod member takes the pod's network
            kw.setdefault("network", "none")
        opts = ContainerOptions(image="localhost/busybox:latest", name=name, command=list(cmd) or ["sleep", "600"],
                                **kw)
        cid = containers.create(self.cfg, opts).id
        if start:
            containers.start(self.cfg, [cid])
        return cid

    def state(self, ref: str) -> str:
        from engine.services import container_inspect

        return container_inspect.inspect(self.cfg, [ref])[0]["State"]["Status"]

    def exists(self, ref: str) -> bool:
        from engine.services import containers

        return containers.exists(self.cfg, ref)


@pytest.fixture
def engine(hull_dirs: Path, busybox_image) -> Iterator[Engine]:
    if os.geteuid() != 0:
        pytest.skip("the console page tests drive containers as root (the rootless path is the e2e test's)")
    from engine.config import EngineConfig
    from engine.store import Store
    from engine.transports import load_archive

    cfg = EngineConfig()  # HULL_ROOT/HULL_RUNROOT from hull_dirs
    store = Store.open(cfg)
    [image] = load_archive(store, str(busybox_image.cached_archive("oci-archive")))
    store.close()
    yield Engine(cfg, image.id.split(":")[-1], hull_dirs)
    try:
        from engine.services import containers, pods

        pods.remove(cfg, [], force=True, all=True)
        containers.remove(cfg, [], containers.RmOptions(all=True, force=True, volumes=True))
    except Exception:  # noqa: BLE001 - cleanup goes on whatever happened
        pass
    from console import jobs

    jobs.wait_all(60)
    jobs.clear()
    kill_pidfile_processes([hull_dirs / "run"], os.geteuid())
