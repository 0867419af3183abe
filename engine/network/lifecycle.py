"""A container's network (and shared namespaces) from start to final exit.

    setup(cfg, store, c)     in _start_locked, before the monitor starts: makes the
                             netns file and its helper for the modes that need one,
                             resolves container:X joins to /proc/<pid>/ns/<type> and
                             writes those paths into config.json's linux.namespaces.
    teardown(cfg, store, c)  after the final exit (monitor cleanup), on rm, in reconcile
                             when the monitor died: kills helpers, removes the netns file,
                             deletes network.json.  Idempotent; one stat when nothing.
    state(cfg, cid)          {runroot}/containers/<id>/network.json or None.

Modes (options["network"]): none, private, host need nothing at start (the spec has
a new netns, or none); ns:PATH is a fixed path written at create; container:X joins
X's running init; pasta, slirp4netns and bridge get a persistent namespace file
(netns.py).  bridge is delegated to engine/network/bridge.py: `setup(cfg, store, c,
netns_path) -> dict` (merged into network.json) and `teardown(cfg, store, c, state)`.
"" is the user's default (`default_mode`).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from engine.config import EngineConfig

STATE_FILE = "network.json"
HELPER_MODES = ("pasta", "slirp4netns", "bridge")
SHARED = (("network", "network", "network_arg"), ("ipc", "ipc", None), ("uts", "uts", None), ("pid", "pid", None))
_PENDING: dict = {}  # container id -> pasta's readiness wait (-> its pid): spawned, not waited for yet


# ---------------------------------------------------------------- modes
def default_mode(cfg: EngineConfig) -> str:
    """Rootless: pasta when installed, else slirp4netns.  Root: bridge on the default
    network once bridge.py says it can (DEFAULT_READY), else a private netns."""
    if cfg.rootless:
        from engine.network import pasta

        return "pasta" if pasta.available() else "slirp4netns"
    try:
        from engine.network import bridge  # type: ignore[attr-defined]
    except ImportError:
        return "private"
    return "bridge" if getattr(bridge, "DEFAULT_READY", False) else "private"


def effective_mode(cfg: EngineConfig, options: dict) -> str:
    return options.get("network") or default_mode(cfg)


def dependencies(options: dict) -> list[str]:
    """IDs of the containers whose namespaces this one joins (container:X)."""
    deps: list[str] = []
    for _, key, arg_key in SHARED:
        target = _container_target(options, key, arg_key)
        if target and target not in deps:
            deps.append(target)
    return deps


def _container_target(options: dict, key: str, arg_key: str | None) -> str:
    value = options.get(key) or ""
    if arg_key is not None:
        return options.get(arg_key) or "" if value == "container" else ""
    return value[len("container:"):] if value.startswith("container:") else ""


def resolve_dependencies(store: Any, opts: Any) -> None:
    """At create: container:NAME -> container:<full ID> (a rename must not break the join;
    rm looks for dependents by ID).  Unknown containers are Podman's 'no such container'."""
    if opts.network == "container" and opts.network_arg:
        opts.network_arg = store.containers.lookup(opts.network_arg).id
    for key in ("ipc", "uts", "pid"):
        value = getattr(opts, key) or ""
        if value.startswith("container:"):
            setattr(opts, key, "container:" + store.containers.lookup(value[len("container:"):]).id)


def dependents(store: Any, cid: str) -> list[str]:
    """Names of the containers that join a namespace of `cid`."""
    rows = store.db.query("SELECT id, name, options FROM containers WHERE id != ? AND instr(options, ?) > 0",
                          (cid, cid))  # only rows that mention the ID are parsed
    return [row[1] for row in rows if cid in dependencies(json.loads(row[2]) or {})]


def check_removable(store: Any, c: Any) -> None:
    users = dependents(store, c.id)
    if users:
        from engine.errors import Conflict

        raise Conflict(f"container {c.id} has dependent containers which must be removed before it: "
                       f"{','.join(users)}")


# ---------------------------------------------------------------- state
def state_path(cfg: EngineConfig, cid: str) -> Path:
    return cfg.runroot / "containers" / cid / STATE_FILE


def state(cfg: EngineConfig, cid: str) -> dict | None:
    """The running attachment: mode, netns, helper pids, ports (host ports chosen), addresses."""
    try:
        with open(state_path(cfg, cid)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def _save(cfg: EngineConfig, cid: str, doc: dict) -> None:
    path = state_path(cfg, cid)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(STATE_FILE + ".tmp")
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
    os.replace(tmp, path)


# ---------------------------------------------------------------- setup
def setup(cfg: EngineConfig, store: Any, c: Any) -> dict | None:
    """Everything the container's namespaces need before the runtime runs."""
    options = c.options or {}
    mode = effective_mode(cfg, options)
    joins = {t: _container_target(options, key, arg) for t, key, arg in SHARED}
    if mode not in HELPER_MODES and not any(joins.values()):
        return None  # none, host, private, ns:PATH: the spec from create is final
    teardown(cfg, store, c)  # leftovers of an earlier run whose cleanup never ran
    paths: dict[str, str] = {}
    for nstype, target in joins.items():
        if target:
            paths[nstype] = _join_path(store, target, nstype)
    doc = None
    if mode in HELPER_MODES:
        doc = _setup_netns(cfg, store, c, mode, options)
        paths["network"] = doc["netns"]
    elif joins["network"]:
        doc = {"mode": "container", "container": joins["network"], "netns": paths["network"]}
        _save(cfg, c.id, doc)
    try:
        _write_namespace_paths(store, c, paths)
        if doc is not None:
            _write_files(cfg, store, c, doc)
    finally:
        _await_helper(cfg, c.id, doc)  # pasta is ready (or its error raised) before the runtime
    return doc


def _await_helper(cfg: EngineConfig, cid: str, doc: dict | None) -> None:
    """Wait for the pasta _setup_netns spawned (or adopted) and record its pid."""
    pending = _PENDING.pop(cid, None)
    if pending is None or doc is None:
        return
    doc["pids"].append(pending())
    _save(cfg, cid, doc)


def _write_files(cfg: EngineConfig, store: Any, c: Any, doc: dict | None) -> None:
    """/etc/hosts and resolv.conf from what the datapath knows now (rewritten in place:
    a running container's bind mounts see it)."""
    from engine.network.hostsfiles import write_network_files

    write_network_files(cfg, store, c, doc)


def _join_path(store: Any, target: str, nstype: str) -> str:
    from engine.errors import ContainerNotFound, InvalidArgument
    from engine.services.container_state import container_process, reconcile

    try:
        other = reconcile(store, store.containers.get(target))
    except ContainerNotFound:
        raise ContainerNotFound(f"no container with name or ID \"{target}\" found: no such container") from None
    proc = container_process(store, other) if other.state.active else None
    if proc is None:
        kind = {"network": "network", "ipc": "ipc", "uts": "uts", "pid": "pid"}[nstype]
        raise InvalidArgument(f"cannot join {kind} namespace of container {other.id}: "
                              f"container {other.id} is not running")
    proc_name = "net" if nstype == "network" else nstype
    return f"/proc/{proc[0]}/ns/{proc_name}"


def _setup_netns(cfg: EngineConfig, store: Any, c: Any, mode: str, options: dict) -> dict:
    from engine.network import netns

    early = _adopt_prestarted(cfg, mode, options)
    path = str(early.path if early else netns.create(cfg, c.id))
    doc: dict = {"mode": mode, "netns": path, "pids": [], "ports": []}
    _save(cfg, c.id, doc)  # first: a failure below still gets torn down
    try:
        ports = resolve_ports(options.get("publish") or [])
        doc["ports"] = ports
        run = store.containers.run_dir(c.id)
        arg = options.get("network_arg") or ""
        if mode == "pasta":
            from engine.network import pasta

            # not waited for here: setup's remaining work overlaps pasta's start (_await_helper)
            if early is not None:
                _PENDING[c.id] = early.wait
            else:
                pid_file = run / "pasta.pid"
                proc = pasta.spawn(path, ports, pasta.split_options(arg), pid_file, cfg.rootless)
                _PENDING[c.id] = lambda: pasta.wait(proc, ports, pid_file)
            doc["helper"] = "pasta"
            doc["gateway"] = _default_gateway()
            doc["dns"] = [pasta.DNS_FORWARD]
        elif mode == "slirp4netns":
            from engine.network import slirp4netns

            sopts = slirp4netns.parse_options(arg)
            # a unix socket path has 108 bytes at most: not under the long container dir
            api = cfg.runroot / "netns" / f"{c.id[:16]}.sock"
            doc["pids"].append(slirp4netns.start(path, sopts, api, run / "slirp4netns.log"))
            doc["helper"] = "slirp4netns"
            net = slirp4netns.addresses(sopts)
            doc.update(addresses=[{"ip": net["ip"], "prefix": int(net["prefix"])}], gateway=net["gateway"],
                       dns=[net["dns"]], api_socket=str(api))
            _save(cfg, c.id, doc)
            for p in ports:
                for i in range(int(p.get("range") or 1)):
                    for proto in (p.get("protocol") or "tcp").split(","):
                        slirp4netns.add_hostfwd(api, proto, p.get("host_ip") or "", p["host_port"] + i,
                                                net["ip"], p["container_port"] + i)
        else:
            from engine.network import bridge  # type: ignore[attr-defined]

            if not cfg.rootless:  # /run forgets leases at a reboot: ours must still be ours
                from engine.network import leases

                leases.ensure(store, c.id, store.networks.host_leases(c.id))
            doc.update(bridge.setup(cfg, store, c, path) or {})
            _save(cfg, c.id, doc)
            if ports:  # -p on a bridge: Hull's forwarder (portforward.py) on the host side
                from engine.network import portforward

                portforward.setup_for(cfg, c.id, doc)
    finally:
        _save(cfg, c.id, doc)
    return doc


def _adopt_prestarted(cfg: EngineConfig, mode: str, options: dict) -> Any:
    """The pasta engine/network/prestart.py started before the container existed, when
    it got exactly the arguments this container's would (no ports, same options)."""
    if mode != "pasta" or options.get("publish"):
        return None
    import sys

    prestart = sys.modules.get("engine.network.prestart")  # imported only if one was started
    if prestart is None:
        return None
    from engine.network import pasta

    return prestart.adopt(cfg, [], pasta.split_options(options.get("network_arg") or ""))


def resolve_ports(publish: list[dict]) -> list[dict]:
    """The -p mappings with host port 0 replaced by free ports of the host (ports.py's
    picker: the ephemeral range, IPv4 and IPv6, never one port twice in a container)."""
    if not any(not p.get("host_port") for p in publish):
        return [dict(p) for p in publish]
    from engine.network import ports

    return ports.to_dicts(ports.resolve_host_ports(ports.from_dicts(publish)))


def _default_gateway() -> str:
    """The host's IPv4 default gateway (pasta copies it into the namespace)."""
    import socket
    import struct

    try:
        with open("/proc/net/route") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000" and int(fields[3], 16) & 2:
                    return socket.inet_ntoa(struct.pack("<I", int(fields[2], 16)))
    except (OSError, ValueError):
        pass
    return ""


def host_gateway(cfg: EngineConfig, options: dict) -> str:
    """The address `host.containers.internal` names for this mode ("" = none known)."""
    mode = effective_mode(cfg, options)
    if mode == "pasta":
        return _default_gateway()
    if mode == "slirp4netns":
        from engine.network import slirp4netns

        sopts = slirp4netns.parse_options(options.get("network_arg") or "")
        if sopts.get("allow_host_loopback") == "true":
            return slirp4netns.addresses(sopts)["gateway"]
        return _host_address()
    return ""


def nameservers(cfg: EngineConfig, options: dict) -> list[str] | None:
    """Nameservers the mode provides (pasta: its DNS forwarder, slirp4netns: 10.0.2.3);
    None = the host's resolvers as they are."""
    mode = effective_mode(cfg, options)
    if mode == "pasta":
        from engine.network import pasta

        return [pasta.DNS_FORWARD]
    if mode == "slirp4netns":
        from engine.network import slirp4netns

        return [slirp4netns.addresses(slirp4netns.parse_options(options.get("network_arg") or ""))["dns"]]
    return None


def _host_address() -> str:
    import socket

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("198.51.100.1", 9))  # no packet: only picks the source address of the default route
            return s.getsockname()[0]
    except OSError:
        return ""


def _write_namespace_paths(store: Any, c: Any, paths: dict[str, str]) -> None:
    """config.json's linux.namespaces: `paths` joined (a pid changes at every start)."""
    if not paths:
        return
    spec_path = store.containers.userdata(c.id) / "config.json"
    with open(spec_path) as f:
        spec = json.load(f)
    namespaces = spec.setdefault("linux", {}).setdefault("namespaces", [])
    for nstype, path in paths.items():
        for ns in namespaces:
            if ns.get("type") == nstype:
                ns["path"] = path
                break
        else:
            namespaces.append({"type": nstype, "path": path})
    if "uts" in paths:
        spec.pop("hostname", None)  # the joined namespace keeps its owner's hostname
    tmp = spec_path.with_name("config.json.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    with open(fd, "w") as f:
        json.dump(spec, f, indent=2)
    os.replace(tmp, spec_path)


def connect_running(cfg: EngineConfig, store: Any, c: Any, att: Any) -> None:
    """`network connect` of a running container: bridge.py plugs it in, the state follows."""
    from engine.network import bridge  # type: ignore[attr-defined]

    doc = bridge.connect_running(cfg, store, c, att, state(cfg, c.id))
    _save(cfg, c.id, doc)
    _write_files(cfg, store, c, doc)


def disconnect_running(cfg: EngineConfig, store: Any, c: Any, att: Any) -> None:
    doc = state(cfg, c.id)
    if not doc:
        return
    from engine.network import bridge  # type: ignore[attr-defined]

    doc = bridge.disconnect_running(cfg, store, c, att, doc)
    _save(cfg, c.id, doc)
    _write_files(cfg, store, c, doc)


# ---------------------------------------------------------------- teardown
def teardown(cfg: EngineConfig, store: Any, c: Any, *, wait: bool = True) -> None:
    """Undo setup: helpers killed, bridge state removed, netns file unmounted and deleted.
    Best effort and idempotent; `c` is a Container or an ID.  The helpers are waited for
    at the end (their published ports are closed when this returns); `wait=False` leaves
    that to the caller's `await_helpers()`, so their exit overlaps the caller's own work."""
    cid = c if isinstance(c, str) else c.id
    doc = state(cfg, cid)
    if doc is None:
        if os.path.lexists(cfg.runroot / "netns" / cid):  # setup died before saving its state
            from engine.network import netns

            netns.remove(cfg, cid)
        return
    dying = [_signal_helper(int(pid), doc.get("helper") or "") for pid in doc.get("pids") or []]
    if doc.get("mode") == "bridge":
        try:
            if doc.get("forwarder"):
                from engine.network import portforward

                portforward.teardown_for(cfg, cid, doc)
            from engine.network import bridge  # type: ignore[attr-defined]

            bridge.teardown(cfg, store, c, doc)
        except Exception:  # noqa: BLE001  (teardown goes on: the netns must not leak)
            pass
    if doc.get("mode") in HELPER_MODES:
        from engine.errors import HullError
        from engine.network import netns

        # a prestarted pasta's namespace has its own name (engine/network/prestart.py)
        for path in {str(netns.netns_path(cfg, cid)), doc.get("netns") or ""} - {""}:
            try:
                netns.remove_path(Path(path))
            except (HullError, OSError):
                pass
    if doc.get("api_socket"):
        try:
            os.unlink(doc["api_socket"])
        except OSError:
            pass
    try:
        os.unlink(state_path(cfg, cid))
    except FileNotFoundError:
        pass
    _DYING.extend(h for h in dying if h is not None)
    if wait:
        await_helpers()


_DYING: list[int] = []  # reap.kill handles of helpers teardown(wait=False) killed


def await_helpers() -> None:
    """Wait until the helpers teardown killed are gone (2 s at most)."""
    from engine.network.reap import wait_killed

    handles = _DYING[:]
    del _DYING[:]
    wait_killed(handles)


def _kill_helper(pid: int, name: str) -> None:
    """SIGKILL `pid` when it still is our helper and wait for it to be gone: its
    published ports are closed when stop/rm returns."""
    from engine.network.reap import wait_killed

    wait_killed([_signal_helper(pid, name)])


def _signal_helper(pid: int, name: str) -> int | None:
    """SIGKILL `pid` when it still is our helper (a recycled pid is left alone);
    reap.kill's handle to wait on."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv0 = f.read().split(b"\0", 1)[0].decode(errors="replace")
    except OSError:
        return None
    if name and os.path.basename(argv0) != name:
        return None
    from engine.network.reap import kill

    if name == "pasta":
        from engine.network.pasta import leave_tap

        leave_tap(pid)  # its exit does not unregister the device (~25 ms less to wait for)
    try:
        return kill(pid)
    except OSError:
        return None
