"""`hull init`: create the container's processes without starting the command."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Initialize one or more containers"
EXAMPLES = ("hull init 3c45ef19d893", "hull init test1")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Initialize all containers")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.services import containers as svc

    cfg = ctx.config()
    names = targets(cfg, args.names, all_=args.all, latest=args.latest)
    return for_each(names, lambda n: svc.init(cfg, [n])[0], printed=lambda n, c: getattr(c, "id", None) or n)
