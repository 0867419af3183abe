"""`hull update`: change a container's resource limits and restart policy."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Update an existing container"
EXAMPLES = ("hull update --cpus=5 myCtr", "hull update --memory 512m --restart on-failure:3 myCtr")


def build(p: HullParser) -> None:
    p.add_argument("name", nargs="?", metavar="CONTAINER")
    p.add_argument("--cpu-period", metavar="uint", help="Limit the CPU CFS (Completely Fair Scheduler) period")
    p.add_argument("--cpu-quota", metavar="int", help="Limit the CPU CFS (Completely Fair Scheduler) quota")
    p.add_argument("-c", "--cpu-shares", dest="cpu_shares", metavar="uint", help="CPU shares (relative weight)")
    p.add_argument("--cpus", metavar="float", help="Number of CPUs. The default is 0.000 which means no limit")
    p.add_argument("--cpuset-cpus", metavar="string", help="CPUs in which to allow execution (0-3, 0,1)")
    p.add_argument("--cpuset-mems", metavar="string", help="Memory nodes (MEMs) in which to allow execution")
    p.add_argument("--health-cmd", metavar="string", help="set a healthcheck command for the container")
    p.add_argument("--health-interval", metavar="string", help="set an interval for the healthcheck")
    p.add_argument("--health-retries", metavar="uint", help="the number of retries allowed before unhealthy")
    p.add_argument("--health-start-period", metavar="string", help="the initialization time needed")
    p.add_argument("--health-timeout", metavar="string", help="the maximum time allowed to complete")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_argument("-m", "--memory", metavar="string", help="Memory limit (format: <number>[<unit>])")
    p.add_argument("--memory-reservation", metavar="string", help="Memory soft limit")
    p.add_argument("--memory-swap", metavar="string", help="Swap limit equal to memory plus swap")
    p.add_argument("--pids-limit", metavar="int", help="Tune container pids limit (set -1 for unlimited)")
    p.add_argument("--restart", metavar="string", help="Restart policy to apply when a container exits")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER")
    from engine.cli.ctr_common import targets
    from engine.errors import InvalidArgument
    from engine.services import container_update as svc
    from engine.spec import parse as p
    from engine.spec.options import Resources

    res = Resources(
        memory=p.parse_size(args.memory, "--memory") if args.memory else None,
        memory_reservation=p.parse_size(args.memory_reservation, "--memory-reservation")
        if args.memory_reservation else None,
        memory_swap=(-1 if args.memory_swap == "-1" else p.parse_size(args.memory_swap, "--memory-swap"))
        if args.memory_swap else None,
        cpus=p.parse_cpus(args.cpus) if args.cpus else None,
        cpu_shares=p.parse_int(args.cpu_shares, "--cpu-shares", 0) if args.cpu_shares else None,
        cpu_period=p.parse_int(args.cpu_period, "--cpu-period", 0) if args.cpu_period else None,
        cpu_quota=p.parse_int(args.cpu_quota, "--cpu-quota") if args.cpu_quota else None,
        cpuset_cpus=args.cpuset_cpus or "",
        cpuset_mems=args.cpuset_mems or "",
        pids_limit=p.parse_int(args.pids_limit, "--pids-limit") if args.pids_limit else None,
    )
    health = None
    tuning = {k: v for k, v in (("interval", args.health_interval), ("timeout", args.health_timeout),
                                ("start_period", args.health_start_period), ("retries", args.health_retries))
              if v is not None}
    if args.health_cmd is not None:
        health = p.parse_healthcheck(args.health_cmd, **tuning)
    elif tuning:
        raise InvalidArgument("healthcheck options require --health-cmd")
    restart = p.parse_restart(args.restart) if args.restart else None
    cfg = ctx.config()
    name = targets(cfg, [args.name] if args.name else [], latest=args.latest)[0]
    cid = svc.update(cfg, name, svc.UpdateOptions(resources=res, restart=restart, healthcheck=health))
    print(getattr(cid, "id", cid))
    return 0
