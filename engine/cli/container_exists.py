"""`hull container exists`: exit 0 when the container exists, 1 when not."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Check if a container exists in local storage"
EXAMPLES = ("hull container exists --external containerID", "hull container exists myctr || echo missing")


def build(p: HullParser) -> None:
    p.add_argument("name", metavar="CONTAINER")
    p.add_bool("--external", help="Check external storage containers as well as Hull containers")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER")
    from engine.services import containers as svc

    return 0 if svc.exists(ctx.config(), args.name) else 1
