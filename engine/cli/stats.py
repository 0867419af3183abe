"""`hull stats`: live resource usage of containers (--no-stream: one sample)."""

from __future__ import annotations

import sys
import time

from engine.cli.humanize import stats_fields
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
            out.formatted(spec, [stats_fields(s) for s in samples])
        else:
            out.table([stats_fields(s) for s in samples], COLUMNS)
        sys.stdout.flush()
        if args.no_stream:
            return 0
        try:
            time.sleep(max(1, args.interval))
        except KeyboardInterrupt:
            return 0


def _json(s) -> dict:
    row = stats_fields(s)
    return {"id": row["ID"], "name": row["Name"], "cpu_time": row["CPU"], "cpu_percent": row["CPUPerc"],
            "avg_cpu": row["AvgCPU"], "mem_usage": row["MemUsage"], "mem_percent": row["MemPerc"],
            "net_io": row["NetIO"], "block_io": row["BlockIO"], "pids": row["PIDs"]}
