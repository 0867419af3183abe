"""`healthcheck run`: ask a running container's monitor to run its healthcheck now.

The monitor owns the health state machine (engine/monitor/health.py); running the
check anywhere else would race with its own schedule, so this goes through the
attach socket's "run healthcheck now" request and returns the status it reports.
"""

from __future__ import annotations

from engine.config import EngineConfig
from engine.errors import ContainerNotFound, HullError


def healthcheck_run(cfg: EngineConfig, name: str, timeout: float = 300.0) -> str:
    """Run the healthcheck of container `name` once: "healthy", "unhealthy" or
    "starting" (a failure inside the start period).  Podman's errors."""
    from engine.monitor.attach_client import AttachClient
    from engine.services.common import open_store
    from engine.services.container_state import reconcile
    from engine.store.containers import ContainerState

    store = open_store(cfg)
    try:
        c = reconcile(store, store.containers.lookup(name))
    except ContainerNotFound as err:
        raise ContainerNotFound(f"unable to look up {name} to perform a health check: {err}") from None
    if c.state != ContainerState.RUNNING:
        raise HullError(f"container {c.id} is not running")
    hc = (c.options or {}).get("healthcheck") or {}
    if not hc.get("test") or hc["test"][0] == "NONE" or (c.options or {}).get("no_healthcheck"):
        raise HullError(f"container {c.id} has no defined healthcheck")
    try:
        with AttachClient(store.containers.run_dir(c.id) / "attach") as client:
            answer = client.healthcheck(timeout)
    except OSError as exc:
        raise HullError(f"container {c.id} is not running: its monitor does not answer ({exc.strerror})") from None
    status = str(answer.get("status") or "")
    if not status:
        raise HullError(f"running healthcheck of container {c.id}: "
                        f"{answer.get('output') or 'the container monitor has no healthcheck running'}")
    return status
