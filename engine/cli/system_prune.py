"""`hull system prune`: stopped containers, dangling (-a: unused) images, and with
--volumes unused volumes."""

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
    from engine.services import containers as ctr
    from engine.services import images as img

    filters = parse_filters(args.filter)
    if not args.force:
        volumes = "        - all volumes not used by at least one container\n" if args.volumes else ""
        images = "        - all images without at least one container associated with them\n" if args.all \
            else "        - all dangling images\n"
        if not confirm("WARNING! This command removes:\n        - all stopped containers\n" + volumes + images
                       + "        - all build cache\n\nAre you sure you want to continue? [y/N] "):
            return 0
    cfg = ctx.config()
    out = sys.stdout
    code = 0
    report = ctr.prune(cfg, filters)
    if report.removed:
        out.write("Deleted Containers\n" + "".join(f"{cid}\n" for cid in report.removed) + "\n")
    for err in report.errors:
        sys.stderr.write(f"Error: {err}\n")
        code = 125
    reclaimed = report.reclaimed
    if args.volumes:
        from engine.services import volumes as vol

        pruned = vol.prune(cfg, filters)
        if pruned:
            out.write("Deleted Volumes\n" + "".join(f"{n}\n" for n, _ in pruned) + "\n")
            reclaimed += sum(size for _, size in pruned)
    deleted = img.prune(cfg, img.PruneOptions(all=args.all, filters=filters))
    if deleted:
        out.write("Deleted Images\n" + "".join(f"{i}\n" for i in deleted) + "\n")
    from engine.cli.humanize import human_size

    out.write(f"Total reclaimed space: {human_size(reclaimed)}\n")
    return code
