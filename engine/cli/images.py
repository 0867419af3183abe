"""`hull images` / `hull image ls|list`: list images in local storage.

This is the start-up benchmark path: it imports only argparse, the output and
humanize helpers and the images service (store + sqlite).
"""

from __future__ import annotations

import sys
TYPE_CHECKING = False  # typing costs milliseconds to import: annotations only
if TYPE_CHECKING:
    from typing import Any

from engine.cli.humanize import go_time, human_size, short_id, time_ago
from engine.cli.output import Printer, format_spec, parse_filters
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "List images in local storage"
EXAMPLES = (
    "hull images --format json",
    'hull images --sort repository --format "table {{.ID}} {{.Repository}} {{.Tag}}"',
    "hull images --filter dangling=true",
)
SORT_KEYS = ("created", "id", "repository", "size", "tag")
HEADERS = {"ID": "IMAGE ID", "ReadOnly": "R/O", "CreatedSince": "CREATED", "CreatedAt": "CREATED AT"}
REMOTE = True  # runs against a remote service too (engine/remote)


def build(p: HullParser) -> None:
    p.add_argument("image", nargs="?", metavar="IMAGE", help="show images matching IMAGE")
    p.add_bool("-a", "--all", help="Show all images (default hides intermediate images)")
    p.add_bool("--digests", help="Show digests")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="strings",
                   help="Filter output based on conditions provided")
    p.add_argument("--format", metavar="string", help="Change the output format to JSON or a Go template")
    p.add_bool("--history", help="Display the image name history")
    p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate output")
    p.add_bool("-n", "--noheading", help="Do not print column headings")
    p.add_bool("-q", "--quiet", help="Display only image IDs")
    p.add_argument("--sort", default="created", metavar="string",
                   help='Sort by created, id, repository, size, tag (default "created")')


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES)
    from engine.errors import InvalidArgument
    svc = ctx.service("images")

    if args.sort not in SORT_KEYS:
        raise InvalidArgument(f'invalid argument "{args.sort}" for "--sort" flag: "{args.sort}" is not a valid '
                              f'value.  Choose from: "{", ".join(SORT_KEYS)}"')  # Podman 5.6's flag validator
    spec = format_spec(args.format, HEADERS)
    filters = parse_filters(args.filter)
    opts = svc.ListOptions(all=args.all, filters=filters, reference=args.image,
                           with_labels=spec is not None)
    summaries = svc.list_images(ctx.config(), opts)
    out = Printer()
    if args.quiet:
        seen: dict[str, None] = {}
        for s in summaries:
            seen.setdefault(short_id(s.id, args.no_trunc))
        out.lines(seen)
        return 0
    if spec is not None and spec.kind == "json":
        out.json([image_json(s) for s in summaries])
        return 0
    rows = sort_rows([(s, row) for s in summaries for row in image_rows(s, args.no_trunc)], args.sort)
    if spec is not None:
        out.formatted(spec, rows, noheading=args.noheading)
        return 0
    columns = [("Repository", "REPOSITORY"), ("Tag", "TAG")]
    if args.digests:
        columns.append(("Digest", "DIGEST"))
    columns += [("ID", "IMAGE ID"), ("CreatedSince", "CREATED"), ("Size", "SIZE")]
    if args.history:
        columns.append(("HistoryText", "HISTORY"))
    out.table(rows, columns, noheading=args.noheading)
    sys.stdout.flush()
    return 0


def image_rows(s: Any, no_trunc: bool) -> list[dict[str, Any]]:
    """One row per name (repository:tag), `<none>` for a dangling image: the
    fields Podman's `--format` templates know."""
    from engine.services.common import id_hex, rfc3339

    names = s.names or [""]
    rows = []
    for name in names:
        repo, tag = _repo_tag(name)
        rows.append({
            "ID": short_id(s.id, no_trunc),
            "Id": id_hex(s.id),
            "Repository": repo,
            "Tag": tag,
            "Digest": s.digest,
            "Digests": [s.digest] if s.digest else [],
            "CreatedSince": time_ago(s.created),
            "Created": time_ago(s.created),
            "CreatedAt": go_time(s.created),  # Podman's imageReporter: created().String()
            "CreatedTime": rfc3339(s.created),
            "Size": human_size(s.size),
            "VirtualSize": human_size(s.size),
            "SharedSize": human_size(0),
            "UniqueSize": human_size(s.size),
            "Labels": s.labels,
            "Containers": s.containers,
            "ReadOnly": s.read_only,
            "Dangling": s.dangling,
            "Names": list(s.names),
            "RepoTags": list(s.names),
            "RepoDigests": s.repo_digests,
            "History": list(s.names),
            "HistoryText": ", ".join(s.names),
            "ParentId": "",
        })
    return rows


def _repo_tag(name: str) -> tuple[str, str]:
    if not name:
        return "<none>", "<none>"
    if "@" in name:
        return name.partition("@")[0], "<none>"
    slash, colon = name.rfind("/"), name.rfind(":")
    if colon > slash:
        return name[:colon], name[colon + 1 :]
    return name, "<none>"


def sort_rows(pairs: list[tuple[Any, dict[str, Any]]], key: str) -> list[dict[str, Any]]:
    """Sort (summary, row) pairs as `--sort` says; newest/biggest first."""
    if key == "created":
        pairs.sort(key=lambda p: p[0].created, reverse=True)
    elif key == "size":
        pairs.sort(key=lambda p: p[0].size, reverse=True)
    elif key == "id":
        pairs.sort(key=lambda p: p[1]["Id"])
    elif key == "tag":
        pairs.sort(key=lambda p: (p[1]["Tag"], p[1]["Repository"]))
    else:
        pairs.sort(key=lambda p: (p[1]["Repository"], p[1]["Tag"]))
    return [row for _, row in pairs]


def image_json(s: Any) -> dict[str, Any]:
    """Podman's `images --format json` element."""
    from engine.services.common import id_hex, rfc3339

    return {
        "Id": id_hex(s.id),
        "ParentId": "",
        "RepoTags": list(s.names),
        "RepoDigests": s.repo_digests,
        "Size": s.size,
        "SharedSize": 0,
        "VirtualSize": s.size,
        "Labels": s.labels or None,
        "Containers": s.containers,
        "Names": list(s.names),
        "Digest": s.digest,
        "History": list(s.names),
        "Created": int(s.created),
        "CreatedAt": rfc3339(s.created),
    }
