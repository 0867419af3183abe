"""`hull kill`: send a signal (default SIGKILL) to containers."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Kill one or more running containers with a specific signal"
EXAMPLES = ("hull kill mywebserver", "hull kill -s TERM 860a4b23", "hull kill --signal KILL -a")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Signal all running containers")
    p.add_argument("--cidfile", action="append", default=[], metavar="stringArray",
                   help="Read the container ID from the file")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_argument("-s", "--signal", default="KILL", metavar="string",
                   help='Signal to send to the container (default "KILL")')


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.services import containers as svc
    from engine.spec.parse import parse_signal

    signum = parse_signal(args.signal)
    cfg = ctx.config()
    names = targets(cfg, args.names, all_=args.all, latest=args.latest, cidfiles=args.cidfile,
                    running_only=True)
    return for_each(names, lambda n: svc.kill(cfg, [n], signum))
