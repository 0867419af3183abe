"""`hull image prune`: remove dangling (with -a: all unused) images."""

from __future__ import annotations

import sys

from engine.cli.output import parse_filters
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Removes dangling or unused images from local storage."
EXAMPLES = ("hull image prune", "hull image prune -a -f")


def build(p: HullParser) -> None:
    p.add_bool("-a", "--all", help="Remove all images not in use by containers, not just dangling ones")
    p.add_bool("--external", help="Remove images even when they are used by external containers")
    p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                   help="Provide filter values (e.g. 'label=<key>=<value>')")
    p.add_bool("-f", "--force", help="Do not prompt for confirmation")


def confirm(prompt: str) -> bool:
    """Ask on the terminal; anything but y/yes (or no input) is a no."""
    sys.stdout.write(prompt)
    sys.stdout.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.services import images as svc

    filters = parse_filters(args.filter)
    if not args.force:
        what = "all images not in use by containers" if args.all else "all dangling images"
        if not confirm(f"WARNING! This command removes {what}.\nAre you sure you want to continue? [y/N] "):
            return 0
    deleted = svc.prune(ctx.config(), svc.PruneOptions(all=args.all, filters=filters))
    for image_id in deleted:
        print(image_id)
    return 0
