"""The infra container of a pod: the process that holds the pod's shared namespaces.

Without --infra-image no image is pulled or stored: the container has no image and
its lower layer is the container directory's `empty` dir (containers.mount_rootfs),
here a symlink to `{root}/infra/rootfs`: a few mount points and a hard link to
`{root}/infra/catatonit` (a copy of the host's static catatonit), made once and
shared read-only by every built-in infra (no per-pod files to make or remove).  Its command is `/catatonit -P`
(catatonit as a pause process: it sleeps and reaps, as Podman's podman-pause image
does).  The infra container carries what belongs to the pod's network: -p, --network,
--hostname, --add-host, --dns.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import StorageError

TYPE_CHECKING = False  # typing costs milliseconds on every pod command
if TYPE_CHECKING:
    from typing import Any

CATATONIT_CANDIDATES = ("/usr/bin/catatonit", "/usr/libexec/podman/catatonit", "/usr/libexec/catatonit/catatonit")
INFRA_COMMAND = ["/catatonit", "-P"]
ROOTFS_DIRS = ("dev", "proc", "sys", "etc", "run", "tmp")


class _NoImage:
    """What container_create._prepare reads of an image (its id) for an image-less container."""

    id = ""


def host_catatonit() -> str:
    for path in CATATONIT_CANDIDATES:
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    import shutil  # lazily: it pulls in bz2/lzma, and only the first infra of a store gets here

    found = shutil.which("catatonit")
    if found:
        return found
    raise StorageError("catatonit not found: install it (Debian: catatonit) or use --infra-image")


def _is_static(path: str) -> bool:
    """An ELF without a PT_INTERP program header runs without the host's loader."""
    import struct

    try:
        with open(path, "rb") as f:
            head = f.read(64)
            if head[:4] != b"\x7fELF" or head[4] != 2:  # 64-bit only
                return False
            phoff, = struct.unpack_from("<Q", head, 0x20)
            phentsize, phnum = struct.unpack_from("<HH", head, 0x36)
            f.seek(phoff)
            table = f.read(phentsize * phnum)
    except (OSError, struct.error):
        return False
    return not any(struct.unpack_from("<I", table, i * phentsize)[0] == 3 for i in range(phnum))


def infra_binary(cfg: EngineConfig) -> Path:
    """`{root}/infra/catatonit`: a private copy of the host's static catatonit (the
    container must not see a host path it could write through, and copying once keeps
    every infra rootfs a cheap hard link)."""
    target = cfg.root / "infra" / "catatonit"
    if target.is_file():
        return target
    source = host_catatonit()
    if not _is_static(source):
        raise StorageError(f"{source} is not a static binary: use --infra-image")
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = target.with_name(f".catatonit-{os.getpid()}")
    import shutil

    try:
        shutil.copyfile(source, tmp)
        os.chmod(tmp, 0o755)
        os.replace(tmp, target)
    except OSError as exc:
        raise StorageError(f"copying {source}: {(exc.strerror or str(exc)).lower()}") from None
    finally:
        try:
            tmp.unlink()
        except OSError:
            pass
    return target


def infra_rootfs(cfg: EngineConfig) -> Path:
    """`{root}/infra/rootfs`, the shared lower layer of built-in infra containers (an
    overlay lower is never written: the containers' changes go to their upper dirs)."""
    rootfs = cfg.root / "infra" / "rootfs"
    if (rootfs / "catatonit").is_file():
        return rootfs
    binary = infra_binary(cfg)
    tmp = rootfs.with_name(f".rootfs-{os.getpid()}")
    try:
        tmp.mkdir(mode=0o755)
        for d in ROOTFS_DIRS:
            (tmp / d).mkdir(mode=0o755)
        try:
            os.link(binary, tmp / "catatonit")
        except OSError:  # no link permission: a copy does as well
            import shutil

            shutil.copyfile(binary, tmp / "catatonit")
            os.chmod(tmp / "catatonit", 0o755)
        os.rename(tmp, rootfs)
    except OSError as exc:
        from engine.store.rmtree import remove_tree

        remove_tree(tmp)
        if not (rootfs / "catatonit").is_file():  # else another process made it first
            raise StorageError(f"making {rootfs}: {(exc.strerror or str(exc)).lower()}") from None
    return rootfs


def link_rootfs(cfg: EngineConfig, lower: Path) -> None:
    """The built-in infra rootfs as `lower` (the container's `empty` lower dir)."""
    try:
        lower.symlink_to(infra_rootfs(cfg))
    except OSError as exc:
        raise StorageError(f"linking {lower}: {(exc.strerror or str(exc)).lower()}") from None


def image_config(command: list[str]) -> dict:
    return {"config": {"Entrypoint": list(command), "Cmd": [],
                       "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
            "os": "linux", "architecture": "amd64"}


def create_infra(cfg: EngineConfig, store: Any, pod: Any, opts: Any) -> str:
    """Create the infra container of `pod` from the pod's create options; its id."""
    from engine.spec.options import ContainerOptions

    copts = ContainerOptions(
        image=opts.infra_image or "",
        name=opts.infra_name or f"{pod.id[:12]}-infra",
        hostname=pod.hostname,
        network=opts.network,
        network_arg=opts.network_arg,
        networks=dict(opts.networks),
        publish=list(opts.publish),
        dns=list(opts.dns),
        dns_search=list(opts.dns_search),
        dns_options=list(opts.dns_options),
        add_hosts=list(opts.add_hosts),
        no_hosts=opts.no_hosts,
        pod=pod.id,
        pull="missing",
        # Podman: infra containers are never restarted by a policy and stop at once
        stop_timeout=10,
        conmon_pidfile=getattr(opts, "infra_conmon_pidfile", ""),
    )
    if "pid" in pod.shared:
        copts.pid = ""
    if opts.infra_command:
        copts.entrypoint = list(opts.infra_command)
    if opts.infra_image:
        from engine.services.container_create import create

        return create(cfg, copts).id
    if copts.entrypoint is None:
        copts.entrypoint = list(INFRA_COMMAND)
    return _create_builtin(cfg, store, copts)


def _create_builtin(cfg: EngineConfig, store: Any, copts: Any) -> str:
    from engine.services import container_create as cc
    from engine.services.events import container_event

    config = image_config(copts.entrypoint)
    container = store.containers.create(copts.name, None, "", options=copts.to_dict(), labels={},
                                        command=list(copts.entrypoint), pod=copts.pod)
    cid = container.id
    try:
        store.containers.make_dirs(cid)
        link_rootfs(cfg, store.containers.dir(cid) / "empty")
        cc._prepare(cfg, store, container, _NoImage(), config, copts)
    except BaseException:
        cc._undo(store, cid)
        raise
    container_event(cfg, "create", store.containers.get(cid))
    return cid


def prestart_network(cfg: EngineConfig, argv: list[str]) -> None:
    """`pod start POD` (engine/cli/early.py, before argparse): when POD's infra is
    stopped and has the default rootless network without ports, its pasta starts now
    (engine/network/prestart.py), overlapping the CLI's imports; lifecycle's setup
    adopts it.  Never raises: a miss only costs the head start."""
    try:
        words = [w for w in argv[argv.index("start") + 1:] if not w.startswith("-")]
        from engine.services.common import open_store

        store = open_store(cfg)
        pod = store.pods.lookup(words[0])
        infra = store.containers.get(pod.infra_id)
        opts = infra.options or {}
        if infra.state.active or opts.get("network") or opts.get("networks") or opts.get("publish"):
            return
        from engine.network.prestart import prespawn_for_run

        prespawn_for_run(cfg, argv, sure=True)
    except Exception:  # noqa: BLE001  (the command reports real errors itself)
        return


__all__ = ["create_infra", "infra_binary", "infra_rootfs", "link_rootfs", "host_catatonit", "prestart_network", "INFRA_COMMAND"]

