"""Where a remote invocation goes: unix://PATH, ssh://USER@HOST[:PORT]/PATH, tcp://HOST:PORT.

Precedence as Podman's: --url, then --connection, then CONTAINER_HOST, then
CONTAINER_CONNECTION, then (with --remote) the default named connection, then the
local service socket.  The identity file comes from --identity, the connection or
CONTAINER_SSHKEY.
"""

from __future__ import annotations

import os

from engine.errors import InvalidArgument
from engine.record import Record


class Destination(Record):
    uri: str
    scheme: str          # unix, ssh or tcp
    path: str = ""       # the socket path (unix: local; ssh: on the remote host)
    host: str = ""
    port: int = 0
    user: str = ""
    identity: str = ""   # ssh private key file


def parse_uri(uri: str, identity: str = "") -> Destination:
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in ("unix", "ssh", "tcp"):
        raise InvalidArgument(f'invalid URI "{uri}": the scheme must be unix, ssh or tcp')
    if scheme == "unix":
        if not rest.startswith("/"):
            raise InvalidArgument(f'invalid URI "{uri}": unix:// needs an absolute socket path')
        return Destination(uri=uri, scheme=scheme, path=rest)
    authority, slash, path = rest.partition("/")
    user, at, hostport = authority.rpartition("@")
    host, port = hostport, ""
    if hostport.startswith("["):
        host, _, after = hostport[1:].partition("]")
        port = after.lstrip(":")
    elif hostport.count(":") == 1:
        host, _, port = hostport.partition(":")
    if not host:
        raise InvalidArgument(f'invalid URI "{uri}": no host')
    if port and not port.isdigit():
        raise InvalidArgument(f'invalid URI "{uri}": bad port "{port}"')
    if scheme == "tcp":
        if not port:
            raise InvalidArgument(f'invalid URI "{uri}": tcp:// needs HOST:PORT')
        return Destination(uri=uri, scheme=scheme, host=host, port=int(port))
    if not slash or not path:
        raise InvalidArgument(f'invalid URI "{uri}": ssh:// needs the remote socket path '
                              "(ssh://USER@HOST[:PORT]/run/user/UID/hull/hull.sock)")
    return Destination(uri=uri, scheme=scheme, path="/" + path, host=host, port=int(port or 22),
                       user=user if at else "", identity=identity)


def resolve(url: str | None, connection: str | None, remote: bool, identity: str | None) -> Destination | None:
    """The destination of this invocation, or None to run locally."""
    env = os.environ
    ident = identity or ""
    if url:
        return parse_uri(url, ident or env.get("CONTAINER_SSHKEY", ""))
    name = connection
    if not name:
        host = env.get("CONTAINER_HOST")
        if host:
            return parse_uri(host, ident or env.get("CONTAINER_SSHKEY", ""))
        name = env.get("CONTAINER_CONNECTION")
    if not name and not remote:
        return None
    from engine.remote import connections

    if name:
        conn = connections.get(name)
    else:
        conn = connections.default()
        if conn is None:  # --remote with nothing configured: the local service socket
            from engine.api.server import default_uri

            return parse_uri(default_uri(), ident)
    return parse_uri(conn.uri, ident or conn.identity or env.get("CONTAINER_SSHKEY", ""))
