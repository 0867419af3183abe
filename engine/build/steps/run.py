"""RUN: the command in a real container over the step's working mount.

The container is lean: no state DB row and no monitor (a build step lives only
as long as this call): the OCI config comes from the same generator `hull run`
uses (engine/spec/generate.build_spec) with the stage's config (env, user,
workdir) and the step's options, and the runtime (built-in by default) runs it
as our child; we wait for it and delete it, also on failure or Ctrl-C, so no
dangling container is ever left.  Output goes to the build's output fd.

Network (`--network` of build, or RUN --network): host shares the host's, none has
only loopback; "" / default / private, pasta, slirp4netns get a network namespace
of its own connected by pasta (else slirp4netns) through engine/network/transient.py,
as Podman's build gives RUN its default network: outbound traffic works and
host.containers.internal reaches the host.  "bridge" (the default network) or a
network's name: the namespace gets an address on that network's bridge (a
reservation, no container row) and its DNS responder, so other containers there are
reached by name.  Set up before the step and torn down after it, also on failure.
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
                runtime_name: str | None = None, extra_mount_points: list[str] = (),
                overlay_options: dict[str, list[str]] | None = None, store: Any = None) -> int:
    """Run `argv` in the working mount; returns the exit code (128+N for a signal).
    `overlay_options`: the prepared overlays of mounts with `overlay` set (RUN --mount=
    type=bind,rw); `store`: the store whose named networks `network` may name."""
    cid = secrets.token_hex(32)
    bundle = mount.dir / "bundle"
    bundle.mkdir(mode=0o700, exist_ok=True)
    points = _points(extra_mount_points)
    before = {p for p in points if os.path.lexists(mount.merged / p)}
    hostname = os.uname().nodename if network == "host" else cid[:12]
    (bundle / "hostname").write_text(hostname + "\n")
    net = None
    if network not in ("host", "none"):
        from engine.network import transient

        name = f"build-{cid[:16]}"
        if network in transient.KEYWORDS:
            net = transient.setup(cfg, name, network if network in transient.MODES else transient.build_mode(cfg))
        else:
            net = transient.setup(cfg, name, "bridge", store=store, network=network)
    try:
        return _run(cfg, mount, image_config, argv, env, cid=cid, bundle=bundle, points=points, before=before,
                    workdir=workdir, user=user, network=network, net=net, mounts=mounts, output_fd=output_fd,
                    runtime_name=runtime_name, overlay_options=overlay_options or {})
    finally:
        if net is not None:
            transient.teardown(cfg, net)


def _run(cfg: Any, mount: Any, image_config: dict, argv: list[str], env: dict[str, str], *, cid: str,
         bundle: Any, points: list[str], before: set[str], workdir: str, user: str, network: str,
         net: dict | None, mounts: list[Any], output_fd: int | None, runtime_name: str | None,
         overlay_options: dict[str, list[str]]) -> int:
    from engine.runtime.base import Stdio, get_runtime
    from engine.services.container_spec import _ns_sizes
    from engine.spec.generate import SpecContext, build_spec
    from engine.spec.options import ContainerOptions

    (bundle / "hosts").write_text(_hosts(net, cid[:12]))
    (bundle / "resolv.conf").write_text(_resolv_conf(net))
    if workdir and workdir != "/":
        from engine.archive.inroot import InRoot

        with InRoot(mount.merged) as root:
            os.close(root.open_dir(os.fsencode(workdir), create=True))
    opts = ContainerOptions(image="", command=list(argv), entrypoint=[], env=dict(env), workdir=workdir or "/",
                            user=user, network=network if net is None else "ns",
                            network_arg=net["netns"] if net is not None else "", mounts=list(mounts))
    host_uid, host_gid, usize, gsize = _ns_sizes()
    ctx = SpecContext(container_id=cid, rootfs=str(mount.merged), rootless=cfg.rootless,
                      single_id_map=cfg.rootless and usize <= 1, host_uid=host_uid, host_gid=host_gid,
                      ns_uid_size=usize, ns_gid_size=gsize, hostname_path=str(bundle / "hostname"),
                      hosts_path=str(bundle / "hosts"), resolv_conf_path=str(bundle / "resolv.conf"),
                      cgroups_available=False, overlay_options=overlay_options)
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


def _hosts(net: dict | None, hostname: str) -> str:
    text = _host_file("/etc/hosts", "127.0.0.1 localhost\n")
    if net is not None and net.get("gateway"):
        text = text.rstrip("\n") + f"\n{net['gateway']}\thost.containers.internal host.docker.internal\n"
    if net is not None and net.get("address"):
        text += f"{net['address']}\t{hostname}\n"
    return text


def _resolv_conf(net: dict | None) -> str:
    """The host's file; in a namespace of its own the helper's DNS forwarder first and
    no loopback server (the host's 127.0.0.x is not reachable from there)."""
    if net is not None and net.get("mode") == "bridge":  # as a container on that network
        from engine.network.hostsfiles import NetView, resolv_conf
        from engine.spec.options import ContainerOptions

        return resolv_conf(ContainerOptions(image=""), view=NetView(
            mode="bridge", addresses=[net["address"]], dns_servers=list(net.get("dns") or []),
            search=list(net.get("search") or []), ipv6=False))
    text = _host_file("/etc/resolv.conf", "nameserver 1.1.1.1\n")
    if net is None:
        return text
    lines = [f"nameserver {ip}" for ip in net.get("dns") or []]
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["nameserver"] and len(words) > 1 and (
                words[1].startswith("127.") or words[1] == "::1" or words[1] in (net.get("dns") or [])):
            continue
        lines.append(line)
    return "\n".join(lines) + "\n"


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


