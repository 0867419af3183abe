"""Name resolution for containers on DNS-enabled networks: the records files and the
launcher of the per-user responder (engine/network/dns_server.py).

    register(cfg, network, container_id, name, aliases, ips, gateways=, subnets=)
    unregister(cfg, network, container_id)
    ensure_running(cfg)         start the responder if it is not running, else SIGHUP it
    stop_if_idle(cfg)           stop it when no network has records left

Everything lives in {runroot}/networks/dns/: one JSON records file per network
(rewritten atomically under dns.lock), dns.pid, dns.log.  Rootful, the responder
serves in the host netns; rootless, inside the per-user rootless netns where the
bridges live (engine/network/rootless_netns.py).  It listens on port 53 of each
network's gateway(s).  Calls are idempotent and cheap when nothing changes.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

from engine.config import EngineConfig
from engine.errors import HullError

READY_TIMEOUT = 10.0
PIDFILE, LOCK, LOG = "dns.pid", "dns.lock", "dns.log"  # dotted: never a records file
PORT = 53


class DNSError(HullError):
    """The responder could not be started."""

    exit_code = 125


def records_dir(cfg: EngineConfig) -> Path:
    return Path(cfg.runroot) / "networks" / "dns"


@contextmanager
def _locked(cfg: EngineConfig) -> Iterator[Path]:
    directory = records_dir(cfg)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(directory / LOCK, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield directory
    finally:
        os.close(fd)


def _read(path: Path) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            doc = json.load(fh)
        return doc if isinstance(doc, dict) else {}
    except (OSError, ValueError):
        return {}


def _write_atomic(path: Path, doc: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(doc, fh, sort_keys=True, indent=1)
    os.replace(tmp, path)


def _check_network_name(network: str) -> None:
    # the name is a file name; network names are [a-zA-Z0-9][a-zA-Z0-9_.-]* (Podman), and
    # the responder skips dotted names (temp/pid files): map dots away in the file name
    if not network or "/" in network or network in (".", ".."):
        raise HullError(f"invalid network name {network!r}")


def _file_for(directory: Path, network: str) -> Path:
    _check_network_name(network)
    return directory / network.replace(".", "%2E")


# ---------------------------------------------------------------- records API
def register(cfg: EngineConfig, network: str, container_id: str, name: str, aliases: list[str],
             ips: list[str], gateways: list[str] | None = None, subnets: list[str] | None = None) -> None:
    """Add (or replace) one container's names on `network` and make sure the responder
    serves them.  `gateways`/`subnets` of the network are needed the first time a
    network gets records; when not given they are looked up in the network store."""
    with _locked(cfg) as directory:
        path = _file_for(directory, network)
        doc = _read(path)
        if gateways is None and not doc.get("gateways"):
            gateways, subnets = _lookup_network(cfg, network)
        if gateways is not None:
            doc["gateways"] = [str(g) for g in gateways]
        if subnets is not None:
            doc["subnets"] = [str(s) for s in subnets]
        doc["network"] = network
        doc.setdefault("containers", {})[container_id] = {
            "name": name, "aliases": [a for a in dict.fromkeys(aliases) if a and a != name],
            "ips": [str(ip).split("/", 1)[0] for ip in ips]}
        _write_atomic(path, doc)
        _ensure_running_locked(cfg, directory)


def unregister(cfg: EngineConfig, network: str, container_id: str) -> None:
    """Drop one container's names from `network` (idempotent); an idle responder exits."""
    with _locked(cfg) as directory:
        path = _file_for(directory, network)
        doc = _read(path)
        containers = doc.get("containers") or {}
        if container_id not in containers:
            return
        del containers[container_id]
        if containers:
            _write_atomic(path, doc)
        else:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
        _signal(directory, signal.SIGHUP)


def unregister_container(cfg: EngineConfig, container_id: str) -> None:
    """Drop a container from every network (for teardown paths that lost track)."""
    directory = records_dir(cfg)
    if not directory.is_dir():
        return
    for entry in sorted(os.listdir(directory)):
        if "." in entry:  # lock, pid, log and temp files; network files have none
            continue
        doc = _read(directory / entry)
        if container_id in (doc.get("containers") or {}):
            unregister(cfg, doc.get("network") or entry, container_id)


def ensure_running(cfg: EngineConfig) -> None:
    """Start the responder when some network has records and none is running; else make
    the running one reload."""
    with _locked(cfg) as directory:
        _ensure_running_locked(cfg, directory)


def stop_if_idle(cfg: EngineConfig) -> None:
    """Stop the responder when no network has records left."""
    directory = records_dir(cfg)
    if not directory.is_dir():
        return
    with _locked(cfg) as directory:
        if not _has_records(directory):
            pid = _running_pid(directory)
            if pid:
                try:
                    os.kill(pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
                try:
                    (directory / PIDFILE).unlink()
                except FileNotFoundError:
                    pass


def running_pid(cfg: EngineConfig) -> int:
    """The responder's pid, 0 when none runs."""
    return _running_pid(records_dir(cfg))


# ---------------------------------------------------------------- launcher
def _has_records(directory: Path) -> bool:
    for entry in os.listdir(directory):
        if "." in entry:  # lock, pid, log and temp files; network files have none
            continue
        if (_read(directory / entry).get("containers")):
            return True
    return False


def _running_pid(directory: Path) -> int:
    try:
        pid = int((directory / PIDFILE).read_text().strip() or 0)
    except (OSError, ValueError):
        return 0
    if pid <= 0:
        return 0
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read()
    except OSError:
        return 0
    # a recycled pid is not ours: the responder's command line names its module and dir
    if b"engine.network.dns_server" not in cmdline or str(directory).encode() not in cmdline:
        return 0
    return pid


def _signal(directory: Path, sig: int) -> bool:
    pid = _running_pid(directory)
    if not pid:
        return False
    try:
        os.kill(pid, sig)
        return True
    except ProcessLookupError:
        return False


def _ensure_running_locked(cfg: EngineConfig, directory: Path) -> None:
    if _signal(directory, signal.SIGHUP) or not _has_records(directory):
        return
    # -P: never import from the caller's working directory (an `engine/` there is not ours)
    argv = [sys.executable, "-P", "-m", "engine.network.dns_server", "--dir", str(directory),
            "--port", str(PORT), "--pidfile", str(directory / PIDFILE), "--lockfile", str(directory / LOCK)]
    if cfg.rootless:
        argv += _rootless_args(cfg)
    _spawn(argv, directory)


def _rootless_args(cfg: EngineConfig) -> list[str]:
    """Serve inside the rootless netns; the host's loopback resolvers are reached through
    the helper's DNS forwarder there (pasta --dns-forward / slirp4netns 10.0.2.3)."""
    try:
        from engine.network import rootless_netns
    except ImportError:  # the documented path, before that module exists
        rootless_netns = None
    if rootless_netns is not None and hasattr(rootless_netns, "netns_path"):
        path = rootless_netns.netns_path(cfg)
    else:
        from engine.network.netns import netns_path

        path = netns_path(cfg, "rootless-netns")
    args = ["--netns", str(path)]
    forward = getattr(rootless_netns, "dns_forward_address", None)
    addr = forward(cfg) if callable(forward) else None
    if addr:
        args += ["--rootless-upstream", str(addr)]
    return args


def _spawn(argv: list[str], directory: Path) -> None:
    """Start the responder detached (double fork: never our child, so no zombie in a
    long-lived caller) and wait until it listens."""
    read_fd, write_fd = os.pipe()
    log = os.open(directory / LOG, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [_project_root(), env.get("PYTHONPATH", "")] if p)
    argv = argv + ["--ready-fd", str(write_fd)]
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # intermediate
        try:
            os.setsid()
            if os.fork() == 0:
                os.close(read_fd)
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.set_inheritable(write_fd, True)
                os.chdir("/")
                os.execve(argv[0], argv, env)
        finally:
            os._exit(0)
    os.close(write_fd)
    os.close(log)
    os.waitpid(pid, 0)
    try:
        ready = _wait_ready(read_fd)
    finally:
        os.close(read_fd)
    if not ready:
        raise DNSError(f"starting the DNS responder: {_last_line(directory / LOG) or 'it did not become ready'}")


def _wait_ready(fd: int) -> bool:
    import select

    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        try:
            readable, _, _ = select.select([fd], [], [], left)
        except InterruptedError:
            continue
        if readable:
            try:
                return os.read(fd, 1) == b"1"
            except OSError as exc:
                if exc.errno == errno.EINTR:
                    continue
                return False


def _last_line(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _project_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _lookup_network(cfg: EngineConfig, network: str) -> tuple[list[str], list[str]]:
    """(gateways, subnets) of a named network from the network store."""
    from engine.services.common import open_store

    net = open_store(cfg).networks.lookup(network)
    return list(net.gateways), [str(s["subnet"]) for s in net.subnets if s.get("subnet")]
