"""`hull restart`: stop (if running) and start containers again."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Restart one or more containers"
EXAMPLES = ("hull restart ctrID", "hull restart --all", "hull restart -t 2 ctrID")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Restart all non-running containers")
    p.add_argument("--cidfile", action="append", default=[], metavar="stringArray",
                   help="Read the container ID from the file")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--running", help="Restart only running containers")
    p.add_argument("-t", "--time", type=int, default=None, metavar="int",
                   help="Seconds to wait for stop before killing the container (default 10)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.services import containers as svc

    cfg = ctx.config()
    names = targets(cfg, args.names, all_=args.all, latest=args.latest, cidfiles=args.cidfile,
                    running_only=args.running)
    # printed as given (Podman's RawInput; -a gives IDs)
    return for_each(names, lambda n: svc.restart(cfg, [n], timeout=args.time)[0])
