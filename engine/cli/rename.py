"""`hull rename`: give a container a new name."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Change the name of an existing container"
EXAMPLES = ("hull rename containerA newName",)


def build(p: HullParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("new_name", metavar="NAME")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} CONTAINER NAME")
    from engine.services import containers as svc

    svc.rename(ctx.config(), args.container, args.new_name)
    return 0
