"""`hull healthcheck run`: run a container's healthcheck once (0 healthy, 1 unhealthy)."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse


def build(p: HullParser) -> None:
    p.add_argument("name", metavar="CONTAINER")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.errors import InvalidArgument

    if not argv or argv[0] in ("-h", "--help", "help"):
        sys.stdout.write("Manage health checks on containers\n\nUsage:\n  hull healthcheck [command]\n\n"
                         "Available Commands:\n  run         Run the health check of a container\n")
        return 0 if argv else 125
    if argv[0] != "run":
        raise InvalidArgument(f"unrecognized command `{prog} {argv[0]}`")
    args = parse(ctx, f"{prog} run", argv[1:], build, "Run the health check of a container",
                 ("hull healthcheck run mywebapp",), usage=f"{prog} run CONTAINER")
    from engine.services.container_health import healthcheck_run

    status = healthcheck_run(ctx.config(), args.name)
    if status == "healthy":
        return 0
    print(status)  # Podman prints the status and exits 1 for unhealthy and starting
    return 1
