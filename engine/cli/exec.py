"""`hull exec`: run a process in a running container.

Flags end at the container name: `hull exec ctr ls -la` passes -la to ls.
The exit code is the command's (126 cannot invoke, 127 not found, 125 engine).
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, add_global_flags

DESCRIPTION = "Run a process in a running container"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull exec -it ctrID ls", "hull exec -it -w /tmp myCtr pwd", "hull exec --user root ctrID ls")


def build(p: HullParser) -> None:
    p.add_argument("--help", action="help", help="help for exec")
    p.add_bool("-d", "--detach", help="Run the exec session in detached mode (backgrounded)")
    p.add_argument("--detach-keys", metavar="string", help='Select the key sequence for detaching a container. '
                   'Format is a single character [a-Z] or ctrl-<value> where <value> is one of: a-z, @, ^, '
                   '[, , or _ (default "ctrl-p,ctrl-q")')
    p.add_argument("-e", "--env", action="append", default=[], metavar="stringArray",
                   help="Set environment variables")
    p.add_argument("--env-file", action="append", default=[], metavar="stringArray",
                   help="Read in a file of environment variables")
    p.add_bool("-i", "--interactive", help="Make STDIN available to the contained process")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--privileged", help="Give the process extended Linux capabilities inside the container. "
               "The default is false")
    p.add_bool("-t", "--tty", help="Allocate a pseudo-TTY. The default is false")
    p.add_argument("-u", "--user", metavar="string", help="Sets the username or UID used and optionally the "
                   "groupname or GID for the specified command")
    p.add_argument("-w", "--workdir", metavar="string", help="Working directory inside the container")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    from engine.cli.run_flags import split_argv
    from engine.errors import InvalidArgument

    parser = HullParser(prog=prog, description=DESCRIPTION, examples=EXAMPLES, add_help=False,
                        usage=f"{prog} [options] CONTAINER COMMAND [ARG...]")
    build(parser)
    add_global_flags(parser)
    flags, first, rest = split_argv(parser, argv)
    ns = parser.parse_args(flags)
    ctx.apply(ns)
    if ns.latest:
        command = ([first] if first is not None else []) + rest
        from engine.cli.ctr_common import targets

        name = targets(ctx.config(), [], latest=True)[0]
    else:
        if first is None:
            raise InvalidArgument("exec requires the name or ID of a container or the --latest flag")
        name, command = first, rest
    if not command:
        raise InvalidArgument("must provide a non-empty command to start an exec session: invalid argument")
    from engine.cli.terminal import RawMode, parse_detach_keys
    io = ctx.service("container_io")
    from engine.spec import parse

    if ns.detach_keys is not None:
        parse_detach_keys(ns.detach_keys)
    env: dict[str, str] = {}
    for path in ns.env_file:
        env.update(parse.parse_env_file(path))
    env.update(parse.parse_env(ns.env))
    opts = io.ExecOptions(cmd=command, interactive=ns.interactive, tty=ns.tty, detach=ns.detach, env=env,
                          user=ns.user, workdir=ns.workdir, privileged=ns.privileged, detach_keys=ns.detach_keys)
    with RawMode(0, enabled=ns.tty and ns.interactive and not ns.detach):
        return io.exec_in_container(ctx.config(), name, opts)
