"""`hull pull` / `hull image pull`: pull an image from a registry; print its ID."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse
from engine.cli.registry_flags import add_registry_flags, creds_with_prompt

DESCRIPTION = "Pull an image from a registry"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull pull imageName", "hull pull fedora:latest", "hull pull --tls-verify=false localhost:5000/busybox")


def build(p: HullParser) -> None:
    p.add_argument("references", nargs="+", metavar="IMAGE")
    p.add_bool("-a", "--all-tags", dest="all_tags", help="All tagged images in the repository will be pulled")
    p.add_argument("--arch", metavar="ARCH", help="use ARCH instead of the architecture of the machine")
    p.add_argument("--os", metavar="OS", help="use OS instead of the running OS")
    p.add_argument("--variant", metavar="string", help="Use VARIANT instead of the running architecture variant")
    p.add_argument("--platform", metavar="string", help="Specify the platform for selecting the image (OS/ARCH)")
    p.add_bool("-q", "--quiet", help="Suppress output information when pulling images")
    add_registry_flags(p)


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [IMAGE...]")
    from engine.cli.progress import make_progress
    from engine.errors import InvalidArgument
    svc = ctx.service("images")

    if args.all_tags:
        raise InvalidArgument("--all-tags is not supported yet")
    from engine.oci.reference import parse_reference

    for reference in args.references:
        parse_reference(reference)  # a bad reference is one error line, before any progress
    creds = creds_with_prompt(args.creds)
    for reference in args.references:
        progress = make_progress(args.quiet, header=[f"Trying to pull {_display(reference)}...",
                                                     "Getting image source signatures"])
        opts = svc.PullOptions(tls_verify=args.tls_verify, creds=creds, authfile=args.authfile,
                               platform=args.platform, arch=args.arch, os=args.os, variant=args.variant,
                               progress=progress)
        try:
            image_id = svc.pull(ctx.config(), reference, opts)
        finally:
            if progress is not None:
                progress.close()
        sys.stdout.write(image_id + "\n")
        sys.stdout.flush()
    return 0


def _display(reference: str) -> str:
    try:
        from engine.oci.reference import is_fully_qualified, parse_reference

        return str(parse_reference(reference)) if is_fully_qualified(reference) else reference
    except Exception:  # the service reports a bad reference properly
        return reference
