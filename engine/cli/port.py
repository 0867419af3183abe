"""`hull port`: the public ports of containers."""

from __future__ import annotations

import sys

from engine.cli.parser import Context, HullParser, parse

DESCRIPTION = "List port mappings or a specific mapping for the container"
EXAMPLES = ("hull port --all", "hull port ctrID 80/tcp", "hull port --latest 80")


def build(p: HullParser) -> None:
    p.add_argument("name", nargs="?", metavar="CONTAINER")
    p.add_argument("port", nargs="?", metavar="PRIVATE_PORT[/PROTO]")
    p.add_bool("-a", "--all", help="Display port information for all containers")
    p.add_bool("-l", "--latest", help="Act on the latest container hull is aware of")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [PORT]")
    from engine.cli.ctr_common import targets
    from engine.errors import InvalidArgument
    from engine.services import containers as svc

    cfg = ctx.config()
    if args.all and args.name:
        args.port, args.name = args.name, None
    names = targets(cfg, [args.name] if args.name else [], all_=args.all, latest=args.latest,
                    running_only=True)
    want_port, want_proto = None, "tcp"
    if args.port:
        num, _, proto = args.port.partition("/")
        if not num.isdigit():
            raise InvalidArgument(f'invalid port "{args.port}"')
        want_port, want_proto = int(num), proto or "tcp"
    out = sys.stdout
    for name in names:
        doc = svc.inspect(cfg, [name])[0]
        ports = ((doc.get("NetworkSettings") or {}).get("Ports")) or {}
        for key, bindings in sorted(ports.items()):
            num, _, proto = key.partition("/")
            if want_port is not None and (int(num) != want_port or proto != want_proto):
                continue
            for b in bindings or ():
                host = f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')}"
                if want_port is not None:
                    out.write(host + "\n")
                else:
                    prefix = f"{doc.get('Id', '')[:12]}\t" if args.all else ""
                    out.write(f"{prefix}{key} -> {host}\n")
    return 0
