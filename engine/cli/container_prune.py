"""`hull container prune`: remove every stopped container."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.cli.resource_cmds import confirm_prune, print_report

DESCRIPTION = "Remove all non running containers"
EXAMPLES = ("hull container prune", "hull container prune --filter until=24h -f")


def build(p: HullParser) -> None:
    p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                   help="Provide filter values (e.g. 'label=<key>=<value>')")
    p.add_bool("-f", "--force", help="Do not prompt for confirmation.  The default is false")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.output import parse_filters
    from engine.services import containers as svc

    filters = parse_filters(args.filter)
    if not confirm_prune(args.force, "WARNING! This will remove all non running containers.\n"):
        return 0
    report = svc.prune(ctx.config(), filters)
    print_report(report)
    return 125 if report.errors else 0
