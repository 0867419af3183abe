"""`hull pod ps` / `pod ls`: list pods as Podman does (columns, --ctr-*, filters, formats)."""

from __future__ import annotations

import sys
import time
from typing import Any

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "List pods"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull pod ps", "hull pod ps --ctr-names --ctr-status", "hull pod ps --filter name=foo",
            "hull pod ps --format \"{{.ID}} {{.Name}}\"")
HEADERS = {"ID": "POD ID", "Id": "POD ID", "Name": "NAME", "Status": "STATUS", "Created": "CREATED",
           "InfraID": "INFRA ID", "InfraId": "INFRA ID", "NumberOfContainers": "# OF CONTAINERS",
           "ContainerIds": "IDS", "ContainerNames": "NAMES", "ContainerStatuses": "STATUS",
           "Cgroup": "CGROUP", "Networks": "NETWORKS", "Labels": "LABELS"}
SORT_KEYS = ("created", "id", "name", "number", "status")


def build(p: HullParser) -> None:
    p.add_bool("--ctr-ids", dest="ctr_ids", help="Display the container UUIDs. If no-trunc is not set they "
               "will be truncated")
    p.add_bool("--ctr-names", dest="ctr_names", help="Display the container names")
    p.add_bool("--ctr-status", dest="ctr_status", help="Display the container status")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="stringArray",
                   help="Filter output based on conditions given")
    p.add_argument("--format", metavar="string", help="Pretty-print pods to JSON or using a Go template")
    p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")
    p.add_bool("--ns", help="Display namespace information of the pod")
    p.add_bool("--network", help="Display the networks of the pod")
    p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate pod and container IDs")
    p.add_bool("-n", "--noheading", help="Do not print headers")
    p.add_bool("-q", "--quiet", help="Print the numeric IDs of the pods only")
    p.add_argument("--sort", default="created", metavar="string",
                   help='Sort output by created, id, name, or number (default "created")')


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.output import Printer, format_spec, parse_filters
    from engine.errors import InvalidArgument
    svc = ctx.service("pod_inspect")

    if args.sort not in SORT_KEYS:
        raise InvalidArgument(f"invalid option for --sort, options are: {', '.join(SORT_KEYS)}")
    found = svc.list_pods(ctx.config(), parse_filters(args.filter))
    if args.latest:
        found = found[:1]
    found = _sorted(found, args.sort)
    out = Printer()
    if args.quiet:
        out.lines(p.id if args.no_trunc else p.id[:12] for p in found)
        return 0
    spec = format_spec(args.format, HEADERS)
    if spec is not None and spec.kind == "json":
        out.json([pod_json(p) for p in found])
        return 0
    now = time.time()
    rows = [pod_row(p, now, args.no_trunc) for p in found]
    if spec is not None:
        out.formatted(spec, rows, noheading=args.noheading)
        return 0
    columns = [("ID", "POD ID"), ("Name", "NAME"), ("Status", "STATUS"), ("Created", "CREATED"),
               ("InfraID", "INFRA ID")]
    if args.ctr_ids:
        columns.append(("ContainerIds", "IDS"))
    if args.ctr_names:
        columns.append(("ContainerNames", "NAMES"))
    if args.ctr_status:
        columns.append(("ContainerStatuses", "STATUS"))
    if args.network:
        columns.append(("Networks", "NETWORKS"))
    if args.ns:
        columns.append(("Cgroup", "CGROUP"))
    if not (args.ctr_ids or args.ctr_names or args.ctr_status):
        columns.append(("NumberOfContainers", "# OF CONTAINERS"))
    out.table(rows, columns, noheading=args.noheading)
    sys.stdout.flush()
    return 0


def _sorted(found: list[Any], key: str) -> list[Any]:
    if key == "created":
        return found  # newest first, as the service lists them
    get = {"id": lambda p: p.id, "name": lambda p: p.name, "number": lambda p: len(p.members),
           "status": lambda p: p.status}[key]
    return sorted(found, key=get)


def pod_row(p: Any, now: float, no_trunc: bool = False) -> dict:
    """The fields Podman's `pod ps --format` templates know."""
    from engine.humanize import human_duration
    from engine.services.common import rfc3339

    short = (lambda x: x) if no_trunc else (lambda x: x[:12])
    return {
        "ID": short(p.id), "Id": p.id, "Name": p.name, "Status": p.status,
        "Created": human_duration(max(0.0, now - p.created)) + " ago", "CreatedAt": rfc3339(p.created),
        "InfraID": short(p.infra_id), "InfraId": p.infra_id,
        "NumberOfContainers": str(len(p.members)),
        "ContainerIds": ",".join(short(m.id) for m in p.members),
        "ContainerNames": ",".join(m.name for m in p.members),
        "ContainerStatuses": ",".join(m.state for m in p.members),
        "Labels": dict(p.labels), "Networks": ",".join(p.networks), "Cgroup": p.cgroup, "Namespace": "",
    }


def pod_json(p: Any) -> dict:
    """Podman's `pod ps --format json` element."""
    from engine.services.container_inspect import go_time

    return {
        "Cgroup": p.cgroup,
        "Containers": [{"Id": m.id, "Names": m.name, "Status": m.state} for m in p.members],
        "Created": go_time(p.created),
        "Id": p.id,
        "InfraId": p.infra_id,
        "Name": p.name,
        "Namespace": "",
        "Networks": list(p.networks) or None,
        "Status": p.status,
        "Labels": dict(p.labels),
    }
