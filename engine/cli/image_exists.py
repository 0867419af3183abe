"""`hull image exists`: exit 0 when the image is in local storage, 1 when not."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Check if an image exists in local storage"
EXAMPLES = ("hull image exists ID", "hull image exists IMAGE && echo present")


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} IMAGE")
    from engine.services import images as svc

    return 0 if svc.exists(ctx.config(), args.image) else 1
