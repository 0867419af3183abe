"""`hull network create|ls|inspect|rm|prune|exists|connect|disconnect|reload`."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import (confirm_prune, list_output, print_names, print_removal, run_exists,
                                       run_verbs)

VERBS = {
    "connect": "Add container to a network",
    "create": "Create networks for containers and pods",
    "disconnect": "Disconnect a container from a network",
    "exists": "Check if network exists",
    "inspect": "Inspect network",
    "ls": "List networks",
    "list": "List networks",
    "prune": "Remove unused networks",
    "reload": "Reload firewall rules for one or more containers",
    "rm": "Remove networks",
    "remove": "Remove networks",
}
HEADERS = {"ID": "NETWORK ID", "Name": "NAME", "Driver": "DRIVER", "NetworkInterface": "NETWORK INTERFACE",
           "IPv6Enabled": "IPV6", "DNSEnabled": "DNS", "Created": "CREATED"}
# The verbs that run against a remote service too (engine/remote).
REMOTE = ("list", "ls")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"connect": _connect, "create": _create, "disconnect": _disconnect, "exists": _exists,
                "inspect": _inspect, "ls": _ls, "list": _ls, "prune": _prune, "reload": _reload,
                "rm": _rm, "remove": _rm}
    return run_verbs(prog, argv, ctx, "Manage networks", VERBS, handlers, hidden=("list", "remove"))


def _create(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", nargs="?", metavar="NAME")
        p.add_argument("-d", "--driver", default="bridge", metavar="string",
                       help='driver to manage the network (default "bridge")')
        p.add_bool("--disable-dns", dest="disable_dns", help="disable dns plugin")
        p.add_argument("--gateway", action="append", default=[], metavar="ipSlice",
                       help="IPv4 or IPv6 gateway for the subnet")
        p.add_bool("--ignore", help="Don't fail if network already exists")
        p.add_argument("--interface-name", dest="interface_name", default="", metavar="string",
                       help="interface name which is used by the driver")
        p.add_bool("--internal", help="restrict external access from this network")
        p.add_argument("--ip-range", dest="ip_range", action="append", default=[], metavar="stringArray",
                       help="allocate container IP from range")
        p.add_argument("--ipam-driver", dest="ipam_driver", default="", metavar="string",
                       help="IP Address Management Driver")
        p.add_bool("--ipv6", help="enable IPv6 networking")
        p.add_argument("--label", action="append", default=[], metavar="stringArray",
                       help="set metadata on a network")
        p.add_argument("-o", "--opt", action="append", default=[], metavar="stringArray",
                       help="Set driver specific options (default [])")
        p.add_argument("--subnet", action="append", default=[], metavar="stringArray",
                       help="subnets in CIDR format")

    args = parse(ctx, prog, argv, build, VERBS["create"], (
        "hull network create podman1", "hull network create --subnet 192.5.0.0/16 --gateway 192.5.0.3 mynet",
        "hull network create --internal --label team=web mynet"), usage=f"{prog} [options] [NAME]")
    from engine.errors import InvalidArgument
    from engine.services import networks as svc
    from engine.spec.parse import parse_key_values

    if args.ipam_driver not in ("", "host-local"):
        raise InvalidArgument(f"unsupported ipam driver {args.ipam_driver!r}: invalid argument")
    net = svc.create(ctx.config(), name=args.name or None, subnet=args.subnet, gateway=args.gateway,
                     ip_range=args.ip_range, internal=args.internal,
                     labels=parse_key_values(args.label, "--label"),
                     options=parse_key_values(args.opt, "--opt"), disable_dns=args.disable_dns,
                     driver=args.driver, ipv6=args.ipv6, ignore=args.ignore, interface_name=args.interface_name)
    print(net.name)
    return 0


def _exists(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.services import networks as svc

    return run_exists(prog, argv, ctx, "NETWORK", VERBS["exists"], "hull network exists net1",
                      lambda name: svc.exists(ctx.config(), name))


def template_row(doc: dict, no_trunc: bool = True) -> dict:
    """An inspect document with Podman's Go field names, for --format templates."""
    from engine.cli.output import _cell

    labels = doc.get("labels") or {}
    return {
        "Name": doc["name"],
        "ID": doc["id"] if no_trunc else doc["id"][:12],
        "Driver": doc["driver"],
        "NetworkInterface": doc.get("network_interface", ""),
        "Created": doc.get("created", ""),
        "Subnets": [{"Subnet": s["subnet"], "Gateway": s.get("gateway", ""),
                     "LeaseRange": ({"StartIP": s["lease_range"]["start_ip"], "EndIP": s["lease_range"]["end_ip"]}
                                    if s.get("lease_range") else None)} for s in doc.get("subnets") or []],
        "IPv6Enabled": doc.get("ipv6_enabled", False),
        "Internal": doc.get("internal", False),
        "DNSEnabled": doc.get("dns_enabled", False),
        "Labels": labels,
        "Options": doc.get("options") or {},
        "IPAMOptions": doc.get("ipam_options") or {},
        "Containers": doc.get("containers") or {},
        # `network ls` columns Podman offers as methods
        "LabelsString": ",".join(f"{k}={_cell(v)}" for k, v in sorted(labels.items())),
    }


def _inspect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="+", metavar="NETWORK")
        p.add_argument("-f", "--format", default="json", metavar="string",
                       help="Pretty-print network to JSON or using a Go template")

    args = parse(ctx, prog, argv, build, VERBS["inspect"], ("hull network inspect podman",),
                 usage=f"{prog} [options] NETWORK [NETWORK...]")
    from engine.cli.image_inspect import print_documents
    from engine.services import networks as svc

    cfg = ctx.config()
    # Podman prints [] even when every name was unknown
    return print_documents(list(args.names), args.format, lambda n: svc.inspect(cfg, [n])[0], lambda n, e: str(e),
                           row=template_row)


def _ls(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("-f", "--filter", action="append", default=[], metavar="stringArray",
                       help="Provide filter values (e.g. 'name=podman')")
        p.add_argument("--format", metavar="string", help="Pretty-print networks to JSON or using a Go template")
        p.add_bool("-n", "--noheading", help="Do not print headers")
        p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate the network ID")
        p.add_bool("-q", "--quiet", help="display only names")

    args = parse(ctx, prog, argv, build, VERBS["ls"], ("hull network ls", "hull network ls --format json",
                 "hull network ls --filter name=foo --filter label=blue"), usage=f"{prog} [options]")
    from engine.cli.output import parse_filters

    svc = ctx.service("networks")
    cfg = ctx.config()
    nets = svc.list_networks(cfg, parse_filters(args.filter))

    def json_docs() -> list:
        store = None
        if not ctx.remote:
            from engine.services.common import open_store

            store = open_store(cfg)
        return [svc.inspect_doc(store, n, with_containers=False) for n in nets]

    return list_output(args, (n.name for n in nets),
                       lambda: [template_row(svc.inspect_doc(None, n, with_containers=False), args.no_trunc)
                                for n in nets],
                       HEADERS, [("ID", "NETWORK ID"), ("Name", "NAME"), ("Driver", "DRIVER")], json_docs=json_docs)


def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="+", metavar="NETWORK")
        p.add_bool("-f", "--force", help="remove any containers using network")
        p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                       help="Seconds to wait for running containers to stop before killing the container")

    args = parse(ctx, prog, argv, build, VERBS["rm"], ("hull network rm podman",),
                 usage=f"{prog} [options] NETWORK [NETWORK...]")
    from engine.services import networks as svc

    return print_removal(svc.remove(ctx.config(), list(args.names), force=args.force, timeout=args.time))


def _prune(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                       help="Provide filter values (e.g. 'label=<key>=<value>')")
        p.add_bool("-f", "--force", help="do not prompt for confirmation")

    args = parse(ctx, prog, argv, build, VERBS["prune"], ("hull network prune",), usage=f"{prog} [options]")
    from engine.cli.output import parse_filters
    from engine.services import networks as svc

    filters = parse_filters(args.filter, svc.PRUNE_FILTERS)
    if not confirm_prune(args.force, "WARNING! This will remove all networks not used by at least one container.\n"):
        return 0
    return print_names(svc.prune(ctx.config(), filters))


def _connect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("network", metavar="NETWORK")
        p.add_argument("container", metavar="CONTAINER")
        p.add_argument("--alias", action="append", default=[], metavar="strings",
                       help="network scoped alias for container")
        p.add_argument("--ip", default="", metavar="ip", help="set a static ipv4 address for this container network")
        p.add_argument("--ip6", default="", metavar="ip", help="set a static ipv6 address for this container network")
        p.add_argument("--mac-address", dest="mac_address", default="", metavar="string",
                       help="set a static mac address for this container network")

    args = parse(ctx, prog, argv, build, VERBS["connect"], ("hull network connect web secondary",),
                 usage=f"{prog} [options] NETWORK CONTAINER")
    from engine.services import networks as svc

    aliases = [a for text in args.alias for a in text.split(",") if a]
    svc.connect(ctx.config(), args.network, args.container, aliases=aliases, ip=args.ip, mac=args.mac_address,
                ip6=args.ip6)
    return 0


def _disconnect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("network", metavar="NETWORK")
        p.add_argument("container", metavar="CONTAINER")
        p.add_bool("-f", "--force", help="force removal of container from network")

    args = parse(ctx, prog, argv, build, VERBS["disconnect"], ("hull network disconnect web secondary",),
                 usage=f"{prog} [options] NETWORK CONTAINER")
    from engine.services import networks as svc

    svc.disconnect(ctx.config(), args.network, args.container, force=args.force)
    return 0


def _reload(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("containers", nargs="*", metavar="CONTAINER")
        p.add_bool("-a", "--all", help="Reload network configuration of all containers")

    args = parse(ctx, prog, argv, build, VERBS["reload"], ("hull network reload --all",),
                 usage=f"{prog} [options] [CONTAINER...]")
    from engine.errors import InvalidArgument
    from engine.services import networks as svc
    from engine.services.common import open_store

    cfg = ctx.config()
    if args.all == bool(args.containers):
        raise InvalidArgument("--all and containers cannot be used together" if args.all
                              else "no container names or --all given")
    names = [c.id for c in open_store(cfg).containers.list() if c.state.active] if args.all else args.containers
    # Hull's bridge rules are set at start and kept by the kernel; a firewall reload of the
    # host cannot flush what hull does not keep there, so nothing needs redoing.
    return print_names(svc.reload(cfg, names))
