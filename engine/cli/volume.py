"""`hull volume create|ls|inspect|rm|prune|exists`: named volumes."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import (confirm_prune, list_output, print_names, print_removal, run_exists,
                                       run_verbs)

VERBS = {
    "create": "Create a new volume",
    "exists": "Check if volume exists",
    "inspect": "Display detailed information on one or more volumes",
    "ls": "List volumes",
    "list": "List volumes",
    "prune": "Remove all unused volumes",
    "rm": "Remove one or more volumes",
    "remove": "Remove one or more volumes",
}
HEADERS = {"Name": "VOLUME NAME", "CreatedAt": "CREATED AT"}
# The verbs that run against a remote service too (engine/remote).
REMOTE = ("create", "exists", "inspect", "list", "ls", "remove", "rm")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"create": _create, "exists": _exists, "inspect": _inspect, "ls": _ls, "list": _ls,
                "prune": _prune, "rm": _rm, "remove": _rm}
    return run_verbs(prog, argv, ctx, "Manage volumes", VERBS, handlers, hidden=("list", "remove"))


def _create(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", nargs="?", metavar="NAME")
        p.add_argument("-d", "--driver", default="local", metavar="string", help='Specify volume driver name '
                       '(default "local")')
        p.add_bool("--ignore", help="Don't fail if volume already exists")
        p.add_argument("-l", "--label", action="append", default=[], metavar="stringArray",
                       help="Set metadata for a volume (default [])")
        p.add_argument("-o", "--opt", action="append", default=[], metavar="stringArray",
                       help="Set driver specific options (default [])")

    args = parse(ctx, prog, argv, build, VERBS["create"], ("hull volume create myvol",
                 "hull volume create --label foo=bar myvol", "hull volume create -o type=tmpfs -o device=tmpfs myvol"),
                 usage=f"{prog} [options] [NAME]")
    svc = ctx.service("volumes")
    from engine.spec.parse import parse_key_values

    opts = svc.CreateOptions(name=args.name or None, driver=args.driver,
                                   labels=parse_key_values(args.label, "--label"),
                                   options=parse_key_values(args.opt, "--opt"), ignore=args.ignore)
    print(svc.create(ctx.config(), opts))
    return 0


def _exists(prog: str, argv: list[str], ctx: Context) -> int:
    return run_exists(prog, argv, ctx, "VOLUME", VERBS["exists"], "hull volume exists myvol",
                      lambda name: ctx.service("volumes").exists(ctx.config(), name))


def _inspect(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="VOLUME")
        p.add_bool("-a", "--all", help="Inspect all volumes")
        p.add_argument("-f", "--format", default="json", metavar="string",
                       help="Format volume output using Go template")

    args = parse(ctx, prog, argv, build, VERBS["inspect"], ("hull volume inspect myvol",
                 "hull volume inspect --all", "hull volume inspect --format \"{{.Driver}} {{.Scope}}\" myvol"),
                 usage=f"{prog} [options] VOLUME [VOLUME...]")
    from engine.cli.image_inspect import print_documents
    from engine.errors import InvalidArgument
    svc = ctx.service("volumes")

    cfg = ctx.config()
    names = list(args.names)
    if args.all:
        if names:
            raise InvalidArgument("when using the --all switch, you may not pass any volume names")
        names = [v["Name"] for v in svc.list_volumes(cfg, {})]
    elif not names:
        raise InvalidArgument("provide one or more volume names or use --all")
    return print_documents(names, args.format, lambda n: svc.inspect(cfg, [n])[0], lambda n, e: f"no such volume {n}")


def volume_row(doc: dict) -> dict:
    """An inspect document plus the template fields `volume ls` adds."""
    return {**doc, "Labels": dict(doc.get("Labels") or {}), "Options": dict(doc.get("Options") or {})}


def _ls(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("-f", "--filter", action="append", default=[], metavar="stringArray",
                       help="Filter volume output")
        p.add_argument("--format", metavar="string", help="Format volume output using JSON or a Go template")
        p.add_bool("-n", "--noheading", help="Do not print headers")
        p.add_bool("-q", "--quiet", help="Print volume output in quiet mode")

    args = parse(ctx, prog, argv, build, VERBS["ls"], ("hull volume ls", "hull volume ls --format json",
                 "hull volume ls --filter name=foo,label=blue"), usage=f"{prog} [options]")
    from engine.cli.output import parse_filters
    svc = ctx.service("volumes")

    volumes = svc.list_volumes(ctx.config(), parse_filters(args.filter))
    rows = [volume_row(v) for v in volumes]
    return list_output(args, (v["Name"] for v in volumes), lambda: rows, HEADERS,
                       [("Driver", "DRIVER"), ("Name", "VOLUME NAME")],
                       json_docs=lambda: [{k: r[k] for k in ("Name", "Driver", "Mountpoint", "CreatedAt", "Labels",
                                                             "Scope", "Options")} for r in rows])


def _rm(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="VOLUME")
        p.add_bool("-a", "--all", help="Remove all volumes")
        p.add_bool("-f", "--force", help="Remove a volume by force, even if it is being used by a container")
        p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                       help="Seconds to wait for running containers to stop before killing the container")

    args = parse(ctx, prog, argv, build, VERBS["rm"], ("hull volume rm myvol1 myvol2", "hull volume rm --all",
                 "hull volume rm --force myvol"), usage=f"{prog} [options] VOLUME [VOLUME...]")
    from engine.errors import InvalidArgument
    svc = ctx.service("volumes")

    if args.all == bool(args.names):
        raise InvalidArgument("choose either one or more volumes or all")
    return print_removal(svc.remove(ctx.config(), list(args.names), force=args.force, all=args.all,
                                    timeout=args.time))


def _prune(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                       help="Provide filter values (e.g. 'label=<key>=<value>')")
        p.add_bool("-f", "--force", help="Do not prompt for confirmation")

    args = parse(ctx, prog, argv, build, VERBS["prune"], ("hull volume prune",), usage=f"{prog} [options]")
    from engine.cli.output import parse_filters
    svc = ctx.service("volumes")

    filters = parse_filters(args.filter)
    if not confirm_prune(args.force, "WARNING! This will remove all volumes not used by at least one container. "):
        return 0
    return print_names(name for name, _size in svc.prune(ctx.config(), filters))
