"""`hull rmi` / `hull image rm`: remove images (exit 1 not found, 2 in use)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Removes one or more images from local storage"
EXAMPLES = ("hull rmi imageID", "hull rmi --force alpine", "hull rmi c4dfb1609ee2 93fd78260bd1 c0ed59d05ff7")


def build(p: HullParser) -> None:
    p.add_argument("images", nargs="*", metavar="IMAGE")
    p.add_bool("-a", "--all", help="Remove all images")
    p.add_bool("-f", "--force", help="Force Removal of the image")
    p.add_bool("-i", "--ignore", help="Ignore errors if a specified image does not exist")
    p.add_bool("--no-prune", dest="no_prune", help="Do not remove dangling images")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE [IMAGE...]")
    from engine.services import images as svc

    report = svc.remove(ctx.config(), args.images,
                        svc.RemoveOptions(force=args.force, all=args.all, ignore=args.ignore))
    return print_report(report)


def print_report(report) -> int:
    """Untagged/Deleted lines, an `Error:` line per failure; rmi's exit code (also `manifest rm`)."""
    out = sys.stdout
    for name in report.untagged:
        out.write(f"Untagged: {name}\n")
    for image_id in report.deleted:
        out.write(f"Deleted: {image_id}\n")
    out.flush()
    for err in report.errors:
        sys.stderr.write(f"Error: {err}\n")
    return report.exit_code
