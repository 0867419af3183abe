"""`hull image mount`: mount images read-only and print where (list mounts without args)."""

from __future__ import annotations

from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Mount an image's root filesystem"
EXAMPLES = ("hull image mount imageID", "hull image mount imageID1 imageID2", "hull image mount")


def build(p: HullParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_bool("-a", "--all", help="Mount all images")
    p.add_argument("--format", metavar="string", help="Print the mounted images in specified format (json)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] [IMAGE...]")
    from engine.services import images as svc

    cfg = ctx.config()
    if args.all:
        names = [s.id for s in svc.list_images(cfg, svc.ListOptions())]
        result = svc.mount(cfg, names) if names else []
    elif args.images:
        result = svc.mount(cfg, args.images)
        if len(args.images) == 1 and not args.format:
            print(result[0].path)
            return 0
    else:
        result = svc.mounted(cfg)
    out = Printer()
    spec = format_spec(args.format)
    if spec is not None and spec.kind == "json":
        out.json([{"id": m.id, "Names": m.names, "Repositories": m.names, "mountpoint": m.path} for m in result])
        return 0
    out.lines(f"{m.id[:12]} {m.path}" if not m.names else f"{m.id[:12]} {' '.join(m.names)} {m.path}"
              for m in result)
    return 0
