"""`hull tag` / `hull image tag`: add names to a local image."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Add an additional name to a local image"
EXAMPLES = ("hull tag 0e3bbc2 fedora:latest", "hull tag httpd myregistryhost:5000/fedora/httpd:v2")


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("targets", nargs="+", metavar="TARGET_NAME")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} IMAGE TARGET_NAME [TARGET_NAME...]")
    from engine.services import images as svc

    svc.tag(ctx.config(), args.image, args.targets)
    return 0
