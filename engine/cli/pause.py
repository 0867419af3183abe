"""`hull pause` / `hull unpause`: freeze or thaw all processes of containers."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

EXAMPLES = ("hull pause mywebserver", "hull pause --all")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Act on all running containers")
    p.add_argument("--cidfile", action="append", default=[], metavar="stringArray",
                   help="Read the container ID from the file")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    verb = prog.rsplit(" ", 1)[-1]
    description = "Pause all the processes in one or more containers" if verb == "pause" else \
        "Unpause the processes in one or more containers"
    args = parse(ctx, prog, argv, build, description, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.services import containers as svc

    cfg = ctx.config()
    names = targets(cfg, args.names, all_=args.all, latest=args.latest, cidfiles=args.cidfile,
                    running_only=True)
    action = svc.pause if verb == "pause" else svc.unpause
    return for_each(names, lambda n: action(cfg, [n]))
