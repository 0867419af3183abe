"""`hull system prune`: stopped pods and containers, unused networks, dangling (-a:
unused) images, and with --volumes unused volumes (engine/services/system_prune.py)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Remove unused data"
EXAMPLES = ("hull system prune", "hull system prune -a -f --volumes")


def build(p: HullParser) -> None:
    p.add_bool("-a", "--all", help="Remove all unused data")
    p.add_bool("--external", help="Remove container data in storage not controlled by hull")
    p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                   help="Provide filter values (e.g. 'label=<key>=<value>')")
    p.add_bool("-f", "--force", help="Do not prompt for confirmation.  The default is false")
    p.add_bool("--volumes", help="Prune volumes")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.image_prune import confirm
    from engine.cli.output import parse_filters

    filters = parse_filters(args.filter)
    if not args.force:
        volumes = "        - all volumes not used by at least one container\n" if args.volumes else ""
        images = "        - all images without at least one container associated with them\n" if args.all \
            else "        - all dangling images\n"
        if not confirm("WARNING! This command removes:\n        - all stopped containers\n"
                       "        - all networks not used by at least one container\n" + volumes + images
                       + "        - all build cache\n\nAre you sure you want to continue? [y/N] "):
            return 0
    from engine.services.system_prune import prune

    report = prune(ctx.config(), all_images=args.all, volumes=args.volumes, filters=filters)
    out = sys.stdout
    for title, items in (("Deleted Pods", report.pods), ("Deleted Containers", [c for c, _ in report.containers]),
                         ("Deleted Networks", report.networks), ("Deleted Volumes", [v for v, _ in report.volumes]),
                         ("Deleted Images", report.images)):
        if items:
            out.write(title + "\n" + "".join(f"{i}\n" for i in items) + "\n")
    for err in report.container_errors:
        sys.stderr.write(f"Error: {err}\n")
    from engine.cli.humanize import human_size

    out.write(f"Total reclaimed space: {human_size(report.reclaimed)}\n")
    return 125 if report.container_errors else 0
