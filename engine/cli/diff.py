"""`hull diff` / `hull container diff`: files added (A), changed (C), deleted (D)."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Inspect changes to the container's file systems"
EXAMPLES = ("hull container diff myCtr", "hull container diff -l --format json myCtr")


def build(p: HullParser) -> None:
    p.add_argument("name", nargs="?", metavar="CONTAINER")
    p.add_argument("--format", metavar="string", help="Change the output format (json)")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER")
    from engine.cli.ctr_common import targets
    from engine.cli.output import Printer
    from engine.errors import InvalidArgument
    from engine.services import container_fs as svc

    if args.format not in (None, "", "json"):
        raise InvalidArgument(f"format {args.format!r} is not supported, only json")
    cfg = ctx.config()
    (name,) = targets(cfg, [args.name] if args.name else [], latest=args.latest)[:1] or [None]
    changes = svc.diff_container(cfg, name)
    out = Printer()
    if args.format == "json":
        doc: dict[str, list[str]] = {}
        for key, kind in (("changed", "C"), ("added", "A"), ("deleted", "D")):
            paths = [c.path for c in changes if c.kind == kind]
            if paths:
                doc[key] = paths
        out.json(doc)
    else:
        out.lines(str(c) for c in changes)
    return 0
