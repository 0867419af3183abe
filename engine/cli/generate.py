"""`hull generate <kind>`: files made from containers and pods (systemd units)."""

from __future__ import annotations

from engine.cli.parser import Context, run_group

SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "kube": ("engine.cli.kube_generate", "Generate Kubernetes YAML based on containers, pods or volumes"),
    "systemd": ("engine.cli.generate_systemd", "Generate systemd units"),
}


def main(prog: str, argv: list[str], ctx: Context) -> int:
    return run_group(SUBCOMMANDS, prog, argv, ctx, "Generate structured data based on containers, pods or volumes")
