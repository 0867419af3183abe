"""`hull load` / `hull image load`: store the images of an archive (-i, or stdin)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Load image(s) from a tar archive"
EXAMPLES = ("hull load --quiet -i fedora.tar", "hull load < fedora.tar", "cat fedora.tar | hull load")


def build(p: HullParser) -> None:
    p.add_argument("-i", "--input", metavar="string", help="Read from specified archive file (default: stdin)")
    p.add_bool("-q", "--quiet", help="Suppress the output")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.errors import InvalidArgument
    from engine.services import images as svc

    if args.input:
        source = args.input
    else:
        if sys.stdin.isatty():
            raise InvalidArgument("cannot read from terminal, use command-line redirection or the --input flag")
        source = sys.stdin.buffer
    result = svc.load(ctx.config(), source)
    lines = [f"Loaded image: {n}" for n in result.names]
    named = set()
    for n in result.names:
        named.add(n)
    if not result.names:
        lines = [f"Loaded image: sha256:{i}" for i in result.ids]
    print("\n".join(lines))
    return 0
