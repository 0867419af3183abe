"""`HostConfig.Links` (`name:alias`) at container create.

Docker's legacy links on a user network are an alias of the linked container's
address that only the linking container sees; Hull writes them as /etc/hosts
entries (alias and name -> the linked container's address on a network both
containers join), through the same `add_hosts` as `ExtraHosts`.  A linked
container that shares no network with the new one is a 400: there is no address
to give (Docker's default-bridge environment variables are not made)."""

from __future__ import annotations

from typing import Any

from engine.errors import ContainerNotFound, InvalidArgument


def _joined(cfg: Any, opts: Any) -> set[str]:
    """The networks the new container will be on (none outside bridge mode)."""
    from engine.network.lifecycle import effective_mode
    from engine.spec.parse import DEFAULT_NETWORK

    if opts.networks:
        return set(opts.networks)
    return {DEFAULT_NETWORK} if effective_mode(cfg, {"network": opts.network}) == "bridge" else set()


def apply_links(cfg: Any, store: Any, opts: Any, links: Any) -> None:
    if not isinstance(links, list) or not all(isinstance(x, str) for x in links):
        raise InvalidArgument("HostConfig.Links must be a list of strings")
    joined = _joined(cfg, opts)
    for link in links:
        name, _, alias = str(link).partition(":")
        name = name.strip("/")
        alias = alias.rstrip("/").rsplit("/", 1)[-1] or name  # the old "/a:/b/alias" form too
        if not name:
            raise InvalidArgument(f"invalid link {link!r}: want NAME:ALIAS")
        try:
            target = store.containers.lookup(name)
        except ContainerNotFound:
            raise ContainerNotFound(f"could not get container for {name}: No such container: {name}") from None
        addresses = [a.ip for a in store.networks.of_container(target.id) if a.network_name in joined and a.ip]
        if not addresses:
            raise InvalidArgument(f"cannot link to {name}: it shares no network with this container")
        for host in dict.fromkeys((alias, name)):
            opts.add_hosts.append(f"{host}:{addresses[0]}")
