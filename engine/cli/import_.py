"""`hull import` / `hull image import`: a root filesystem tarball becomes an image."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Import a tarball to create a filesystem image"
EXAMPLES = ("hull import http://example.com/ctr.tar url-image",
            "cat ctr.tar | hull -q import --message \"importing the ctr.tar tarball\" - image-imported",
            "cat ctr.tar | hull import -")


def build(p: HullParser) -> None:
    p.add_argument("path", metavar="PATH")
    p.add_argument("reference", nargs="?", metavar="REFERENCE")
    p.add_argument("-c", "--change", action="append", default=[], metavar="stringArray",
                   help="Apply the following possible instructions to the created image (default []): "
                        "CMD | ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
    p.add_argument("-m", "--message", default="", metavar="string", help="Set commit message for imported image")
    p.add_argument("--os", metavar="string", help="Set the OS of the imported image")
    p.add_argument("--arch", metavar="string", help="Set the architecture of the imported image")
    p.add_argument("--variant", metavar="string", help="Set the variant of the imported image")
    p.add_bool("-q", "--quiet", help="Suppress output")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] PATH [REFERENCE]")
    from engine.errors import InvalidArgument
    from engine.services import images as svc

    if args.path == "-":
        if sys.stdin.isatty():
            raise InvalidArgument("cannot read from terminal, use command-line redirection")
        source = sys.stdin.buffer
    else:
        source = args.path
    opts = svc.ImportOptions(reference=args.reference, changes=args.change, message=args.message,
                             os=args.os, arch=args.arch, variant=args.variant)
    if "://" in args.path:
        from engine.services.image_archive import import_url

        if not args.quiet:
            sys.stderr.write(f'Downloading from "{args.path}"\n')
        image_id = import_url(ctx.config(), args.path, opts)
    else:
        image_id = svc.import_(ctx.config(), source, opts)
    print(f"sha256:{image_id}")
    return 0
