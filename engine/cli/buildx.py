"""`hull buildx build`: Docker's buildx spelling of `hull build` (scripts use it)."""

from __future__ import annotations

from engine.cli.parser import Context, run_group

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "build": ("engine.cli.build", "Build an image using instructions from Containerfiles"),
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_group(SUBCOMMANDS, prog, argv, ctx, "Build images")
