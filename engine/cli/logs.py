"""`hull logs`: a container's log (stdout lines to stdout, stderr lines to stderr).

With several containers each line is prefixed with the container's short
ID (its name with --names), as Podman.  -f follows until every container
has exited or the user interrupts.
"""

from __future__ import annotations

import sys
from typing import Any

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Fetch the logs of one or more containers"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull logs ctrID", "hull logs --names ctrID1 ctrID2", "hull logs --tail 2 mywebserver",
            "hull logs --follow=true --since 10m ctrID", "hull logs mywebserver mydbserver")


def build(p: HullParser) -> None:
    p.add_argument("containers", nargs="*", metavar="CONTAINER")
    p.add_bool("--color", help="Output the containers with different colors in the log.")
    p.add_bool("-f", "--follow", help="Follow log output.  The default is false")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("-n", "--names", help="Output the container name in the log")
    add_window_flags(p)


def add_window_flags(p: HullParser) -> None:
    """--since/--tail/--timestamps/--until: shared with `pod logs`."""
    p.add_argument("--since", metavar="string", help="Show logs since TIMESTAMP")
    p.add_argument("--tail", type=int, default=-1, metavar="int",
                   help="Output the specified number of LINES at the end of the logs.  Defaults to -1, "
                        "which prints all lines")
    p.add_bool("-t", "--timestamps", help="Output the timestamps in the log")
    p.add_argument("--until", metavar="string", help="Show logs until TIMESTAMP")


def log_options(args: Any, **extra: Any) -> Any:  # -> container_io.LogOptions
    """The LogOptions for -f and the add_window_flags flags."""
    from engine.cli.ctr_common import parse_time_arg
    from engine.services.container_io import LogOptions

    return LogOptions(
        follow=args.follow,
        tail=args.tail,
        since=parse_time_arg(args.since, "--since") if args.since else None,
        until=parse_time_arg(args.until, "--until") if args.until else None,
        timestamps=args.timestamps,
        **extra,
    )


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.cli.ctr_common import targets
    svc = ctx.service("container_io")

    cfg = ctx.config()
    names = targets(cfg, args.containers, latest=args.latest)
    opts = log_options(args, names_prefix=args.names)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    try:
        svc.container_logs(cfg, names, opts, out, err)
    except KeyboardInterrupt:
        pass
    finally:
        out.flush()
        err.flush()
    return 0
