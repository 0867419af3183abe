"""`hull system reset`: remove all images (later containers, volumes...) and state."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Reset hull storage back to default state"
EXAMPLES = ("hull system reset", "hull system reset --force")


def build(p: HullParser) -> None:
    p.add_bool("-f", "--force", help="Do not prompt for confirmation")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options]")
    from engine.cli.image_prune import confirm
    from engine.services.system import reset

    cfg = ctx.config()
    if not args.force:
        prompt = (
            "WARNING! This will remove:\n"
            "        - all containers\n"
            "        - all pods\n"
            "        - all images\n"
            "        - all networks\n"
            "        - all build cache\n"
            "        - all volumes\n"
            f'        - the graphRoot directory: "{cfg.root}"\n'
            f'        - the runRoot directory: "{cfg.runroot}"\n'
            "Are you sure you want to continue? [y/N] "
        )
        if not confirm(prompt):
            return 0
    reset(cfg)
    return 0
