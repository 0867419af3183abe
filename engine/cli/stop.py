"""`hull stop`: stop containers (SIGTERM or --stop-signal, SIGKILL after the timeout)."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Stop one or more containers"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull stop ctrID", "hull stop --time 2 mywebserver 6e534f14da9d", "hull stop --all",
            "hull stop --filter restart-policy=always")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Stop all running containers")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="strings",
                   help="Filter output based on conditions given")
    p.add_argument("--cidfile", action="append", default=[], metavar="stringArray",
                   help="Read the container ID from the file")
    p.add_bool("-i", "--ignore", help="Ignore errors when a specified container is missing")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                   help="Seconds to wait for stop before killing the container (default 10)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    svc = ctx.service("containers")

    cfg = ctx.config()
    if args.filter:  # Podman: the running containers that match (hull-restart.service's ExecStop)
        from engine.cli.output import parse_filters
        from engine.errors import InvalidArgument

        if args.names or args.cidfile or args.latest:
            raise InvalidArgument("--filter takes no arguments")
        container_list = ctx.service("container_list")
        found = container_list.list_containers(cfg, container_list.ListOptions(filters=parse_filters(args.filter)))
        names = [c.id for c in found]
    else:
        names = targets(cfg, args.names, all_=args.all, latest=args.latest, cidfiles=args.cidfile,
                        running_only=True)
    return for_each(names, lambda n: svc.stop(cfg, [n], timeout=args.time), ignore_missing=args.ignore)
