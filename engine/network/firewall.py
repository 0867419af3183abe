"""nftables rules for named networks: outbound NAT, isolation, --internal.

Hull owns one table, `table inet hull`, in the network namespace that holds the
bridges (the host as root, the per-user rootless netns otherwise).  The base chains
dispatch on the input interface through verdict maps, so one network's rules are a
pair of chains plus map elements that can be added and removed without touching
anyone else's rules (no rule handles to look up):

    forward:     iifname vmap @from_bridge   -> fwd-<bridge>: same bridge accept,
                                                any other hull bridge drop (networks
                                                are isolated), --internal: drop
                 oifname @internal drop         (nothing routes into an internal net)
    input:       an internal bridge reaches the host only for DNS (the responder on
                 its gateway) and replies
    postrouting: iifname vmap @nat_from_bridge -> nat-<bridge>: masquerade the subnet

`nft -f -` does the work (Debian's nftables package): one script, one transaction.
Removal first adds what it deletes, so it succeeds whether or not the rules exist.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from collections.abc import Iterable
from pathlib import Path

from engine.errors import HullError, InvalidArgument
from engine.store.locks import file_lock

TABLE = "hull"
NFT = "nft"
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,15}")

_BASE = """\
table inet hull {
  set bridges { type ifname; }
  set internal { type ifname; }
  map from_bridge { type ifname : verdict; }
  map nat_from_bridge { type ifname : verdict; }
  chain forward { type filter hook forward priority filter; policy accept;
    iifname vmap @from_bridge
    oifname @internal drop
  }
  chain input { type filter hook input priority filter; policy accept;
    iifname @internal ct state established,related accept
    iifname @internal meta l4proto { tcp, udp } th dport 53 accept
    iifname @internal icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept
    iifname @internal drop
  }
  chain postrouting { type nat hook postrouting priority srcnat; policy accept;
    iifname vmap @nat_from_bridge
  }
}
"""


def _check_name(bridge: str) -> str:
    if not _NAME.fullmatch(bridge):
        raise InvalidArgument(f"invalid bridge interface name {bridge!r}")
    return bridge


def _setns_to(path: str):
    def enter() -> None:
        from engine.runtime.syscalls import CLONE_NEWNET, SYSCALLS

        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        SYSCALLS.setns(fd, CLONE_NEWNET)
        os.close(fd)
    return enter


def _nft(args: list[str], netns: str | None, script: str | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [NFT, *args], input=(script or "").encode(), capture_output=True, check=False,
            preexec_fn=_setns_to(netns) if netns else None,
        )
    except FileNotFoundError:
        raise HullError("nft not found: install the nftables package to use bridge networks") from None


def _run(script: str, netns: str | None) -> None:
    proc = _nft(["-f", "-"], netns, script)
    if proc.returncode != 0:
        msg = proc.stderr.decode(errors="replace").strip().splitlines()
        raise HullError(f"setting up firewall rules: {msg[0] if msg else 'nft failed'}")


def _lock_path(netns: str | None) -> Path:
    # As root the host's ruleset is shared by every Hull store on the machine.
    return Path(netns).parent / "firewall.lock" if netns else Path("/run/lock/hull/firewall.lock")


def _ensure_table(netns: str | None) -> None:
    if _nft(["list", "table", "inet", TABLE], netns).returncode != 0:
        _run(_BASE, netns)


def _subnet_rules(chain: str, subnets: Iterable[str]) -> list[str]:
    rules = []
    for text in subnets:
        net = ipaddress.ip_network(text, strict=False)
        family = "ip" if net.version == 4 else "ip6"
        rules.append(f"add rule inet {TABLE} {chain} {family} saddr {net} masquerade")
    return rules


def add_network(bridge: str, subnets: Iterable[str], internal: bool, netns: str | None = None) -> None:
    """Rules for the network whose bridge is `bridge` (idempotent: rewrites its chains)."""
    br = _check_name(bridge)
    fwd, nat = f"fwd-{br}", f"nat-{br}"
    lines = [
        f"add chain inet {TABLE} {fwd}", f"flush chain inet {TABLE} {fwd}",
        f'add rule inet {TABLE} {fwd} oifname "{br}" accept',
        f"add rule inet {TABLE} {fwd} oifname @bridges drop",
    ]
    if internal:
        lines.append(f"add rule inet {TABLE} {fwd} drop")
        lines.append(f'add element inet {TABLE} internal {{ "{br}" }}')
    else:
        lines += [f"add chain inet {TABLE} {nat}", f"flush chain inet {TABLE} {nat}",
                  f'add rule inet {TABLE} {nat} oifname "{br}" return',
                  *_subnet_rules(nat, subnets),
                  f'add element inet {TABLE} nat_from_bridge {{ "{br}" : jump {nat} }}']
    lines += [f'add element inet {TABLE} bridges {{ "{br}" }}',
              f'add element inet {TABLE} from_bridge {{ "{br}" : jump {fwd} }}']
    with file_lock(_lock_path(netns)):
        _ensure_table(netns)
        _run("\n".join(lines) + "\n", netns)


def remove_network(bridge: str, netns: str | None = None) -> None:
    """Drop the network's rules; no error when they are not there."""
    br = _check_name(bridge)
    fwd, nat = f"fwd-{br}", f"nat-{br}"
    elements = [("bridges", f'"{br}"'), ("internal", f'"{br}"'),
                ("from_bridge", f'"{br}" : jump {fwd}'), ("nat_from_bridge", f'"{br}" : jump {nat}')]
    lines = [f"add chain inet {TABLE} {fwd}", f"add chain inet {TABLE} {nat}"]
    lines += [f"add element inet {TABLE} {m} {{ {e} }}" for m, e in elements]
    lines += [f'delete element inet {TABLE} {m} {{ "{br}" }}' for m, _ in elements]
    lines += [f"flush chain inet {TABLE} {fwd}", f"delete chain inet {TABLE} {fwd}",
              f"flush chain inet {TABLE} {nat}", f"delete chain inet {TABLE} {nat}"]
    with file_lock(_lock_path(netns)):
        if _nft(["list", "table", "inet", TABLE], netns).returncode != 0:
            return
        _run("\n".join(lines) + "\n", netns)


def enable_forwarding(ipv6: bool = False) -> None:
    """ip_forward on in the calling thread's network namespace (bridges route through it)."""
    _write_sysctl("/proc/sys/net/ipv4/ip_forward", "1")
    if ipv6:
        _write_sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1")


def _write_sysctl(path: str, value: str) -> None:
    try:
        with open(path) as f:
            if f.read().strip() == value:
                return
        with open(path, "w") as f:
            f.write(value)
    except OSError as exc:
        raise HullError(f"cannot set {path[len('/proc/sys/'):].replace('/', '.')}: {exc.strerror}") from None
