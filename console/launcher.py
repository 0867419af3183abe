"""Start the console: a fresh login token, daphne on a loopback address, the URL on stdout.

Runs in this process as the current user: the console calls the engine
in-process with that user's rights, nothing more.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings

from console import login_token
from engine.config import EngineConfig
from engine.errors import InvalidArgument

# Loopback only: the token guards the door, but there is no reason to open it
# to the network (plain http would also show the cookie to anyone on the path).
LOOPBACK = {"127.0.0.1": "127.0.0.1", "localhost": "127.0.0.1", "::1": "::1", "[::1]": "::1"}


@dataclass(frozen=True)
class Listening:
    host: str  # as the user should type it in a URL
    port: int

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"


def bind_address(host: str) -> str:
    try:
        return LOOPBACK[host.lower()]
    except KeyError:
        raise InvalidArgument(
            f"the console listens only on a loopback address (127.0.0.1, localhost, ::1), not {host!r}"
        ) from None


def url_host(host: str) -> str:
    bind = bind_address(host)
    if host.lower() == "localhost":
        return "localhost"
    return "[::1]" if bind == "::1" else bind


def announce(where: Listening, token: str, token_path: object, out: TextIO, unix_path: object = None) -> None:
    out.write(f"Hull console for this user at {where.base_url}/\n")
    out.write(f"Log in (new link at every start): {where.base_url}/login?token={token}\n")
    if unix_path is not None:
        out.write(f"Also on the unix socket {unix_path} (e.g. curl --unix-socket {unix_path} "
                  f"http://localhost/login?token=...)\n")
    out.write(f"The token is also in {token_path} (mode 0600).\n")
    out.flush()


def unix_socket_path(cfg: EngineConfig):  # -> pathlib.Path
    """{runroot}/console.sock: $XDG_RUNTIME_DIR/hull/console.sock for a user (a 0700
    directory of theirs), /run/hull/console.sock for root."""
    from engine.config import ensure_private_dir

    return ensure_private_dir(cfg.runroot) / "console.sock"


def _unix_endpoint(path) -> str:  # -> a Twisted endpoint description, socket mode 0600
    import os

    from engine.api.server import refuse_if_live

    if os.path.exists(path):
        refuse_if_live(path)  # another console answers there: do not take its socket
        os.unlink(path)  # a stale socket of an earlier console (the directory is ours alone)
    escaped = str(path).replace("\\", "\\\\").replace(":", "\\:")
    return f"unix:{escaped}:mode=600"


def serve(host: str = "127.0.0.1", port: int = 8470, out: TextIO = sys.stdout, unix: bool = False) -> int:
    """Serve until SIGINT/SIGTERM; returns the exit status."""
    bind = bind_address(host)
    if not 0 <= port <= 65535:
        raise InvalidArgument(f"bad port {port}")
    cfg = EngineConfig()
    # Rootless: join Hull's user namespace now, while this process has one thread;
    # every page then changes the store with the user's subordinate ids.
    from engine.services.common import enter_userns

    enter_userns(cfg)
    token_path = login_token.token_file(cfg)
    token = login_token.new_token()

    # Importing daphne.server installs Twisted's asyncio reactor: keep it here.
    from daphne.endpoints import build_endpoint_description_strings
    from daphne.server import Server

    from console.asgi import application

    server: Server

    def ready() -> None:
        # Called once the socket listens; with --port 0 only now is the port known.
        actual_port = server.listening_addresses[0][1] if server.listening_addresses else port
        settings.SESSION_COOKIE_NAME = f"hull_console_{actual_port}"
        login_token.write_token_file(token_path, token)
        announce(Listening(url_host(host), actual_port), token, token_path, out, unix_path)

    unix_path = unix_socket_path(cfg) if unix else None
    endpoints = build_endpoint_description_strings(host=bind, port=port)
    if unix_path is not None:
        endpoints.append(_unix_endpoint(unix_path))
    server = Server(
        application,
        endpoints=endpoints,
        ready_callable=ready,
        verbosity=1,
        server_name="hull-console",
    )
    try:
        server.run()
    finally:
        login_token.remove_token_file(token_path, token)
        login_token.set_token(None)
        if unix_path is not None:
            try:
                unix_path.unlink()
            except OSError:
                pass
    if not server.listening_addresses:
        sys.stderr.write(f"hull console: cannot listen on {host}:{port}\n")
        return 1
    return 0
