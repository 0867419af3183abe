"""`hull create` / `hull container create`: create a container; print its full ID."""

from __future__ import annotations

import sys

from engine.cli.parser import Context


def main(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.container_run import parse_options, print_warnings

    opts = parse_options(prog, argv, ctx, run=False)
    from engine.services import containers as svc

    result = svc.create(ctx.config(), opts, runtime=ctx.runtime)
    print_warnings(result.warnings)
    sys.stdout.write(result.id + "\n")
    return 0
