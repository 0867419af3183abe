"""`hull container prune`: remove every stopped container."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Remove all non running containers"
EXAMPLES = ("hull container prune", "hull container prune --filter until=24h -f")


def build(p: HullParser) -> None:
    p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                   help="Provide filter values (e.g. 'label=<key>=<value>')")
    p.add_bool("-f", "--force", help="Do not prompt for confirmation.  The default is false")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.image_prune import confirm
    from engine.cli.output import parse_filters
    from engine.services import containers as svc

    filters = parse_filters(args.filter)
    if not args.force and not confirm("WARNING! This will remove all non running containers.\n"
                                      "Are you sure you want to continue? [y/N] "):
        return 0
    report = svc.prune(ctx.config(), filters)
    for cid in report.removed:
        sys.stdout.write(cid + "\n")
    sys.stdout.flush()
    for err in report.errors:
        sys.stderr.write(f"Error: {err}\n")
    return 125 if report.errors else 0
