"""`hull unshare`: run a command (default $SHELL) in Hull's user and mount namespace."""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Run a command in a modified user namespace"
EXAMPLES = ("hull unshare id", "hull unshare cat /proc/self/uid_map", "hull unshare hull image mount fedora")


def build(p: HullParser) -> None:
    p.add_argument("command", nargs="...", metavar="COMMAND")
    p.add_bool("--rootless-netns", dest="rootless_netns", help="Join the rootless network namespace used for networking")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    # Everything after the first non-flag word belongs to the command, flags included.
    own: list[str] = []
    rest = list(argv)
    while rest and rest[0].startswith("-") and rest[0] != "--":
        own.append(rest.pop(0))
        if own[-1] in ("--root", "--runroot", "--log-level", "--registries-conf") and rest:
            own.append(rest.pop(0))
    if rest[:1] == ["--"]:
        rest = rest[1:]
    args = parse(ctx, prog, own, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] [COMMAND [ARG...]]")
    from engine.errors import InvalidArgument
    from engine.runtime.userns import run_in_userns

    if args.rootless_netns:
        raise InvalidArgument("--rootless-netns is not supported yet")
    run_in_userns(ctx.config(), rest)  # execs; raises on failure
    return 0
