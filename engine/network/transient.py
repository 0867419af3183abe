"""A network for a container that has no state-DB row: a build's RUN step.

lifecycle.py works on Container records (options, network.json in the container's
run directory, IPAM attachments).  A RUN step's lean container has none of these,
so this module sets up and tears down the same pieces from a mode alone:
`{runroot}/netns/<name>` (netns.py) with pasta, or slirp4netns, attached to it.

    doc = setup(cfg, name, mode)   # {"mode", "netns", "pids", "helper", "gateway", "dns"}
    ... the runtime joins doc["netns"] ...
    teardown(cfg, doc)             # helpers killed and waited for, netns removed

Modes: "pasta", "slirp4netns"; `build_mode(cfg)` is the user's default for RUN.
Root's default for containers is the bridge on `hull`, whose addresses are IPAM
rows tied to a container row; a RUN step has none, so as root RUN uses pasta (the
same host connectivity: outbound traffic and host.containers.internal).
"""

from __future__ import annotations

import secrets
from typing import Any

from engine.errors import HullError, InvalidArgument

MODES = ("pasta", "slirp4netns")


def build_mode(cfg: Any) -> str:
    """RUN's default network: pasta when installed, else slirp4netns (root too)."""
    from engine.network import pasta, slirp4netns

    if pasta.available():
        return "pasta"
    if slirp4netns.available():
        return "slirp4netns"
    raise HullError("could not find pasta or slirp4netns for the build's network: use --network host or none")


def setup(cfg: Any, name: str, mode: str) -> dict:
    """A netns file `name` with `mode`'s helper; torn down here when a step fails."""
    from engine.network import netns
    from engine.network.lifecycle import _default_gateway

    if mode not in MODES:
        raise InvalidArgument(f"unsupported network mode {mode!r} for a build step")
    path = str(netns.create(cfg, name))
    doc: dict = {"mode": mode, "name": name, "netns": path, "pids": [], "helper": mode}
    try:
        run = netns.netns_dir(cfg)
        if mode == "pasta":
            from engine.network import pasta

            doc["pids"].append(pasta.start(path, [], [], run / f"{name}.pasta.pid", cfg.rootless))
            doc.update(gateway=_default_gateway(), dns=[pasta.DNS_FORWARD])
        else:
            from engine.network import slirp4netns

            sopts = slirp4netns.parse_options("")
            api = run / f"{secrets.token_hex(8)}.sock"  # a unix path has 108 bytes at most
            doc["api_socket"] = str(api)
            doc["pids"].append(slirp4netns.start(path, sopts, api, run / f"{name}.slirp4netns.log"))
            net = slirp4netns.addresses(sopts)
            from engine.network.lifecycle import _host_address

            doc.update(gateway=_host_address(), dns=[net["dns"]])
    except BaseException:
        teardown(cfg, doc)
        raise
    return doc


def teardown(cfg: Any, doc: dict) -> None:
    """Idempotent: helpers gone (their pid still theirs), files removed, netns unmounted."""
    import os

    from engine.network import netns
    from engine.network.lifecycle import _kill_helper

    for pid in doc.get("pids") or []:
        _kill_helper(int(pid), doc.get("helper") or "")
    run = netns.netns_dir(cfg)
    for leftover in (doc.get("api_socket"), run / f"{doc['name']}.pasta.pid", run / f"{doc['name']}.slirp4netns.log"):
        if leftover:
            try:
                os.unlink(leftover)
            except OSError:
                pass
    try:
        netns.remove(cfg, doc["name"])
    except (HullError, OSError):
        pass


__all__ = ["MODES", "build_mode", "setup", "teardown"]
