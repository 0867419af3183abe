"""`hull attach`: connect this terminal to a running container's stdio.

Returns the container's exit code when it ends, 0 after the detach keys.
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "Attach to a running container"
EXAMPLES = ("hull attach ctrID", "hull attach 1234", "hull attach --no-stdin foobar")


def build(p: HullParser) -> None:
    p.add_argument("name", nargs="?", metavar="CONTAINER")
    p.add_argument("--detach-keys", metavar="string", help='Select the key sequence for detaching a container. '
                   'Format is a single character [a-Z] or ctrl-<value> where <value> is one of: a-z, @, ^, '
                   '[, , or _ (default "ctrl-p,ctrl-q")')
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")
    p.add_bool("--no-stdin", dest="no_stdin", help="Do not attach STDIN. The default is false")
    p.add_bool("--sig-proxy", default=True, help="Proxy received signals to the process (default true)")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER")
    from engine.cli.ctr_common import targets
    from engine.cli.terminal import attach
    from engine.services import container_inspect
    from engine.services import containers as svc

    cfg = ctx.config()
    name = targets(cfg, [args.name] if args.name else [], latest=args.latest)[0]
    doc = container_inspect.inspect(cfg, [name])[0]
    config = doc.get("Config") or {}
    tty = bool(config.get("Tty"))
    stdin = not args.no_stdin and bool(config.get("OpenStdin"))
    keys = args.detach_keys
    result = attach(cfg, doc["Id"], tty=tty, stdin=stdin, detach_keys=keys, sig_proxy=args.sig_proxy)
    if result.detached:
        return 0
    code = result.exit_code
    if code is None:
        code = svc.wait(cfg, [doc["Id"]], ignore=True)[0]
    return code if code >= 0 else 125
