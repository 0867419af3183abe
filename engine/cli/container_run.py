"""`hull run` / `hull container run`: create and start a container, attached or -d.

Attached, the CLI copies stdio through the monitor's attach socket until the
container ends and returns its exit code (Podman: 125 engine error, 126 cannot
invoke, 127 not found, else the container's own code); ctrl-p ctrl-q (or
--detach-keys) detaches and exits 0 with the container still running.
Detached it prints the full container ID.
"""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, add_global_flags

DESCRIPTION = "Run a command in a new container"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull run imageID ls -alF /etc", "hull run --network=host imageID dnf -y install java",
            "hull run --volume /var/hostdir:/var/ctrdir -i -t fedora /bin/bash")


def make_parser(prog: str, run: bool) -> HullParser:
    from engine.cli import run_flags

    parser = HullParser(prog=prog, description=DESCRIPTION if run else "Create but do not start a container",
                        examples=EXAMPLES if run else (), add_help=False,
                        usage=run_flags.USAGE.format(prog=prog))
    run_flags.build(parser, run=run)
    add_global_flags(parser)
    return parser


def parse_options(prog: str, argv: list[str], ctx: Context, run: bool, on_parsed=None):
    """argv -> ContainerOptions (REMAINDER semantics: flags after the image are the command's).
    `on_parsed(ns)` runs once the flags are parsed, before they are turned into options."""
    from engine.cli import run_flags

    parser = make_parser(prog, run)
    ns, image, command = run_flags.parse_run_argv(parser, argv)
    ctx.apply(ns)
    if on_parsed is not None:
        on_parsed(ns)
    return run_flags.to_options(ns, image, command, detach=getattr(ns, "detach", False) if run else False)


def print_warnings(warnings: list[str]) -> None:
    for warning in warnings or ():
        sys.stderr.write(f"WARNING: {warning}\n")


def prespawn_monitor(cfg, remover: bool = False) -> None:
    """Spawn the container's monitor now (engine/cli/early.py; a second call for the
    same store only updates `remover`)."""
    from engine.cli.early import prespawn_monitor as prespawn

    prespawn(cfg, remover=remover)


def _terminal_size() -> list[int]:
    """[rows, cols] of our terminal for the container's pty from its first instruction
    (as the docker CLI sends ConsoleSize); [] when stdin is no terminal."""
    import os

    try:
        cols, rows = os.get_terminal_size(0)
    except OSError:
        return []
    return [rows, cols] if rows and cols else []


def main(prog: str, argv: list[str], ctx: Context) -> int:
    opts = parse_options(prog, argv, ctx, run=True, on_parsed=lambda ns: ctx.remote or prespawn_monitor(
        ctx.config(), remover=bool(getattr(ns, "rm", False)) and not getattr(ns, "detach", False)))
    from engine.errors import HullError, InvalidArgument

    svc = ctx.service("containers")

    if opts.detach and opts.attach:
        raise InvalidArgument("-d and -a cannot be used together")
    if opts.detach and opts.rm and opts.restart.name not in ("no", ""):
        raise InvalidArgument('the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"')
    cfg = ctx.config()
    if not ctx.remote:
        from engine.services.common import keep_stores

        keep_stores()  # create, start and --rm's removal share one store (one SQLite connection)
        if not opts.detach:
            from engine.cli.terminal import attach_ahead

            attach_ahead(rm=opts.rm)
    if opts.tty and not opts.detach and not ctx.remote:
        opts.console_size = _terminal_size()
    warnings: list[str] = []
    container = svc.run(cfg, opts, runtime=ctx.runtime, attach=not opts.detach, warnings=warnings)
    print_warnings(warnings)
    if opts.detach:
        sys.stdout.write(container.id + "\n")
        sys.stdout.flush()
        return 0
    from engine.cli.terminal import attach, attach_streams

    stdin, stdout, stderr = attach_streams(opts.attach, opts.interactive)
    if ctx.remote:  # attach + wait over the API, then start (engine/remote/services/containers.py)
        code = svc.run_attached(cfg, container, stdin=stdin, stdout=stdout, stderr=stderr, tty=opts.tty,
                                rm=opts.rm, detach_keys=opts.detach_keys)
        return code if code >= 0 else 125
    result = attach(cfg, container.id, tty=opts.tty, stdin=stdin, stdout=stdout, stderr=stderr,
                    detach_keys=opts.detach_keys, sig_proxy=opts.sig_proxy,
                    socket_path=svc.attach_path(cfg, container.id))
    if result.detached:
        return 0
    code = result.exit_code
    if code is None:
        code = svc.wait(cfg, [container.id], ignore=True)[0]
    if opts.rm:
        try:  # the monitor waits until we have ended, and removes it if we could not; anonymous volumes go too
            svc.remove(cfg, [container.id], svc.RmOptions(force=True, ignore=True, volumes=True))
        except HullError:
            pass
    return code if code >= 0 else 125
