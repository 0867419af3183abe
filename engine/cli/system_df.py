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

    usage = df(ctx.config(), detail=True)
    out = Printer()
    ctrs, vols = usage.containers, usage.volumes
    # Podman's printSummary: running containers are active, the others' writable layers
    # reclaimable; a volume's links count as active, an unused volume's size reclaimable
    summary = [
        _summary_row("Images", len(usage.images), usage.images_active, usage.images_size,
                     usage.images_reclaimable),
        _summary_row("Containers", len(ctrs), sum(c.state == "running" for c in ctrs),
                     sum(c.size_rw or 0 for c in ctrs), sum(c.size_rw or 0 for c in ctrs if c.state != "running")),
        _summary_row("Local Volumes", len(vols), sum(v.links for v in vols), sum(v.size for v in vols),
                     sum(v.size for v in vols if not v.links)),
    ]
    spec = format_spec(args.format)
    now = time.time()
    if spec is not None:
        if spec.kind == "json":
            out.json(summary if not args.verbose else {"Images": [i.__dict__ for i in usage.images],
                                                         "Containers": [_ctr_row(c, now) for c in ctrs],
                                                         "Volumes": [v.__dict__ for v in vols]})
        else:
            out.formatted(spec, summary)
        return 0
    if not args.verbose:
        out.table(summary, [("Type", "TYPE"), ("Total", "TOTAL"), ("Active", "ACTIVE"), ("Size", "SIZE"),
                            ("Reclaimable", "RECLAIMABLE")])
        return 0
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
    out.table([_ctr_row(c, now) for c in sorted(ctrs, key=lambda c: c.id)],
              [("ID", "CONTAINER ID"), ("Image", "IMAGE"), ("Command", "COMMAND"), ("Volumes", "LOCAL VOLUMES"),
               ("Size", "SIZE"), ("Created", "CREATED"), ("Status", "STATUS"), ("Names", "NAMES")])
    out.lines(["", "Local Volumes space usage:", ""])
    out.table([{"Name": v.name, "Links": v.links, "Size": human_size_compact(v.size)} for v in vols],
              [("Name", "VOLUME NAME"), ("Links", "LINKS"), ("Size", "SIZE")])
    return 0


def _summary_row(kind: str, total: int, active: int, size: int, reclaimable: int) -> dict:
    return {"Type": kind, "Total": total, "Active": active, "RawSize": size, "RawReclaimable": reclaimable,
            "Size": human_size_compact(size),
            "Reclaimable": f"{human_size_compact(reclaimable)} ({_percent(reclaimable, size)})"}


def _ctr_row(c, now: float) -> dict:
    """One line of `df -v`'s containers: Podman's dfContainer fields."""
    return {"ID": c.id[:12], "Image": c.image_id[:12], "Command": " ".join(c.command),
            "Volumes": len(c.mounts), "Size": human_size_compact(c.size_rw or 0),
            "Created": human_duration(now - c.created), "Status": c.state, "Names": c.names[0] if c.names else ""}


def _repo_tag(name: str) -> tuple[str, str]:
    from engine.cli.images import _repo_tag as split

    return split(name)
