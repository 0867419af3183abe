"""`hull auto-update`: containers labelled io.containers.autoupdate=registry|local that
run under a systemd unit (label PODMAN_SYSTEMD_UNIT, recorded at create time from the
environment systemd gives the unit) get the newer image and are restarted, as Podman's
pkg/autoupdate.

- registry: the registry's manifest digest for the container's image reference (a HEAD,
  GET when the registry sends no digest) against the digests of the container's image;
  different -> pull.
- local: the local image of that name against the container's image ID.
- restart: `systemctl [--user] restart UNIT` where a systemd manager runs; elsewhere
  (CI, containers: no systemd as PID 1) the container is recreated directly from its
  recorded create options with the new image, as a `--new` unit's ExecStart would.
- rollback: when the restarted unit/container is not up after SETTLE seconds (or exited
  non-zero), the old image gets the name back and the unit/container restarts again.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from typing import Any

from engine.config import EngineConfig
from engine.errors import HullError, InvalidArgument
from engine.services.common import enter_userns, open_store

LABEL = "io.containers.autoupdate"
UNIT_LABEL = "PODMAN_SYSTEMD_UNIT"
POLICIES = ("registry", "local")
SETTLE = 2.0  # seconds a restarted container must stay up (or exit 0) to count as updated


@dataclass
class AutoUpdateOptions:
    dry_run: bool = False
    rollback: bool = True
    authfile: str | None = None
    tls_verify: bool | None = None


@dataclass
class UpdateReport:
    """One row of Podman's table (and its JSON)."""

    Unit: str
    Container: str        # "<id[:12]> (<name>)"
    ContainerName: str
    ContainerID: str
    Image: str
    Policy: str
    Updated: str          # true | false | pending | rolled back | failed


@dataclass
class _Task:
    container: Any
    policy: str
    unit: str
    image_text: str       # the reference the container was created from
    update: bool = False
    report: UpdateReport | None = None
    old_image: str = ""   # the image to roll back to (the container is replaced on restart)


@dataclass
class AutoUpdateResult:
    reports: list[UpdateReport] = field(default_factory=list)
    errors: list[HullError] = field(default_factory=list)
    direct: bool = False  # restarted without systemd (no manager running)


def systemd_running(rootless: bool) -> bool:
    """sd_booted(), and for rootless a user manager (its private socket)."""
    if not os.path.isdir("/run/systemd/system") or shutil.which("systemctl") is None:
        return False
    if rootless:
        xdg = os.environ.get("XDG_RUNTIME_DIR", "")
        return bool(xdg) and os.path.exists(os.path.join(xdg, "systemd", "private"))
    return True


def auto_update(cfg: EngineConfig, opts: AutoUpdateOptions) -> AutoUpdateResult:
    rootless = bool(cfg.rootless)
    use_systemd = systemd_running(rootless)  # decided outside the user namespace
    enter_userns(cfg)
    from engine.services.container_state import reconcile

    store = open_store(cfg)
    result = AutoUpdateResult(direct=not use_systemd)
    tasks: list[_Task] = []
    for c in store.containers.list():
        policy = (c.labels or {}).get(LABEL, "")
        if not policy or policy == "disabled":
            continue
        c = reconcile(store, c)
        if c.state.value != "running":  # Podman updates running containers only
            continue
        try:
            tasks.append(_task(c, policy))
        except HullError as err:
            result.errors.append(err)
    by_unit: dict[str, list[_Task]] = {}
    for t in tasks:
        by_unit.setdefault(t.unit, []).append(t)
    for unit, group in by_unit.items():
        _update_unit(cfg, store, unit, group, opts, use_systemd, rootless, result)
    return result


def _task(c: Any, policy: str) -> _Task:
    if policy not in POLICIES:
        raise InvalidArgument(f'auto-updating container "{c.id}": invalid auto-update policy "{policy}": '
                              'valid policies are "registry" and "local"')
    unit = (c.labels or {}).get(UNIT_LABEL, "")
    if not unit:
        raise InvalidArgument(f'auto-updating container "{c.id}": no {UNIT_LABEL} label found')
    image_text = str((c.options or {}).get("image") or c.image_name)
    if policy == "registry" and not _fully_qualified(image_text):
        raise InvalidArgument(f'auto-updating container "{c.id}": image name "{image_text}" is not a '
                              'fully-qualified image reference')
    return _Task(c, policy, unit, image_text)


def _fully_qualified(text: str) -> bool:
    first, slash, _ = text.partition("/")
    return bool(slash) and ("." in first or ":" in first or first == "localhost")


def _update_unit(cfg: EngineConfig, store: Any, unit: str, group: list[_Task], opts: AutoUpdateOptions,
                 use_systemd: bool, rootless: bool, result: AutoUpdateResult) -> None:
    for t in group:
        try:
            t.update = _needs_update(cfg, store, t, opts)
        except HullError as err:
            result.errors.append(type(err)(f'auto-updating container "{t.container.id}": {err}'))
            continue
        t.report = _report(t, "pending" if t.update and opts.dry_run else "false")
        result.reports.append(t.report)
    updating = [t for t in group if t.update and t.report is not None]
    if opts.dry_run or not updating:
        return
    for t in updating:  # registry: pull now (local: the new image is already here)
        t.old_image = t.container.image_id
        if t.policy == "registry":
            try:
                _pull(cfg, t.image_text, opts)
            except HullError as err:
                t.report.Updated = "failed"
                result.errors.append(type(err)(f'auto-updating container "{t.container.id}": {err}'))
    updating = [t for t in updating if t.report.Updated != "failed"]
    if not updating:
        return
    ok = _restart(cfg, store, unit, group, use_systemd, rootless)
    if ok:
        for t in updating:
            t.report.Updated = "true"
        return
    if not opts.rollback:
        for t in updating:
            t.report.Updated = "failed"
        result.errors.append(InvalidArgument(f"restarting unit {unit} during auto-update failed"))
        return
    from engine.services.images import tag

    for t in updating:  # the old image takes the name back
        tag(cfg, t.old_image, [t.image_text])
    ok = _restart(cfg, store, unit, group, use_systemd, rootless)
    for t in updating:
        t.report.Updated = "rolled back" if ok else "failed"
    if not ok:
        result.errors.append(InvalidArgument(f"rolling back unit {unit} failed: it does not start with the "
                                             "previous image either"))


def _report(t: _Task, updated: str) -> UpdateReport:
    c = t.container
    return UpdateReport(Unit=t.unit, Container=f"{c.id[:12]} ({c.name})", ContainerName=c.name, ContainerID=c.id,
                        Image=t.image_text, Policy=t.policy, Updated=updated)


# ---------------------------------------------------------------- is there a newer image?
def _needs_update(cfg: EngineConfig, store: Any, t: _Task, opts: AutoUpdateOptions) -> bool:
    if t.policy == "local":
        from engine.errors import ImageNotFound
        from engine.services.images import find_image

        try:
            image = find_image(store, t.image_text)
        except ImageNotFound:
            raise ImageNotFound(f"{t.image_text}: image not known") from None
        return image.id != t.container.image_id
    remote = remote_digest(cfg, t.image_text, opts)
    try:
        local = store.images.get(t.container.image_id)
    except HullError:
        return True  # its image is gone: anything pulled is newer
    return remote not in (local.digests or [local.digest])


def remote_digest(cfg: EngineConfig, reference: str, opts: AutoUpdateOptions) -> str:
    """The registry's manifest digest for `reference` (the index's for a multi-arch image)."""
    from engine.oci.reference import parse_reference
    from engine.registry.pull import open_client
    from engine.registry.registries_conf import load_registries_conf
    from engine.services.image_registry import RegistryOptions, registry_config

    cfg = registry_config(cfg, RegistryOptions(tls_verify=opts.tls_verify, authfile=opts.authfile))
    ref = parse_reference(reference)
    if ref.digest:
        return ref.digest
    conf = load_registries_conf(cfg.registries_conf_candidates())
    errors: list[HullError] = []
    for endpoint, repository in conf.endpoints(ref):
        client = open_client(cfg, conf, endpoint, repository, tls_verify=opts.tls_verify, credentials=None)
        try:
            digest = client.head_manifest(repository, ref.manifest_reference)
            return digest or client.get_manifest(repository, ref.manifest_reference).digest
        except HullError as exc:
            errors.append(type(exc)(f"checking docker://{ref}: {exc}"))
        finally:
            client.close()
    raise errors[-1] if errors else InvalidArgument(f"no registry endpoint for {reference}")


def _pull(cfg: EngineConfig, reference: str, opts: AutoUpdateOptions) -> None:
    from engine.services.image_registry import PullOptions, pull

    pull(cfg, reference, PullOptions(tls_verify=opts.tls_verify, authfile=opts.authfile))


# ---------------------------------------------------------------- restart
def _restart(cfg: EngineConfig, store: Any, unit: str, group: list[_Task], use_systemd: bool,
             rootless: bool) -> bool:
    if use_systemd:
        return restart_unit(unit, rootless)
    ok = True
    for t in group:  # every container of the unit, as the unit's restart would
        try:
            t.container = recreate(cfg, store, t.container)
        except HullError:
            ok = False
            continue
        ok = settled(cfg, store, t.container.id) and ok
    return ok


def restart_unit(unit: str, rootless: bool) -> bool:
    user = ["--user"] if rootless else []
    if subprocess.run(["systemctl", *user, "restart", unit], stdin=subprocess.DEVNULL).returncode != 0:
        return False
    time.sleep(SETTLE)  # a container that dies right after start takes the unit down with it
    state = subprocess.run(["systemctl", *user, "is-active", unit], capture_output=True, text=True)
    return state.stdout.strip() == "active"


def recreate(cfg: EngineConfig, store: Any, c: Any) -> Any:
    """What a `--new` unit's restart does: rm -f the container, create it again from its
    recorded options (same name; the image name now resolves to the new image), start it."""
    from engine.services import containers as svc
    from engine.spec.options import ContainerOptions

    opts = ContainerOptions.from_dict(c.options)
    opts.name = c.name
    opts.image = str((c.options or {}).get("image") or c.image_name)
    opts.pull = "never"  # auto-update pulled already; never the unit's --pull=always again
    opts.replace = False
    opts.mounts = [m for m in opts.mounts if not m.anonymous]
    svc.remove(cfg, [c.id], svc.RmOptions(force=True, ignore=True, volumes=True))
    if opts.cidfile:  # the unit's --cidfile names the old container: the new one writes it
        try:
            with open(opts.cidfile, encoding="utf-8") as fh:
                stale = fh.read().strip() == c.id
            if stale:
                os.unlink(opts.cidfile)
        except OSError:
            pass
    result = svc.create(cfg, opts, runtime=c.runtime or None)
    svc.start(cfg, [result.id])
    return store.containers.get(result.id)


def settled(cfg: EngineConfig, store: Any, cid: str, seconds: float = SETTLE) -> bool:
    """Up for `seconds`, or exited 0 (a --rm container's code is kept in the exits dir)."""
    from engine.errors import ContainerNotFound
    from engine.services.container_state import reconcile
    from engine.services.containers import _remembered_exit

    deadline = time.monotonic() + seconds
    while True:
        try:
            c = reconcile(store, store.containers.get(cid))
        except ContainerNotFound:
            return _remembered_exit(cfg, cid) == 0
        if c.state.value in ("exited", "stopped"):
            return c.exit_code == 0
        if time.monotonic() >= deadline:
            return c.state.value in ("running", "paused")
        time.sleep(0.1)
