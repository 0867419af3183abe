"""`hull system service [URI]`: serve the Docker-compatible and libpod REST APIs.

Default URI: unix://$XDG_RUNTIME_DIR/hull/hull.sock (root: unix:///run/hull/hull.sock).
Systemd socket activation (LISTEN_FDS) takes precedence over the URI.
"""

from __future__ import annotations

from engine.cli.parser import Context, HullParser, parse
from engine.errors import InvalidArgument

DESCRIPTION = "Run an API service"
EXAMPLES = ("hull system service --time 0 unix:///tmp/hull.sock", "hull system service --time 0 tcp://localhost:8888")


def build(p: HullParser) -> None:
    p.add_argument("uri", nargs="*", help="unix://PATH or tcp://HOST:PORT")
    p.add_argument("-t", "--time", default="5", metavar="int",
                   help="Time until the service session expires in seconds.  Use 0 to disable the timeout (default 5)")
    p.add_argument("--cors", default="", help="Set CORS Headers")


def main(prog: str, argv: list[str], ctx: Context) -> int:
    args = parse(ctx, prog, argv, build, DESCRIPTION, EXAMPLES, usage=f"{prog} [options] [URI]")
    try:
        idle = float(args.time)
    except ValueError:
        raise InvalidArgument(f'invalid argument "{args.time}" for "-t, --time" flag') from None
    if idle < 0:
        raise InvalidArgument("--time must not be negative")
    if len(args.uri) > 1:
        raise InvalidArgument(f"accepts at most 1 arg(s), received {len(args.uri)}")
    from engine.api.server import run

    ctx.config()  # bad --root/--runroot fail here, before listening
    run(args.uri, idle, ctx.config)
    return 0
