"""`hull image unmount`: drop a mount of an image (unmounted when the last goes)."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Unmount an image's root filesystem"
EXAMPLES = ("hull image unmount imageID", "hull image unmount --all")


def build(p: HullParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_bool("-a", "--all", help="Unmount all of the currently mounted images")
    p.add_bool("-f", "--force", help="Force the complete unmount of the specified mounted images")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [IMAGE...]")
    from engine.errors import InvalidArgument
    from engine.services import images as svc

    if not args.all and not args.images:
        raise InvalidArgument("image name or ID must be specified")
    for image_id in svc.unmount(ctx.config(), args.images, all_=args.all, force=args.force):
        print(image_id)
    return 0
