"""`hull update`: change a container's resource limits (live, through its runtime),
restart policy and healthcheck.

The new values are stored with the container (its options in the DB and the
`linux.resources` of its config.json, so the next start uses them too); a running
container's cgroup is updated through the OCI runtime.  Where this host gives
the container no cgroup to change (rootless without delegation, the v1/v2
hybrid), the limit is recorded and a warning says it is not enforced.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.config import EngineConfig
from engine.errors import HullError, InvalidArgument, StorageError
from engine.services.common import enter_userns
from engine.services.container_fs import live_proc, lookup


@dataclass
class UpdateOptions:
    resources: Any = None        # engine.spec.options.Resources (None fields: unchanged)
    restart: Any = None          # engine.spec.options.RestartPolicy
    healthcheck: Any = None      # engine.spec.options.HealthConfig


def _set(values: Any) -> dict[str, Any]:
    """The fields a Resources (or dict) actually sets."""
    if values is None:
        return {}
    raw = dataclasses.asdict(values) if dataclasses.is_dataclass(values) else dict(values)
    return {k: v for k, v in raw.items() if v not in (None, "", False)}


def oci_resources(res: dict[str, Any]) -> dict[str, Any]:
    """Resources fields -> an OCI `linux.resources` fragment."""
    out: dict[str, Any] = {}
    memory = {k2: res[k1] for k1, k2 in (("memory", "limit"), ("memory_reservation", "reservation"),
                                         ("memory_swap", "swap")) if k1 in res}
    if memory:
        out["memory"] = memory
    cpu: dict[str, Any] = {}
    if "cpus" in res:
        period = int(res.get("cpu_period") or 100000)
        cpu["period"], cpu["quota"] = period, int(float(res["cpus"]) * period)
    for k1, k2 in (("cpu_shares", "shares"), ("cpu_period", "period"), ("cpu_quota", "quota"),
                   ("cpuset_cpus", "cpus"), ("cpuset_mems", "mems")):
        if k1 in res:
            cpu[k2] = res[k1]
    if cpu:
        out["cpu"] = cpu
    if "pids_limit" in res:
        out["pids"] = {"limit": res["pids_limit"] if res["pids_limit"] > 0 else -1}
    return out


def _merge(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    for key, value in src.items():
        if isinstance(value, dict) and isinstance(dst.get(key), dict):
            _merge(dst[key], value)
        else:
            dst[key] = value
    return dst


def _rewrite_spec(path: Path, fragment: dict[str, Any]) -> None:
    try:
        spec = json.loads(path.read_text())
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        raise StorageError(f"cannot read {path}: {exc}") from None
    linux = spec.setdefault("linux", {})
    linux["resources"] = _merge(linux.get("resources") or {}, fragment)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(spec, indent=2))
    os.replace(tmp, path)


def _to_jsonable(value: Any) -> Any:
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else value


def update(cfg: EngineConfig, name: str, opts: UpdateOptions) -> Any:
    """Apply the update; returns the container record."""
    res = _set(opts.resources)
    if not res and opts.restart is None and opts.healthcheck is None:
        raise InvalidArgument("no changes requested: must specify at least one option")
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    options = dict(container.options or {})
    if res:
        options["resources"] = {**(options.get("resources") or {}), **res}
    if opts.restart is not None:
        options["restart"] = _to_jsonable(opts.restart)
    if opts.healthcheck is not None:
        options["healthcheck"] = _to_jsonable(opts.healthcheck)
    fragment = oci_resources(res)
    if fragment:
        spec_path = Path(container.spec_path) if container.spec_path else (
            store.containers.userdata(container.id) / "config.json")
        _rewrite_spec(spec_path, fragment)
    container = store.containers.update(container.id, options=options)
    if fragment:
        with live_proc(store, container) as live:
            running = live is not None
        if running:
            _apply_live(cfg, container, fragment)
    return container


def _apply_live(cfg: EngineConfig, container: Any, fragment: dict[str, Any]) -> None:
    from engine.runtime.base import get_runtime

    try:
        get_runtime(container.runtime or None, cfg.runroot).update(container.id, fragment)
    except HullError as exc:
        # No cgroup to change here (rootless, hybrid hierarchy): recorded, not enforced.
        sys.stderr.write(f"WARNING: resource limits of {container.id[:12]} recorded but not "
                         f"applied to the running container: {exc}\n")
