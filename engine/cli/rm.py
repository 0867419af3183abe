"""`hull rm` / `hull container rm`: remove containers.

Exit codes as Podman's: 1 when a named container does not exist, 2 when one
is running (without -f), 125 for other errors.  Prints each removed ID.
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import print_removal

DESCRIPTION = "Remove one or more containers"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull rm imageID", "hull rm mywebserver myflaskserver 860a4b23", "hull rm --force --all",
            "hull rm -f c684f0d469f2")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Remove all containers")
    p.add_argument("--cidfile", action="append", default=[], metavar="stringArray",
                   help="Read the container ID from the file")
    p.add_bool("--depend", help="Remove container and all containers that depend on the selected container")
    p.add_bool("-f", "--force", help="Force removal of a running or unusable container")
    p.add_bool("-i", "--ignore", help="Ignore errors when a specified container is missing")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                   help="Seconds to wait for stop before killing the container (default 10)")
    p.add_bool("-v", "--volumes", help="Remove anonymous volumes associated with the container")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.cli.ctr_common import targets
    svc = ctx.service("containers")

    cfg = ctx.config()
    names: list[str] = []
    if not args.all:
        names = targets(cfg, args.names, latest=args.latest, cidfiles=args.cidfile)
    elif args.names or args.cidfile or args.latest:
        from engine.errors import InvalidArgument

        raise InvalidArgument("--all, --latest, and containers cannot be used together")
    opts = svc.RmOptions(force=args.force, volumes=args.volumes, all=args.all, ignore=args.ignore,
                         time=args.time, depend=args.depend)
    return print_removal(svc.remove(cfg, names, opts))
