"""`hull stats`: live resource usage of containers (--no-stream: one sample)."""

from __future__ import annotations

import sys
import time

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display a live stream of container resource usage statistics"
EXAMPLES = ("hull stats --all --no-stream", "hull stats ctrID",
            "hull stats --no-stream --format \"table {{.ID}} {{.Name}} {{.MemUsage}}\" ctrID")
HEADERS = {"ID": "ID", "Name": "NAME", "CPUPerc": "CPU %", "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %",
           "NetIO": "NET IO", "BlockIO": "BLOCK IO", "PIDs": "PIDS", "CPU": "CPU TIME", "AvgCPU": "AVG CPU %",
           "UpTime": "CPU TIME", "MemUsageBytes": "MEM USAGE / LIMIT"}
COLUMNS = [("ID", "ID"), ("Name", "NAME"), ("CPUPerc", "CPU %"), ("MemUsage", "MEM USAGE / LIMIT"),
           ("MemPerc", "MEM %"), ("NetIO", "NET IO"), ("BlockIO", "BLOCK IO"), ("PIDs", "PIDS"),
           ("UpTime", "CPU TIME"), ("AvgCPU", "AVG CPU %")]


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("-a", "--all", help="Show all containers. Only running containers are shown by default. "
               "The default is false")
    p.add_argument("--format", metavar="string", help="Pretty-print container statistics to JSON or using a Go "
                   "template")
    p.add_argument("-i", "--interval", type=int, default=5, metavar="int",
                   help="Time in seconds between stats reports (default 5)")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--no-reset", dest="no_reset", help="Disable resetting the screen between intervals")
    p.add_bool("--no-stream", dest="no_stream", help="Disable streaming stats and only pull the first result, "
               "default setting is false")
    p.add_bool("--no-trunc", dest="no_trunc", help="Do not truncate output")


def _row(s) -> dict:
    """A service sample (attributes or a dict) -> the template fields Podman knows."""
    # go-units HumanSize ("1.99MB", "0B") as Podman's stats columns; BytesSize for MemUsageBytes
    from engine.cli.humanize import human_bytes, human_size_compact as human_size

    get = s.get if isinstance(s, dict) else (lambda k, d=None: getattr(s, k, d))
    mem, limit = get("mem_usage", 0) or 0, get("mem_limit", 0) or 0
    net_in, net_out = get("net_input", 0) or 0, get("net_output", 0) or 0
    blk_in, blk_out = get("block_input", 0) or 0, get("block_output", 0) or 0
    cpu_ns = get("cpu_nano", 0) or 0
    cid = get("id", "") or get("container_id", "")
    return {
        "ID": cid[:12], "ContainerID": cid, "Name": get("name", ""),
        "CPUPerc": f"{get('cpu_percent', 0.0) or 0.0:.2f}%",
        "AvgCPU": f"{get('avg_cpu', 0.0) or 0.0:.2f}%",
        "MemUsage": f"{human_size(mem)} / {human_size(limit)}",
        "MemUsageBytes": f"{human_bytes(mem)} / {human_bytes(limit)}",
        "MemPerc": f"{get('mem_percent', 0.0) or 0.0:.2f}%",
        "NetIO": f"{human_size(net_in)} / {human_size(net_out)}",
        "BlockIO": f"{human_size(blk_in)} / {human_size(blk_out)}",
        "PIDs": str(get("pids", 0) or 0),
        "UpTime": _duration(cpu_ns / 1e9),
        "CPU": _duration(cpu_ns / 1e9),
    }


def _duration(seconds: float) -> str:
    """Go's time.Duration.String() at millisecond precision: "1.234s", "2m3.5s"."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds else "0s"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] [CONTAINER...]")
    from engine.cli.ctr_common import targets
    from engine.cli.output import Printer, format_spec
    from engine.services import container_stats as svc

    cfg = ctx.config()
    if args.names or args.latest:
        names = targets(cfg, args.names, latest=args.latest)
    else:
        names = targets(cfg, [], all_=True, running_only=not args.all)
    spec = format_spec(args.format, HEADERS)
    out = Printer()
    while True:
        samples = svc.stats(cfg, names)
        if not args.no_stream and not args.no_reset and sys.stdout.isatty():
            sys.stdout.write("\033[2J\033[H")
        if spec is not None and spec.kind == "json":
            out.json([_json(s) for s in samples])
        elif spec is not None:
            out.formatted(spec, [_row(s) for s in samples])
        else:
            out.table([_row(s) for s in samples], COLUMNS)
        sys.stdout.flush()
        if args.no_stream:
            return 0
        try:
            time.sleep(max(1, args.interval))
        except KeyboardInterrupt:
            return 0


def _json(s) -> dict:
    row = _row(s)
    return {"id": row["ID"], "name": row["Name"], "cpu_time": row["CPU"], "cpu_percent": row["CPUPerc"],
            "avg_cpu": row["AvgCPU"], "mem_usage": row["MemUsage"], "mem_percent": row["MemPerc"],
            "net_io": row["NetIO"], "block_io": row["BlockIO"], "pids": row["PIDs"]}
