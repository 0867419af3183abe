"""`hull system <command>`: the system command group."""

from __future__ import annotations

from engine.cli.parser import Context, run_group

# connection needs no engine; info runs against a remote service too (engine/remote).
REMOTE = ("connection", "info")

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "connection": ("engine.cli.system_connection", "Manage remote API service destinations"),
    "df": ("engine.cli.system_df", "Show hull disk usage"),
    "info": ("engine.cli.info", "Display hull system information"),
    "prune": ("engine.cli.system_prune", "Remove unused data"),
    "reset": ("engine.cli.system_reset", "Reset hull storage"),
    "service": ("engine.cli.system_service", "Run an API service"),
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_group(SUBCOMMANDS, prog, argv, ctx, "Manage hull")
