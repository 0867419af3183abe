"""`hull inspect`: the configuration of containers, images and volumes by name or ID.

With `--type all` (the default) each name is looked up as a container, then an
image, then a volume, as Podman does; a miss everywhere is `no such object`.
"""

from __future__ import annotations

from engine.cli.image_inspect import print_documents
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the configuration of object denoted by ID"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull inspect fedora", "hull inspect --type image fedora", "hull inspect --format '{{.Id}}' fedora",
            "hull inspect CtrID ImgID", "hull inspect --latest")
TYPES = ("all", "container", "image", "volume")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("-f", "--format", metavar="string", default="json",
                   help="Format the output to a Go template or json")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_argument("-t", "--type", default="all", metavar="string",
                   help='Specify inspect-object type ("image", "container", "volume" or "all")')
    p.add_bool("-s", "--size", help="Display total file size")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] {{CONTAINER|IMAGE}} [...]")
    from engine.errors import InvalidArgument

    if args.type not in TYPES:
        raise InvalidArgument(f'invalid type "{args.type}" is not supported (choose from: {", ".join(TYPES)})')
    from engine.cli.parser import service_module

    cfg = ctx.config()
    names = list(args.names)
    if args.latest:
        if names:
            raise InvalidArgument("--latest and containers cannot be used together")
        if args.type not in ("all", "container"):
            raise InvalidArgument("--latest only applies to containers")
        from engine.cli.ctr_common import targets

        names = targets(cfg, [], latest=True)
        args.type = "container"
    if not names:
        raise InvalidArgument("requires at least 1 arg(s), only received 0")
    if args.type == "image":
        svc = service_module(cfg, "images")
        return print_documents(names, args.format, lambda n: svc.inspect(cfg, n), lambda n, e: str(e))
    if args.type == "container":
        ctr = service_module(cfg, "container_inspect")

        return print_documents(names, args.format, lambda n: ctr.inspect(cfg, [n], size=args.size)[0],
                               lambda n, e: f'no such container "{n}"')
    if args.type == "volume":
        vol = service_module(cfg, "volumes")

        return print_documents(names, args.format, lambda n: vol.inspect(cfg, [n])[0],
                               lambda n, e: f"no such volume {n}")
    return print_documents(names, args.format, lambda n: inspect_any(cfg, n, args.size),
                           lambda n, e: f'no such object: "{n}"')


def inspect_any(cfg, name: str, size: bool = False) -> dict:
    """Container, then image, then volume; NotFound only when none has the name."""
    from engine.errors import NotFound

    from engine.cli.parser import service_module

    try:
        return service_module(cfg, "container_inspect").inspect(cfg, [name], size=size)[0]
    except NotFound:
        pass
    try:
        return service_module(cfg, "images").inspect(cfg, name)
    except NotFound:
        pass
    return service_module(cfg, "volumes").inspect(cfg, [name])[0]
