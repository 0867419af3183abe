"""`hull wait`: block until containers reach a condition; print their exit codes."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Block on one or more containers"
EXAMPLES = ("hull wait --interval 5s ctrID", "hull wait ctrID1 ctrID2", "hull wait --condition=running ctrID")
CONDITIONS = ("configured", "created", "exited", "healthy", "initialized", "paused", "removing", "running",
              "stopped", "stopping", "unhealthy")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_argument("--condition", action="append", default=[], metavar="strings",
                   help="Condition to wait on (default [stopped])")
    p.add_bool("--ignore", help="Ignore if a container does not exist")
    p.add_argument("-i", "--interval", default="250ms", metavar="string",
                   help='Time Interval to wait before polling for completion (default "250ms")')
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.errors import InvalidArgument
    from engine.services import containers as svc
    from engine.spec.parse import parse_duration

    conditions = []
    for c in args.condition or ["stopped"]:
        for word in c.split(","):
            if word not in CONDITIONS:
                raise InvalidArgument(f"unknown container state: {word}: invalid argument")  # Podman's wording
            conditions.append(word)
    interval = parse_duration(args.interval, "--interval") if not args.interval.isdigit() \
        else int(args.interval) / 1000.0
    cfg = ctx.config()
    names = targets(cfg, args.names, latest=args.latest)
    return for_each(names, lambda n: svc.wait(cfg, [n], conditions=conditions, interval=interval)[0],
                    printed=lambda n, code: str(code), ignore_missing=args.ignore)
