"""`hull untag` / `hull image untag`: remove names from a local image (all when none given)."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Remove a name from a local image"
EXAMPLES = ("hull untag 0e3bbc2", "hull untag imageID:latest otherImageName:latest")


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("names", nargs="*", metavar="NAME")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} IMAGE [IMAGE...]")
    from engine.services import images as svc

    svc.untag(ctx.config(), args.image, args.names)
    return 0
