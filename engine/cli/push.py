"""`hull push` / `hull image push`: push a local image to a registry."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.registry_flags import add_registry_flags, creds_with_prompt

DESCRIPTION = "Push an image to a specified destination"
EXAMPLES = ("hull push imageID docker://registry.example.com/repository:tag",
            "hull push --tls-verify=false localhost:5000/busybox")


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("destination", nargs="?", metavar="DESTINATION")
    p.add_argument("--digestfile", metavar="string", help="Write the digest of the pushed image to the specified file")
    p.add_argument("-f", "--format", metavar="string", help="Manifest type (oci, v2s2) to use in the destination")
    p.add_bool("-q", "--quiet", help="Suppress output information when pushing images")
    p.add_bool("--remove-signatures", dest="remove_signatures", help="Discard any pre-existing signatures in the image")
    add_registry_flags(p)


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [DESTINATION]")
    from engine.cli.progress import make_progress
    from engine.services import images as svc

    progress = make_progress(args.quiet, header=["Getting image source signatures"])
    opts = svc.PushOptions(tls_verify=args.tls_verify, creds=creds_with_prompt(args.creds),
                           authfile=args.authfile, format=args.format, progress=progress,
                           digestfile=args.digestfile)
    try:
        svc.push(ctx.config(), args.image, args.destination, opts)
    finally:
        if progress is not None:
            progress.close()
    return 0
