"""`hull port`: the public ports of running containers, as Podman prints them
("80/tcp -> 0.0.0.0:8080"; with a PORT only "0.0.0.0:8080"; -a prefixes the short ID)."""

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


def _want(text: str) -> tuple[int, str]:
    from engine.errors import InvalidArgument

    fields = text.split("/")
    if len(fields) > 2:
        raise InvalidArgument(f"port formats are port/protocol. '{text}' is invalid")
    num = fields[0]
    if not num.isdigit():
        raise InvalidArgument(f'strconv.ParseUint: parsing "{num}": invalid syntax')
    if int(num) > 65535:
        raise InvalidArgument(f'strconv.ParseUint: parsing "{num}": value out of range')
    return int(num), (fields[1] if len(fields) == 2 else "tcp")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] CONTAINER [PORT]")
    from engine.cli.ctr_common import targets
    from engine.errors import InvalidArgument
    from engine.network.ports import expand, published
    from engine.services.common import open_store
    from engine.services.container_state import reconcile

    if not args.name and not args.all and not args.latest:
        raise InvalidArgument("you must supply a running container name or id")
    if (args.all or args.latest) and args.name:
        if args.port:
            raise InvalidArgument("--all, --latest, and containers cannot be used together")
        args.port, args.name = args.name, None
    want = _want(args.port) if args.port else None
    cfg = ctx.config()
    names = targets(cfg, [args.name] if args.name else [], all_=args.all, latest=args.latest, running_only=True)
    store = open_store(cfg)
    out = sys.stdout
    for name in names:
        c = reconcile(store, store.containers.lookup(name))
        if not c.state.active:
            continue  # Podman reports running containers only, silently
        mappings = expand(published(store.containers.run_dir(c.id), c.options) or [])
        prefix = f"{c.id[:12]}\t" if args.all else ""
        found = False
        for m in mappings:
            host = f"{m.host_ip or '0.0.0.0'}:{m.host_port}"
            if want is None:
                out.write(f"{prefix}{m.container_port}/{m.protocol} -> {host}\n")
            elif (m.container_port, m.protocol) == want:
                out.write(f"{prefix}{host}\n")
                found = True
                break
        if want is not None and not found and not args.all:
            raise InvalidArgument(f'failed to find published port "{args.port}"')
    return 0
