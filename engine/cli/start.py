"""`hull start`: start created or stopped containers; -a attaches (one container)."""

from __future__ import annotations

from engine.cli.ctr_common import for_each, targets
from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Start one or more containers"
REMOTE = True  # runs against a remote service too (engine/remote)
EXAMPLES = ("hull start 860a4b231279 5421ab43b45", "hull start --interactive --attach imageID", "hull start --all")


def build(p: HullParser) -> None:
    p.add_argument("names", nargs="*", metavar="CONTAINER")
    p.add_bool("--all", help="Start all containers regardless of their state or configuration")
    p.add_bool("-a", "--attach", help="Attach container's STDOUT and STDERR")
    p.add_argument("--detach-keys", metavar="string", help='Select the key sequence for detaching a container. '
                   'Format is a single character [a-Z] or ctrl-<value> where <value> is one of: a-z, @, ^, '
                   '[, , or _ (default "ctrl-p,ctrl-q")')
    p.add_argument("--filter", action="append", default=[], metavar="stringArray",
                   help="Filter output based on conditions given")
    p.add_bool("-i", "--interactive", help="Make STDIN available to the contained process")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--sig-proxy", help="Proxy received signals to the process (default true if attaching, false "
               "otherwise)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [CONTAINER...]")
    from engine.errors import InvalidArgument
    svc = ctx.service("containers")

    cfg = ctx.config()
    if not ctx.remote:
        from engine.services.common import keep_stores

        keep_stores()  # the lookups and the starts share one store (one SQLite connection)
    if len(args.names) == 1 and not args.all and not ctx.remote:
        from engine.cli.early import prespawn_monitor

        prespawn_monitor(cfg)  # it starts while we look the container up and mount it
    if args.detach_keys is not None:
        from engine.cli.terminal import parse_detach_keys

        parse_detach_keys(args.detach_keys)
    if args.sig_proxy and not args.attach:
        raise InvalidArgument("you cannot use sig-proxy without --attach")
    if args.all:
        names = targets(cfg, [], all_=True)
        if args.filter:
            from engine.cli.output import parse_filters
            container_list = ctx.service("container_list")
            found = container_list.list_containers(cfg, container_list.ListOptions(
                all=True, filters=parse_filters(args.filter)))
            names = [c.id for c in found]
    else:
        names = targets(cfg, args.names, latest=args.latest)
    if not args.attach:
        return for_each(names, lambda n: svc.start(cfg, [n]))
    if len(names) != 1:
        raise InvalidArgument("you cannot start and attach multiple containers at once")
    from engine.cli.terminal import attach, attach_ahead

    if not ctx.remote:
        attach_ahead()
    container = svc.start(cfg, names, attach=True)[0]
    options = container.options or {}
    tty = bool(options.get("tty"))
    stdin = args.interactive and bool(options.get("interactive"))
    result = attach(cfg, container.id, tty=tty, stdin=stdin,
                    detach_keys=args.detach_keys if args.detach_keys is not None else options.get("detach_keys"),
                    sig_proxy=True, socket_path=svc.attach_path(cfg, container.id))
    if result.detached:
        return 0
    code = result.exit_code
    if code is None:
        code = svc.wait(cfg, [container.id], ignore=True)[0]
    return code if code >= 0 else 125
