"""`hull commit`: a new image from a container's changes; prints the image ID."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Create new image based on the changed container"
EXAMPLES = ("hull commit -q --message \"committing container to image\" reverent_golick image-committed",
            "hull commit -q --author \"firstName lastName\" reverent_golick image-committed",
            "hull commit -q --pause=false containerID image-committed",
            "hull commit containerID")


def build(p: HullParser) -> None:
    p.add_argument("container", metavar="CONTAINER")
    p.add_argument("image", nargs="?", metavar="IMAGE")
    p.add_argument("-a", "--author", metavar="string", help="Set the author for the image committed")
    p.add_argument("-c", "--change", action="append", default=[], metavar="stringArray",
                   help="Apply the following possible instructions to the created image (default []): CMD | "
                        "ENTRYPOINT | ENV | EXPOSE | LABEL | ONBUILD | STOPSIGNAL | USER | VOLUME | WORKDIR")
    p.add_argument("--config", metavar="filename", help="file containing a container configuration to merge "
                   "into the image")
    p.add_argument("-f", "--format", default="oci", metavar="string",
                   help='Format of the image manifest and metadata (default "oci")')
    p.add_argument("--iidfile", metavar="ImageIDFile", help="file to write the image ID to")
    p.add_bool("--include-volumes", dest="include_volumes", help="Include container volumes as image volumes")
    p.add_argument("-m", "--message", metavar="string", help="Set commit message for imported image")
    p.add_bool("-p", "--pause", help="Pause container during commit")
    p.add_bool("-q", "--quiet", help="Suppress image output")
    p.add_bool("-s", "--squash", help="squash newly built layers into a single new layer")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [IMAGE]")
    from engine.errors import InvalidArgument
    from engine.services import container_commit as svc

    if args.format not in ("oci", "docker"):
        raise InvalidArgument(f"unrecognized image type \"{args.format}\"")
    opts = svc.CommitOptions(changes=list(args.change), message=args.message, author=args.author,
                             format=args.format, include_volumes=args.include_volumes, squash=args.squash)
    image_id = svc.commit(ctx.config(), args.container, args.image, opts)
    hex_id = image_id.partition(":")[2] or image_id
    if args.iidfile:
        try:
            with open(args.iidfile, "w", encoding="utf-8") as fh:
                fh.write("sha256:" + hex_id)
        except OSError as exc:
            raise InvalidArgument(f"failed to write image ID to file {args.iidfile!r}: {exc.strerror}") from None
    sys.stdout.write(hex_id + "\n")
    return 0
