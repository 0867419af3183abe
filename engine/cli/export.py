"""`hull export`: a container's root filesystem as a tar (to -o FILE or stdout)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Export a container's filesystem contents as a tar archive"
EXAMPLES = ("hull export ctrID > myCtr.tar", "hull export --output=\"myCtr.tar\" ctrID")


def build(p: HullParser) -> None:
    p.add_argument("name", metavar="CONTAINER")
    p.add_argument("-o", "--output", metavar="string", help="Write to a specified file (default: stdout, "
                   "which must be redirected)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER")
    from engine.errors import InvalidArgument
    from engine.services import container_fs as svc

    if args.output:
        svc.export_container(ctx.config(), args.name, args.output)
        return 0
    if sys.stdout.isatty():
        raise InvalidArgument("refusing to export to terminal. Use -o flag or redirect")
    sys.stdout.flush()
    svc.export_container(ctx.config(), args.name, sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return 0
