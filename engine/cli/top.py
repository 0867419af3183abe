"""`hull top`: the processes of a container, as ps(1) descriptors select."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Display the running processes of a container"
EXAMPLES = ("hull top ctrID", "hull top ctrID pid seccomp args %C", "hull top ctrID -eo user,pid,comm")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    def build(p: HullParser) -> None:
        p.add_argument("name", nargs="?", metavar="CONTAINER")
        p.add_argument("descriptors", nargs="*", metavar="FORMAT-DESCRIPTORS")
        p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")

    # descriptors like `-eo user,pid` start with a dash: everything after the container is theirs
    head, rest = _split(argv)
    args = parse(ctx, prog, head, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [FORMAT-DESCRIPTORS|ARGS...]")
    from engine.cli.ctr_common import targets
    from engine.cli.output import tabulate
    from engine.services import container_stats as svc

    cfg = ctx.config()
    name = targets(cfg, [args.name] if args.name else [], latest=args.latest)[0]
    from engine.errors import ContainerNotFound

    try:
        headers, rows = svc.top(cfg, name, list(args.descriptors) + rest)
    except ContainerNotFound as err:
        raise ContainerNotFound(f"unable to look up requested container: {err}") from None  # Podman's words
    for line in tabulate([list(headers)] + [list(r) for r in rows]):
        print(line.rstrip())
    return 0


def _split(argv: list[str]) -> tuple[list[str], list[str]]:
    for i, arg in enumerate(argv):
        if not arg.startswith("-"):
            return argv[: i + 1], argv[i + 1:]
    return argv, []
