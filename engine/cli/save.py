"""`hull save` / `hull image save`: write images to an archive (-o, or stdout when redirected)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Save image(s) to an archive"
EXAMPLES = ("hull save --quiet -o myimage.tar imageID", "hull save --format docker-dir -o ubuntu-dir ubuntu",
            "hull save > alpine-all.tar alpine:latest")


def build(p: HullParser) -> None:
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.add_argument("-o", "--output", metavar="string", help="Write to a specified file (default: stdout, which must be redirected)")
    p.add_argument("--format", default="docker-archive", metavar="string",
                   help='Save image to oci-archive, oci-dir (directory with oci manifest type), docker-archive (default "docker-archive")')
    p.add_bool("-m", "--multi-image-archive", dest="multi_image", help="Interpret additional arguments as images not tags and create a multi-image-archive (only for docker-archive)")
    p.add_bool("-q", "--quiet", help="Suppress the output")
    p.add_bool("--compress", help="Compress tarball image layers when saving to a directory using the 'dir' transport")
    p.add_bool("--uncompressed", help="Accept uncompressed layers when copying OCI images")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [IMAGE...]")
    from engine.errors import InvalidArgument
    from engine.services import images as svc

    if args.output:
        target = args.output
    else:
        if args.format == "oci-dir":
            raise InvalidArgument("oci-dir needs an output directory: use -o")
        if sys.stdout.isatty():
            raise InvalidArgument("refusing to save to terminal. Use -o flag or redirect")
        sys.stdout.flush()
        target = sys.stdout.buffer
    svc.save(ctx.config(), args.images, target, svc.SaveOptions(format=args.format, multi_image=args.multi_image))
    return 0
