"""`hull auto-update`: update containers to the newest image of their auto-update
policy and restart their systemd units (engine/services/auto_update.py)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Auto update containers according to their auto-update policy"
EXAMPLES = ("hull auto-update", "hull auto-update --authfile ~/authfile.json")
HEADERS = {"Unit": "UNIT", "Container": "CONTAINER", "ContainerName": "CONTAINER NAME",
           "ContainerID": "CONTAINER ID", "Image": "IMAGE", "Policy": "POLICY", "Updated": "UPDATED"}


def build(p: HullParser) -> None:
    p.add_argument("--authfile", metavar="string", help="Path to the authentication file. Use "
                   "REGISTRY_AUTH_FILE environment variable to override")
    p.add_bool("--dry-run", dest="dry_run", help="Check for pending updates")
    p.add_argument("--format", metavar="string", help="Change the output format to JSON or a Go template")
    p.add_bool("--rollback", default=True, help="Rollback to previous image if update fails (default true)")
    p.add_bool("--tls-verify", dest="tls_verify", default=None,
               help="Require HTTPS and verify certificates when contacting registries (default true)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from dataclasses import asdict

    from engine.cli.output import Printer, format_spec
    from engine.services.auto_update import AutoUpdateOptions, auto_update

    spec = format_spec(args.format, HEADERS)  # a bad template fails before anything changes
    result = auto_update(ctx.config(), AutoUpdateOptions(dry_run=args.dry_run, rollback=args.rollback,
                                                         authfile=args.authfile, tls_verify=args.tls_verify))
    rows = [asdict(r) for r in result.reports]
    out = Printer()
    if spec is not None:
        out.formatted(spec, rows)
    elif rows:
        out.table(rows, [("Unit", "UNIT"), ("Container", "CONTAINER"), ("Image", "IMAGE"), ("Policy", "POLICY"),
                         ("Updated", "UPDATED")])
    if result.direct and any(r.Updated != "false" and r.Updated != "pending" for r in result.reports):
        sys.stderr.write("no systemd manager running: containers were recreated directly, not through "
                         "their units\n")
    sys.stdout.flush()
    if result.errors:
        for err in result.errors[:-1]:
            sys.stderr.write(f"Error: {err}\n")
        raise result.errors[-1]
    return 0
