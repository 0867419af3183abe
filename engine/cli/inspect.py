"""`hull inspect`: the configuration of objects by name or ID (images for now)."""

from __future__ import annotations

from engine.cli.image_inspect import print_documents
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the configuration of object denoted by ID"
EXAMPLES = ("hull inspect fedora", "hull inspect --type image fedora", "hull inspect --format '{{.Id}}' fedora")
TYPES = ("all", "image")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="+", metavar="NAME")
    p.add_argument("-f", "--format", metavar="string", default="json",
                   help="Format the output to a Go template or json")
    p.add_argument("-t", "--type", default="all", metavar="string",
                   help='Specify inspect-object type ("image", "all")')
    p.add_bool("-s", "--size", help="Display total file size")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] {{CONTAINER|IMAGE}} [...]")
    from engine.errors import InvalidArgument
    from engine.services import images as svc

    if args.type not in TYPES:
        raise InvalidArgument(f'invalid type "{args.type}" is not supported (choose from: {", ".join(TYPES)})')
    cfg = ctx.config()
    if args.type == "image":
        return print_documents(args.names, args.format, lambda n: svc.inspect(cfg, n), lambda n, e: str(e))
    return print_documents(args.names, args.format, lambda n: svc.inspect(cfg, n),
                           lambda n, e: f'no such object: "{n}"')
