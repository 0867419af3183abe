"""`hull pod top`, `pod stats` and `pod logs`: the container commands over a pod's members."""

from __future__ import annotations

import sys
import time
from typing import Any

from engine.cli.parser import Context, HullParser, parse

STATS_HEADERS = {"Pod": "POD", "CID": "CID", "Name": "NAME", "CPU": "CPU %", "MemUsage": "MEM USAGE/ LIMIT",
                 "MemUsageBytes": "MEM USAGE/ LIMIT", "Mem": "MEM %", "NetIO": "NET IO", "BlockIO": "BLOCK IO",
                 "PIDS": "PIDS"}
STATS_COLUMNS = [("Pod", "POD"), ("CID", "CID"), ("Name", "NAME"), ("CPU", "CPU %"),
                 ("MemUsage", "MEM USAGE/ LIMIT"), ("Mem", "MEM %"), ("NetIO", "NET IO"), ("BlockIO", "BLOCK IO"),
                 ("PIDS", "PIDS")]
# one colour per container, in order (--color)
COLORS = ("\033[31m", "\033[32m", "\033[33m", "\033[34m", "\033[35m", "\033[36m")
RESET = "\033[0m"


def _pick_member(ctrs: list, wanted: str, pod_name: str) -> list:
    """The member called `wanted`, as Podman resolves a name: an exact name or full ID
    first, then a unique ID prefix (so `-c a` is the container named a, not also every
    container whose ID starts with a)."""
    from engine.errors import ContainerNotFound, InvalidArgument
    exact = [c for c in ctrs if wanted in (c.name, c.id)]
    if exact:
        return exact[:1]
    by_prefix = [c for c in ctrs if c.id.startswith(wanted)]
    if len(by_prefix) > 1:
        raise InvalidArgument(f"more than one result for container ID prefix {wanted!r} in pod {pod_name}")
    if not by_prefix:
        raise ContainerNotFound(f"container {wanted} is not in pod {pod_name}: no such container")
    return by_prefix


def _pod_and_members(cfg: Any, text: str | None, latest: bool) -> tuple[Any, list[Any]]:
    from engine.errors import InvalidArgument, PodNotFound
    from engine.services import pods as svc
    from engine.services.common import open_store

    store = open_store(cfg)
    if latest:
        pods = store.pods.list()
        if not pods:
            raise PodNotFound("no pods to act on: no such pod")
        pod = pods[0]
    elif not text:
        raise InvalidArgument("you must provide a pod name or id")
    else:
        pod = store.pods.lookup(text)
    return pod, svc.members(store, pod)


def top(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", nargs="?", metavar="POD")
        p.add_argument("descriptors", nargs="*", metavar="FORMAT-DESCRIPTORS")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")

    from engine.cli.top import _split

    head, rest = _split(argv)
    args = parse(ctx, prog, head, build, "Display the running processes of containers in a pod",
                 ("hull pod top podID", "hull pod top podID pid seccomp args %C"),
                 usage=f"{prog} [options] POD [FORMAT-DESCRIPTORS|ARGS...]")
    from engine.cli.output import tabulate
    from engine.errors import Conflict
    from engine.services import container_stats as stats_svc

    cfg = ctx.config()
    pod, ctrs = _pod_and_members(cfg, args.name, args.latest)
    running = [c for c in ctrs if c.state.active]
    if not running:
        raise Conflict("pod top can only be used on pods with at least one running container")
    headers: list[str] = []
    rows: list[list[str]] = []
    for c in running:
        try:
            headers, part = stats_svc.top(cfg, c.id, list(args.descriptors) + rest)
        except Conflict:
            continue  # stopped meanwhile
        rows += [list(r) for r in part]
    for line in tabulate([headers] + rows):
        print(line.rstrip())
    return 0


def stats(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("names", nargs="*", metavar="POD")
        p.add_bool("-a", "--all", help="Provide stats for all pods")
        p.add_argument("--format", metavar="string", help="Pretty-print container statistics to JSON or using a "
                       "Go template")
        p.add_argument("-i", "--interval", type=int, default=5, metavar="int",
                       help="Time in seconds between stats reports (default 5)")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")
        p.add_bool("--no-reset", dest="no_reset", help="Disable resetting the screen when streaming")
        p.add_bool("--no-stream", dest="no_stream", help="Disable streaming stats and only pull the first result")

    args = parse(ctx, prog, argv, build, "Display a live stream of resource usage statistics for the containers "
                 "in one or more pods", ("hull pod stats", "hull pod stats a69b23034235 named-pod",
                                         "hull pod stats --no-stream --format \"{{.Pod}} {{.CPU}}\""),
                 usage=f"{prog} [options] [POD...]")
    from engine.cli.output import Printer, format_spec
    from engine.services.pod_stats import reports

    cfg = ctx.config()
    spec = format_spec(args.format, STATS_HEADERS)
    out = Printer()
    while True:
        rows = reports(cfg, args.names, latest=args.latest, stopped_too=args.all)
        if not args.no_stream and not args.no_reset and sys.stdout.isatty():
            sys.stdout.write("\033[2J\033[H")
        if spec is not None and spec.kind == "json":
            out.json(rows)
        elif spec is not None:
            out.formatted(spec, rows)
        else:
            out.table(rows, STATS_COLUMNS)
        sys.stdout.flush()
        if args.no_stream:
            return 0
        try:
            time.sleep(max(1, args.interval))
        except KeyboardInterrupt:
            return 0


def logs(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.logs import add_window_flags, log_options

    def build(p: HullParser) -> None:
        p.add_argument("name", nargs="?", metavar="POD")
        p.add_bool("--color", help="Output the containers with different colors in the log.")
        p.add_argument("-c", "--container", metavar="string", help="Filter logs by container name or id which "
                       "belongs to pod")
        p.add_bool("-f", "--follow", help="Follow log output.  The default is false")
        p.add_bool("-l", "--latest", help="Act on the latest pod hull is aware of")
        p.add_bool("-n", "--names", help="Output container names instead of container IDs in the log")
        add_window_flags(p)

    args = parse(ctx, prog, argv, build, "Fetch logs for pod with one or more containers",
                 ("hull pod logs podID", "hull pod logs -c ctrname podName", "hull pod logs --tail 2 mywebserver"),
                 usage=f"{prog} [options] POD")
    from engine.services import container_io as io_svc

    cfg = ctx.config()
    pod, ctrs = _pod_and_members(cfg, args.name, args.latest)
    ctrs = [c for c in ctrs if c.id != pod.infra_id]
    if args.container:
        ctrs = _pick_member(ctrs, args.container, pod.name)
    colors = {c.id: COLORS[i % len(COLORS)] for i, c in enumerate(ctrs)}
    opts = log_options(args)
    out, err = sys.stdout.buffer, sys.stderr.buffer
    sys.stdout.flush()
    try:
        for line in io_svc.logs(cfg, [c.id for c in ctrs], opts):
            prefix = (line.name if args.names else line.id[:12])
            if args.color:
                prefix = colors.get(line.id, "") + prefix + RESET
            head = prefix.encode() + b" "
            if args.timestamps:
                head += line.time_text.encode() + b" "
            stream = err if line.stream == "stderr" else out
            stream.write(head + line.data + (b"" if line.partial else b"\n"))
            if args.follow:
                stream.flush()
    except KeyboardInterrupt:
        pass
    finally:
        out.flush()
        err.flush()
    return 0
