"""`hull ps` / `hull container ls|list|ps`: list containers as Podman does.

A benchmark path (`ps -a` with 50 containers, against Podman): imports only
argparse, the output/humanize helpers and the containers service; templates
are compiled only with --format.
"""

from __future__ import annotations

import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

from engine.cli.humanize import go_time, human_duration, human_size_compact
from engine.cli.output import Printer, format_spec, parse_filters
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "List containers"
EXAMPLES = (
    "hull ps -a",
    "hull ps -a --format \"{{.ID}}  {{.Image}}  {{.Labels}}  {{.Mounts}}\"",
    "hull ps --size --sort names",
)
HEADERS = {"ID": "CONTAINER ID", "CreatedHuman": "CREATED", "Names": "NAMES", "ImageID": "IMAGE ID",
           "RunningFor": "CREATED", "ExitCode": "EXIT CODE", "CreatedAt": "CREATED AT"}
COLUMNS = [("ID", "CONTAINER ID"), ("Image", "IMAGE"), ("Command", "COMMAND"), ("CreatedHuman", "CREATED"),
           ("Status", "STATUS"), ("Ports", "PORTS"), ("Names", "NAMES")]
SORT_KEYS = ("command", "created", "id", "image", "names", "runningfor", "size", "status")

REMOTE = True  # runs against a remote service too (engine/remote)


def build(p: HullParser) -> None:
    p.add_bool("-a", "--all", help="Show all the containers, default is only running containers")
    p.add_bool("--external", help="Show containers in storage not controlled by Hull")
    p.add_argument("-f", "--filter", action="append", default=[], metavar="strings",
                   help="Filter output based on conditions given")
    p.add_argument("--format", metavar="string", help="Pretty-print containers to JSON or using a Go template")
    p.add_argument("-n", "--last", type=int, default=-1, metavar="int",
                   help="Print the n last created containers (all states)")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--no-trunc", dest="no_trunc", help="Display the extended information")
    p.add_bool("--noheading", help="Do not print headers")
    p.add_bool("-p", "--pod", help="Print the ID and name of the pod the containers are associated with")
    p.add_bool("-q", "--quiet", help="Print the numeric IDs of the containers only")
    p.add_bool("-s", "--size", help="Display the total file sizes")
    p.add_argument("--sort", default="created", metavar="choice",
                   help='Sort output by: command, created, id, image, names, runningfor, size, status')
    p.add_bool("--sync", help="Sync container state with OCI runtime")
    p.add_argument("-w", "--watch", type=int, default=0, metavar="uint",
                   help="Watch the ps output on an interval in seconds")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.errors import InvalidArgument
    svc = ctx.service("container_list")

    if args.sort not in SORT_KEYS:
        raise InvalidArgument(f'invalid argument "{args.sort}" for "--sort" flag: "{args.sort}" is not a valid '
                              f'value.  Choose from: "{", ".join(SORT_KEYS)}"')
    if args.quiet and args.size:
        raise InvalidArgument("quiet and size cannot be used together")
    spec = format_spec(args.format, HEADERS)
    filters = parse_filters(args.filter)
    from engine.services.container_list import STATUSES  # loaded already (local), cheap (remote)

    for value in filters.get("status", ()):  # checked up front, as Podman, not per container
        if value not in STATUSES:
            raise InvalidArgument(f"unknown container state: {value}: invalid argument")
    opts = svc.ListOptions(all=args.all, latest=args.latest, last=args.last, filters=filters,
                           size=args.size or _wants_size(args.format))
    found = svc.list_containers(ctx.config(), opts)
    now = time.time()
    out = Printer()
    if args.quiet:
        out.lines(c.id if args.no_trunc else c.id[:12] for c in found)
        return 0
    if spec is not None and spec.kind == "json":
        out.json([container_json(c, _pods(ctx, found)) for c in found])
        return 0
    pods = _pods(ctx, found)
    rows = sort_rows([ps_row(c, now, args.no_trunc, pods) for c in found], args.sort)
    if spec is not None:
        out.formatted(spec, rows, noheading=args.noheading)
        return 0
    columns = list(COLUMNS)
    if args.pod:
        columns[-1:-1] = [("Pod", "POD ID"), ("PodName", "PODNAME")]
    if args.size:
        columns.append(("Size", "SIZE"))
    out.table(rows, columns, noheading=args.noheading)
    sys.stdout.flush()
    return 0


def _wants_size(fmt: str | None) -> bool:
    return bool(fmt) and ".Size" in fmt


def command_text(command: list[str], no_trunc: bool) -> str:
    text = " ".join(command)
    if not no_trunc and len(text) > 17:
        return text[:17] + "..."
    return text


def ports_text(ports: "Any") -> str:
    """Podman's "0.0.0.0:8080-8081->80-81/tcp, ..." from the summary's port mappings."""
    if not ports:
        return ""
    from engine.network.ports import from_dicts, ports_text as text

    return text(from_dicts(ports))


def size_text(c: "Any") -> str:
    if c.size_rw is None:
        return ""
    return f"{human_size_compact(c.size_rw, 3)} (virtual {human_size_compact(c.size_root_fs or 0, 3)})"


def _pods(ctx: Context, found: "Any") -> dict:
    """{pod id: (name, infra id)} when some container is in a pod (else no DB read)."""
    if not any(c.pod for c in found):
        return {}
    if ctx.remote:
        return {p.id: (p.name, p.infra_id) for p in ctx.service("pod_inspect").list_pods(ctx.config())}
    from engine.services.common import open_store

    return {p.id: (p.name, p.infra_id) for p in open_store(ctx.config()).pods.list()}


def ps_row(c: "Any", now: float, no_trunc: bool = False, pods: "dict | None" = None) -> dict:
    """The fields Podman's `ps --format` templates know, for one ContainerSummary."""
    created_human = human_duration(max(0.0, now - c.created)) + " ago"
    return {
        "ID": c.id if no_trunc else c.id[:12],
        "Id": c.id,
        "Image": c.image,
        "ImageID": c.image_id if no_trunc else c.image_id[:12],
        "Command": command_text(c.command, no_trunc),
        "CreatedHuman": created_human,
        "Created": created_human,
        "RunningFor": created_human,
        "CreatedAt": go_time(c.created),  # Podman's psReporter: Created.String()
        "Status": c.status,
        "State": c.state,
        "Ports": ports_text(c.ports),
        "Names": c.names[0] if c.names else "",
        "Labels": dict(c.labels),
        "Mounts": list(c.mounts),  # a Go []string: {{.Mounts}} prints [/a /b]
        "Size": size_text(c),
        "ExitCode": c.exit_code,
        "Exited": c.exited,
        "ExitedAt": int(c.finished_at),
        "StartedAt": int(c.started_at),
        "Pid": c.pid,
        "Pod": c.pod if no_trunc else c.pod[:12],
        "PodName": (pods or {}).get(c.pod, ("", ""))[0],
        "Restarts": c.restarts,
        "AutoRemove": c.auto_remove,
        "IsInfra": bool(c.pod) and (pods or {}).get(c.pod, ("", ""))[1] == c.id,
        "Networks": [],
        "Namespaces": {},
    }


def sort_rows(rows: list[dict], key: str) -> list[dict]:
    """--sort as Podman's SortPsOutput: ascending, so the default (created) lists the
    oldest first; -n N has already kept the N newest."""
    if key == "created":
        return rows[::-1]  # the service lists newest first
    if key == "runningfor":
        return sorted(rows[::-1], key=lambda r: r["StartedAt"])
    field = {"command": "Command", "id": "Id", "image": "Image", "names": "Names", "size": "Size",
             "status": "State"}[key]
    return sorted(rows[::-1], key=lambda r: str(r[field]))


def container_json(c: "Any", pods: "dict | None" = None) -> dict:
    """Podman's `ps --format json` element."""
    row = ps_row(c, time.time(), True)
    return {
        "AutoRemove": c.auto_remove,
        "Command": list(c.command),
        "Created": int(c.created),
        "CreatedAt": row["CreatedHuman"],
        "Exited": c.exited,
        "ExitedAt": int(c.finished_at),
        "ExitCode": c.exit_code,
        "Id": c.id,
        "Image": c.image,
        "ImageID": c.image_id,
        "IsInfra": bool(c.pod) and (pods or {}).get(c.pod, ("", ""))[1] == c.id,
        "Labels": dict(c.labels) or None,
        "Mounts": list(c.mounts),
        "Names": list(c.names),
        "Namespaces": {},
        "Networks": [],
        "Pid": c.pid,
        "Pod": c.pod,
        "PodName": (pods or {}).get(c.pod, ("", ""))[0],
        "Ports": list(c.ports) or None,
        "Restarts": c.restarts,
        "Size": None if c.size_rw is None else {"rootFsSize": c.size_root_fs or 0, "rwSize": c.size_rw},
        "StartedAt": int(c.started_at),
        "State": c.state,
        "Status": c.status,
    }
