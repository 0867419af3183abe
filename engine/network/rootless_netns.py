"""The per-user rootless network namespace: where a rootless user's bridges live.

An unprivileged user cannot put a bridge or a veth in the host's network namespace.
As Podman 5 does, Hull gives each user one extra namespace, {runroot}/netns/
rootless-netns, made like the containers' namespace files (netns.py: inside the
pause process's user + mount namespace, so it is owned by the user's namespace and
outlives the CLI).  pasta connects it to the host (its tap interface gets the host's
address and default route; its gateway address reaches the host's loopback; DNS is
forwarded from pasta.DNS_FORWARD).  All of the user's bridges, their nft rules
(NAT toward pasta's interface, isolation) and the host ends of the containers' veths
are inside it, so the user's containers on one network reach each other.

It exists while some container uses it: acquire(cfg, cid) records a user under
{runroot}/netns/rootless-netns.users/<cid> (made first when needed), release(cfg,
cid) drops it and, with the last one gone, kills pasta and removes the namespace.
A set of names rather than a counter, so a repeated or lost release cannot skew it.
One lock file serialises all of this between hull processes.
"""

from __future__ import annotations

import os
from pathlib import Path

from engine.config import EngineConfig
from engine.errors import HullError
from engine.store.locks import file_lock

NAME = "rootless-netns"


def netns_path(cfg: EngineConfig) -> Path:
    from engine.network import netns

    return netns.netns_path(cfg, NAME)


def dns_forward_address(cfg: EngineConfig) -> str:
    """Where DNS queries sent inside the rootless netns reach the host's resolvers."""
    from engine.network import pasta

    return pasta.DNS_FORWARD


def _users_dir(cfg: EngineConfig) -> Path:
    return netns_path(cfg).with_name(NAME + ".users")


def _lock(cfg: EngineConfig) -> Path:
    return netns_path(cfg).with_name(NAME + ".lock")


def _pid_file(cfg: EngineConfig) -> Path:
    return netns_path(cfg).with_name(NAME + ".pasta.pid")


def _pasta_pid(cfg: EngineConfig) -> int:
    """pasta's pid when it runs for our namespace (a recycled pid does not count)."""
    try:
        pid = int(_pid_file(cfg).read_text().split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return 0
    if os.path.basename(argv[0]) != b"pasta" or str(netns_path(cfg)).encode() not in argv:
        return 0
    return pid


def users(cfg: EngineConfig) -> list[str]:
    try:
        return sorted(os.listdir(_users_dir(cfg)))
    except FileNotFoundError:
        return []


def _start(cfg: EngineConfig, path: Path) -> None:
    from engine.network import firewall, pasta
    from engine.network.bridge import in_netns

    # No port forwarding through this pasta: -p on bridge networks has its own forwarders.
    pasta.start(str(path), [], [], _pid_file(cfg), True)
    in_netns(str(path), lambda: firewall.enable_forwarding(False))


def acquire(cfg: EngineConfig, user: str) -> str:
    """The namespace's path, made and connected first when needed; `user` (a container
    ID) is recorded as using it."""
    from engine.network import netns

    if not user or "/" in user or user.startswith("."):
        raise HullError(f"invalid rootless netns user {user!r}")
    with file_lock(_lock(cfg)):
        path = netns_path(cfg)
        fresh = not netns.is_mounted(path)
        netns.create(cfg, NAME)
        if not _pasta_pid(cfg):
            try:
                _start(cfg, path)
            except BaseException:
                if fresh or not users(cfg):
                    _remove_locked(cfg)
                raise
        d = _users_dir(cfg)
        d.mkdir(mode=0o700, exist_ok=True)
        (d / user).touch(mode=0o600)
        return str(path)


def release(cfg: EngineConfig, user: str) -> None:
    """`user` no longer needs the namespace; the last one out removes it.  Idempotent."""
    if not os.path.lexists(_users_dir(cfg)) and not os.path.lexists(netns_path(cfg)):
        return
    with file_lock(_lock(cfg)):
        try:
            os.unlink(_users_dir(cfg) / user)
        except (FileNotFoundError, IsADirectoryError):
            pass
        if not users(cfg):
            _remove_locked(cfg)


def _remove_locked(cfg: EngineConfig) -> None:
    from engine.network import netns

    pid = _pasta_pid(cfg)
    if pid:
        from engine.network.reap import kill_and_wait

        try:
            kill_and_wait(pid)
        except OSError:
            pass
    for p in (_pid_file(cfg),):
        try:
            p.unlink()
        except FileNotFoundError:
            pass
    try:
        _users_dir(cfg).rmdir()
    except OSError:
        pass
    netns.remove(cfg, NAME)


def exists(cfg: EngineConfig) -> bool:
    from engine.network import netns

    return netns.is_mounted(netns_path(cfg))
