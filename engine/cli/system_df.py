"""`hull system df`: disk usage of images, containers and volumes."""

from __future__ import annotations

from engine.cli.humanize import human_duration, human_size_compact
from engine.cli.output import Printer, format_spec
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Show hull disk usage"
EXAMPLES = ("hull system df", "hull system df -v", "hull system df --format json")


def build(p: HullParser) -> None:
    p.add_argument("--format", metavar="string", help="Pretty-print images using a Go template")
    p.add_bool("-v", "--verbose", help="Show detailed information on disk usage")


def _percent(part: int, whole: int) -> str:
    return f"{(100 * part // whole) if whole else 0}%"


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    import time

    from engine.services.system import df

    usage = df(ctx.config())
    out = Printer()
    summary = [
        {"Type": "Images", "Total": len(usage.images), "Active": usage.images_active,
         "RawSize": usage.images_size, "RawReclaimable": usage.images_reclaimable,
         "Size": human_size_compact(usage.images_size),
         "Reclaimable": f"{human_size_compact(usage.images_reclaimable)} "
                        f"({_percent(usage.images_reclaimable, usage.images_size)})"},
        {"Type": "Containers", "Total": len(usage.containers), "Active": 0, "RawSize": 0,
         "RawReclaimable": 0, "Size": "0B", "Reclaimable": "0B (0%)"},
        {"Type": "Local Volumes", "Total": len(usage.volumes), "Active": 0, "RawSize": 0,
         "RawReclaimable": 0, "Size": "0B", "Reclaimable": "0B (0%)"},
    ]
    spec = format_spec(args.format)
    if spec is not None:
        if spec.kind == "json":
            out.json(summary if not args.verbose else {"Images": [i.__dict__ for i in usage.images],
                                                         "Containers": [], "Volumes": []})
        else:
            out.formatted(spec, summary)
        return 0
    if not args.verbose:
        out.table(summary, [("Type", "TYPE"), ("Total", "TOTAL"), ("Active", "ACTIVE"), ("Size", "SIZE"),
                            ("Reclaimable", "RECLAIMABLE")])
        return 0
    now = time.time()
    rows = []
    for image in usage.images:
        for name in image.names or [""]:
            repo, tag = _repo_tag(name)
            rows.append({"Repository": repo, "Tag": tag, "ID": image.id[:12],
                         "Created": human_duration(now - image.created) if image.created else "",
                         "Size": human_size_compact(image.size), "Shared": human_size_compact(image.shared_size),
                         "Unique": human_size_compact(image.unique_size), "Containers": image.containers})
    out.lines(["Images space usage:", ""])
    out.table(rows, [("Repository", "REPOSITORY"), ("Tag", "TAG"), ("ID", "IMAGE ID"), ("Created", "CREATED"),
                     ("Size", "SIZE"), ("Shared", "SHARED SIZE"), ("Unique", "UNIQUE SIZE"),
                     ("Containers", "CONTAINERS")])
    out.lines(["", "Containers space usage:", ""])
    out.table([], [("ID", "CONTAINER ID"), ("Image", "IMAGE"), ("Command", "COMMAND"),
                   ("Volumes", "LOCAL VOLUMES"), ("Size", "SIZE"), ("Created", "CREATED"),
                   ("Status", "STATUS"), ("Names", "NAMES")])
    out.lines(["", "Local Volumes space usage:", ""])
    out.table([], [("Name", "VOLUME NAME"), ("Links", "LINKS"), ("Size", "SIZE")])
    return 0


def _repo_tag(name: str) -> tuple[str, str]:
    from engine.cli.images import _repo_tag as split

    return split(name)
