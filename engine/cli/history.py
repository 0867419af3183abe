"""`hull history` / `hull image history`: the layers and steps an image was built from."""

from __future__ import annotations

from typing import Any

from engine.cli.humanize import human_size, short_id, time_ago
from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Show history of a specified image"
EXAMPLES = ("hull history quay.io/fedora/fedora",)
HEADERS = {"ID": "ID", "CreatedSince": "CREATED", "CreatedBy": "CREATED BY", "Size": "SIZE", "Comment": "COMMENT",
           "CreatedAt": "CREATED AT"}
CREATED_BY_WIDTH = 45


def build(p: HullParser) -> None:
    p.add_argument("image", metavar="IMAGE")
    p.add_argument("--format", metavar="string", help="Change the output to JSON or a Go template")
    p.add_bool("-H", "--human", default=True, help="Display sizes and dates in human readable format (default true)")
    p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate the output")
    p.add_bool("-q", "--quiet", help="Display the numeric IDs only")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] IMAGE")
    from engine.services import images as svc
    from engine.services.common import rfc3339

    entries = svc.history(ctx.config(), args.image)
    out = Printer()
    if args.quiet:
        out.lines(_id(e.id, args.no_trunc) for e in entries)
        return 0
    spec = format_spec(args.format, HEADERS)
    if spec is not None and spec.kind == "json":
        out.json([{"id": e.id, "created": rfc3339(e.created), "CreatedBy": e.created_by, "size": e.size,
                   "comment": e.comment, "tags": e.tags or None} for e in entries])
        return 0
    rows: list[dict[str, Any]] = []
    for e in entries:
        created_by = e.created_by
        if not args.no_trunc and len(created_by) > CREATED_BY_WIDTH:
            created_by = created_by[: CREATED_BY_WIDTH - 3] + "..."
        rows.append({
            "ID": _id(e.id, args.no_trunc),
            "Created": time_ago(e.created) if args.human else rfc3339(e.created),
            "CreatedSince": time_ago(e.created) if args.human else rfc3339(e.created),
            "CreatedAt": rfc3339(e.created),
            "CreatedBy": created_by,
            "Size": human_size(e.size) if args.human else str(e.size),
            "Comment": e.comment,
            "Tags": e.tags,
        })
    if spec is not None:
        out.formatted(spec, rows)
        return 0
    out.table(rows, [("ID", "ID"), ("CreatedSince", "CREATED"), ("CreatedBy", "CREATED BY"),
                     ("Size", "SIZE"), ("Comment", "COMMENT")])
    return 0


def _id(image_id: str, no_trunc: bool) -> str:
    return image_id if image_id == "<missing>" else short_id(image_id, no_trunc)
