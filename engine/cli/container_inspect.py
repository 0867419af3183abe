"""`hull container inspect`: Podman's JSON document for each container, or a template."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the configuration of a container"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull container inspect myCtr", "hull container inspect -l --format '{{.Id}} {{.Config.Labels}}'")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_argument("-f", "--format", metavar="string", default="json",
                   help="Format the output to a Go template or json")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("-s", "--size", help="Display total file size")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.cli.ctr_common import targets
    from engine.cli.image_inspect import print_documents
    svc = ctx.service("container_inspect")

    cfg = ctx.config()
    names = targets(cfg, args.names, latest=args.latest)
    return print_documents(names, args.format, lambda n: svc.inspect(cfg, [n], size=args.size)[0],
                           lambda n, e: f'no such container "{n}"')
