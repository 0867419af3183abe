"""RUN: the command in a real container over the step's working mount.

The container is lean: no state DB row and no monitor (a build step lives only
as long as this call): the OCI config comes from the same generator `hull run`
uses (engine/spec/generate.build_spec) with the stage's config (env, user,
workdir) and the step's options, and the runtime (built-in by default) runs it
as our child; we wait for it and delete it, also on failure or Ctrl-C, so no
dangling container is ever left.  Output goes to the build's output fd.

Network: Podman's RUN default is the rootless default network; until Hull's own
network setup (issue 4) can be used here, RUN shares the host's network unless
`--network` (build flag or RUN --network) says none.
"""

from __future__ import annotations

import os
import secrets
from typing import Any

from engine.errors import HullError

# mount points the runtime may create in the rootfs: removed from the change
# afterwards when they were made only for this run (empty and new)
_MOUNT_POINTS = ("etc/hosts", "etc/hostname", "etc/resolv.conf", "run/.containerenv", "proc", "sys", "dev",
                 "run/secrets", "etc", "run")


def _host_file(path: str, fallback: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return fallback


def run_command(cfg: Any, mount: Any, image_config: dict, argv: list[str], env: dict[str, str], *,
                workdir: str, user: str, network: str, mounts: list[Any], output_fd: int | None,
                runtime_name: str | None = None, extra_mount_points: list[str] = ()) -> int:
    """Run `argv` in the working mount; returns the exit code (128+N for a signal)."""
    from engine.runtime.base import Stdio, get_runtime
    from engine.services.container_spec import _ns_sizes
    from engine.spec.generate import SpecContext, build_spec
    from engine.spec.options import ContainerOptions

    cid = secrets.token_hex(32)
    bundle = mount.dir / "bundle"
    bundle.mkdir(mode=0o700, exist_ok=True)
    points = _points(extra_mount_points)
    before = {p for p in points if os.path.lexists(mount.merged / p)}
    hostname = os.uname().nodename if network == "host" else cid[:12]
    (bundle / "hostname").write_text(hostname + "\n")
    (bundle / "hosts").write_text(_host_file("/etc/hosts", "127.0.0.1 localhost\n"))
    (bundle / "resolv.conf").write_text(_host_file("/etc/resolv.conf", "nameserver 1.1.1.1\n"))
    if workdir and workdir != "/":
        from engine.archive.inroot import InRoot

        with InRoot(mount.merged) as root:
            os.close(root.open_dir(os.fsencode(workdir), create=True))
    opts = ContainerOptions(image="", command=list(argv), entrypoint=[], env=dict(env), workdir=workdir or "/",
                            user=user, network=network if network in ("host", "none") else "private",
                            mounts=list(mounts))
    host_uid, host_gid, usize, gsize = _ns_sizes()
    ctx = SpecContext(container_id=cid, rootfs=str(mount.merged), rootless=cfg.rootless,
                      single_id_map=cfg.rootless and usize <= 1, host_uid=host_uid, host_gid=host_gid,
                      ns_uid_size=usize, ns_gid_size=gsize, hostname_path=str(bundle / "hostname"),
                      hosts_path=str(bundle / "hosts"), resolv_conf_path=str(bundle / "resolv.conf"),
                      cgroups_available=False)
    config = {"config": {k: v for k, v in (image_config.get("config") or {}).items() if k != "Env"}}
    spec = build_spec(config, opts, ctx)
    import json

    with open(bundle / "config.json", "w") as f:
        json.dump(spec, f)
    runtime = get_runtime(runtime_name or None, cfg.runroot)
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    out = null if output_fd is None else output_fd
    pid = 0
    try:
        pid = runtime.create(cid, bundle, Stdio(stdin_fd=null, stdout_fd=out, stderr_fd=out))
        runtime.start(cid)
        code = _wait(pid)
    finally:
        os.close(null)
        try:
            runtime.delete(cid, force=True)
        except HullError:
            pass
    _drop_mount_points(mount, points, before)
    return code


def _wait(pid: int) -> int:
    """Wait for the container's first process; we are a child subreaper, so
    orphans of the container are reaped on the way."""
    while True:
        try:
            got, status = os.waitpid(-1, 0)
        except ChildProcessError:
            return 125
        except InterruptedError:
            continue
        if got == pid:
            return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def _points(extra: list[str]) -> list[str]:
    """Every mount point and its parents, deepest first."""
    out: set[str] = set(_MOUNT_POINTS)
    for dest in extra:
        rel = os.path.normpath("/" + dest).lstrip("/")
        while rel:
            out.add(rel)
            rel = os.path.dirname(rel)
    return sorted(out, key=lambda p: (-p.count("/"), p))


def _drop_mount_points(mount: Any, points: list[str], before: set[str]) -> None:
    """Mount points the runtime made for this run only are no change of the step."""
    for rel in points:
        if rel in before:
            continue
        path = mount.upper / rel
        try:
            if path.is_symlink():
                continue
            if path.is_dir():
                path.rmdir()  # only when empty
            elif path.is_file() and path.stat().st_size == 0:
                path.unlink()
        except OSError:
            pass


