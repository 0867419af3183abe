"""`hull system connection add|list|ls|default|remove|rm|rename`: named destinations for
remote use (`hull --connection NAME ...`), kept in Podman 5's podman-connections.json
(engine/remote/connections.py), so Podman and Hull share them."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import run_verbs
from engine.errors import InvalidArgument

VERBS = {
    "add": "Record destination for the Hull service",
    "default": "Set named destination as default",
    "list": "List destination for the Hull service(s)",
    "ls": "List destination for the Hull service(s)",
    "remove": "Delete named destination",
    "rm": "Delete named destination",
    "rename": "Rename \"old\" to \"new\"",
}
HEADERS = {"URI": "URI"}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    handlers = {"add": _add, "default": _default, "list": _list, "ls": _list, "remove": _remove, "rm": _remove,
                "rename": _rename}
    return run_verbs(prog, argv, ctx, "Manage remote API service destinations", VERBS, handlers,
                     hidden=("ls", "rm"))


def _add(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="NAME")
        p.add_argument("destination", metavar="DESTINATION")
        p.add_bool("-d", "--default", help="Set connection to be default")
        # --identity is the global flag (Context.identity)
        p.add_argument("-p", "--port", type=int, default=None, metavar="int", help="SSH port number for destination")
        p.add_argument("--socket-path", default="", metavar="string", help="path to the Hull service unix domain socket on the ssh destination")

    args = parse(ctx, prog, argv, build, VERBS["add"],
                 ("hull system connection add laptop ssh://user@laptop:22/run/user/1000/hull/hull.sock",
                  "hull system connection add --identity ~/.ssh/dev_rsa testing ssh://root@server/run/hull/hull.sock",
                  "hull system connection add local unix:///run/user/1000/hull/hull.sock"),
                 usage=f"{prog} [options] NAME DESTINATION")
    from engine.remote import connections
    from engine.remote.destination import parse_uri

    uri = args.destination
    if "://" not in uri:  # Podman: a bare [user@]host means ssh
        uri = f"ssh://{uri}"
    if uri.startswith("ssh://"):
        dest = parse_uri(uri + ("" if _has_path(uri) else "/placeholder"))
        port = args.port or dest.port
        path = args.socket_path or (dest.path if _has_path(uri) else "")
        if not path:
            raise InvalidArgument("the ssh destination needs the service's socket path "
                                  "(ssh://USER@HOST[:PORT]/PATH or --socket-path)")
        user = f"{dest.user}@" if dest.user else ""
        host = f"[{dest.host}]" if ":" in dest.host else dest.host
        uri = f"ssh://{user}{host}:{port}{path}"
    elif args.socket_path:
        raise InvalidArgument("--socket-path only applies to ssh destinations")
    connections.add(args.name, uri, identity=ctx.identity or "", make_default=args.default)
    return 0


def _has_path(uri: str) -> bool:
    return "/" in uri[len("ssh://"):]


def _list(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("-f", "--format", metavar="string", help="Custom Go template for printing connections")
        p.add_bool("-q", "--quiet", help="Custom Go template for printing connections")

    args = parse(ctx, prog, argv, build, VERBS["list"], ("hull system connection list",
                 "hull system connection ls --format=json"), usage=f"{prog} [options]")
    from engine.cli.output import Printer, format_spec
    from engine.remote import connections

    out = Printer()
    found = connections.list_connections()
    if args.quiet:
        out.lines(c.name for c in found)
        return 0
    rows = [{"Name": c.name, "URI": c.uri, "Identity": c.identity, "IsMachine": c.is_machine,
             "Default": c.default, "ReadWrite": True} for c in found]
    spec = format_spec(args.format, HEADERS)
    if spec is not None and spec.kind == "json":
        out.json(rows)
    elif spec is not None:
        out.formatted(spec, rows)
    else:
        out.table([dict(r, Default=str(r["Default"]).lower(), ReadWrite="true") for r in rows],
                  [("Name", "NAME"), ("URI", "URI"), ("Identity", "IDENTITY"), ("Default", "DEFAULT"),
                   ("ReadWrite", "READWRITE")])
    return 0


def _default(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", metavar="NAME")

    args = parse(ctx, prog, argv, build, VERBS["default"], ("hull system connection default testing",),
                 usage=f"{prog} NAME")
    from engine.remote import connections

    connections.set_default(args.name)
    return 0


def _remove(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="NAME")
        p.add_bool("-a", "--all", help="Remove all connections")

    args = parse(ctx, prog, argv, build, VERBS["remove"], ("hull system connection remove devl",
                 "hull system connection rm --all"), usage=f"{prog} [options] NAME")
    from engine.remote import connections

    if args.all == bool(args.names):
        raise InvalidArgument("accepts 1 arg(s), or --all" if not args.all else "--all takes no names")
    connections.remove(list(args.names), all_=args.all)
    return 0


def _rename(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("old", metavar="OLD")
        p.add_argument("new", metavar="NEW")

    args = parse(ctx, prog, argv, build, VERBS["rename"], ("hull system connection rename laptop devl",),
                 usage=f"{prog} OLD NEW")
    from engine.remote import connections

    connections.rename(args.old, args.new)
    return 0
