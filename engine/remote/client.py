"""The remote client: HTTP to a Hull (or Podman) service's libpod and Docker APIs.

- unix:// -> httpx over the socket (httpx.HTTPTransport(uds=...)).
- ssh://  -> the system's OpenSSH client forwards a local unix socket to the remote one
             (`ssh -N -L LOCAL.sock:REMOTE.sock`, stream-local forwarding: no nc/socat needed
             on the server), then as unix://.  The ssh process dies with us (PDEATHSIG) and
             is killed at exit.  HULL_SSH_CONFIG names an ssh_config file passed with -F.
- tcp://  -> plain HTTP (the service warns loudly when it listens on TCP).

HTTP errors become HullErrors here, once: 400 InvalidArgument, 404 NotFound, 409 Conflict,
else HullError, each with the service's one-line message (Podman's wording comes from the
service).  Hijacked streams (attach, exec start) use a raw socket: `hijack()`.
"""

from __future__ import annotations

import atexit
import json
import os
import socket
import subprocess
import time
from typing import Any, Iterator

import httpx

from engine.errors import Conflict, HullError, InvalidArgument, NotFound
from engine.remote.destination import Destination

LIBPOD = "/v5.0.0/libpod"
COMPAT = "/v1.44"
_SSH_WAIT = 30.0


class RemoteError(HullError):
    """The service could not be reached or answered something unusable."""


def error_for(status: int, message: str) -> HullError:
    kind: type[HullError] = {400: InvalidArgument, 404: NotFound, 409: Conflict}.get(status, HullError)
    err = kind(message)
    if kind is HullError:
        err.http_status = status
    return err


def _message(resp: httpx.Response) -> str:
    try:
        doc = json.loads(resp.read() or b"{}")
        msg = doc.get("message") or doc.get("cause") or ""
    except ValueError:
        msg = resp.text.strip()
    return (msg or f"{resp.status_code} {resp.reason_phrase}").replace("\n", " ")


def _set_pdeathsig() -> None:
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, 15)  # PR_SET_PDEATHSIG, SIGTERM
    except (OSError, AttributeError):
        pass


class SSHTunnel:
    """`ssh -N -L local:remote`: a local unix socket that reaches the remote one."""

    def __init__(self, dest: Destination) -> None:
        import tempfile

        self.dir = tempfile.mkdtemp(prefix="hull-ssh-")
        self.path = os.path.join(self.dir, "api.sock")
        argv = ["ssh", "-N", "-o", "ExitOnForwardFailure=yes", "-o", "BatchMode=yes",
                "-o", "StreamLocalBindUnlink=yes", "-o", "LogLevel=ERROR",
                "-L", f"{self.path}:{dest.path}", "-p", str(dest.port or 22)]
        if dest.identity:
            argv += ["-i", dest.identity, "-o", "IdentitiesOnly=yes"]
        config = os.environ.get("HULL_SSH_CONFIG")
        if config:
            argv += ["-F", config]
        argv.append(f"{dest.user}@{dest.host}" if dest.user else dest.host)
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, preexec_fn=_set_pdeathsig)
        except FileNotFoundError:
            raise RemoteError("ssh: the OpenSSH client is not installed") from None
        atexit.register(self.close)
        deadline = time.monotonic() + _SSH_WAIT
        while not os.path.exists(self.path):
            if self.proc.poll() is not None:
                err = (self.proc.stderr.read() if self.proc.stderr else b"").decode(errors="replace").strip()
                last = err.splitlines()[-1] if err else f"ssh exited with {self.proc.returncode}"
                self.close()
                raise RemoteError(f"failed to connect: {dest.uri}: {last}")
            if time.monotonic() > deadline:
                self.close()
                raise RemoteError(f"failed to connect: {dest.uri}: ssh did not set up the forwarding "
                                  f"within {_SSH_WAIT:.0f} s")
            time.sleep(0.01)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        import shutil

        shutil.rmtree(self.dir, ignore_errors=True)


class Client:
    """One remote destination; `request()` for JSON calls, `stream()` for chunked
    answers, `hijack()` for attach/exec."""

    remote = True  # what service_module() looks for in place of an EngineConfig

    def __init__(self, dest: Destination) -> None:
        self.dest = dest
        self._tunnel: SSHTunnel | None = None
        self._http: httpx.Client | None = None

    @property
    def socket_path(self) -> str:
        if self.dest.scheme == "unix":
            return self.dest.path
        if self.dest.scheme == "ssh":
            if self._tunnel is None:
                self._tunnel = SSHTunnel(self.dest)
            return self._tunnel.path
        return ""

    def http(self) -> httpx.Client:
        if self._http is None:
            if self.dest.scheme == "tcp":
                self._http = httpx.Client(base_url=f"http://{self.dest.host}:{self.dest.port}", timeout=None)
            else:
                transport = httpx.HTTPTransport(uds=self.socket_path)
                self._http = httpx.Client(transport=transport, base_url="http://d", timeout=None)
        return self._http

    def _send(self, method: str, path: str, *, params: Any = None, json_body: Any = None,
              content: Any = None, headers: dict[str, str] | None = None, stream: bool = False) -> httpx.Response:
        client = self.http()
        req = client.build_request(method, path, params=_clean(params), json=json_body, content=content,
                                   headers=headers)
        try:
            resp = client.send(req, stream=stream)
        except httpx.TransportError as exc:
            raise RemoteError(f"unable to connect to Hull at {self.dest.uri}: {exc or type(exc).__name__}") from None
        if resp.status_code >= 400:
            try:
                raise error_for(resp.status_code, _message(resp))
            finally:
                resp.close()
        return resp

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return self._send(method, path, **kw)

    def json(self, method: str, path: str, **kw: Any) -> Any:
        resp = self._send(method, path, **kw)
        if resp.status_code in (204, 304) or not resp.content:
            return None
        try:
            return resp.json()
        except ValueError:
            raise RemoteError(f"{method} {path}: the service answered something that is not JSON") from None

    def stream(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """A streamed response: iterate `iter_raw()`/`iter_lines()`, then `close()`."""
        return self._send(method, path, stream=True, **kw)

    def json_lines(self, method: str, path: str, **kw: Any) -> Iterator[Any]:
        resp = self.stream(method, path, **kw)
        try:
            for line in resp.iter_lines():
                if line.strip():
                    yield json.loads(line)
        finally:
            resp.close()

    def hijack(self, method: str, path: str, params: Any = None, body: Any = None) -> tuple[socket.socket, bytes]:
        """Send the request asking for `Upgrade: tcp`, read the head; returns the raw
        socket and any stream bytes read past the head."""
        from urllib.parse import urlencode

        if self.dest.scheme == "tcp":
            sock = socket.create_connection((self.dest.host, self.dest.port))
        else:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.socket_path)
            except OSError as exc:
                sock.close()
                raise RemoteError(f"unable to connect to Hull at {self.dest.uri}: {exc.strerror}") from None
        query = urlencode(_clean(params) or {})
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path}{'?' + query if query else ''} HTTP/1.1\r\nHost: d\r\n"
                "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(data)}\r\n\r\n").encode()
        sock.sendall(head + data)
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                sock.close()
                raise RemoteError(f"{method} {path}: the service closed the connection")
            buf += chunk
            if len(buf) > 1 << 20:
                sock.close()
                raise RemoteError(f"{method} {path}: response head too large")
        head_bytes, _, rest = buf.partition(b"\r\n\r\n")
        status_line = head_bytes.split(b"\r\n", 1)[0].decode("latin-1")
        parts = status_line.split(" ", 2)
        status = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 500
        if status >= 400:
            body_bytes = rest
            sock.settimeout(10)
            try:
                while True:
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    body_bytes += chunk
                    if b"}" in body_bytes:
                        break
            except OSError:
                pass
            sock.close()
            try:
                msg = json.loads(body_bytes[body_bytes.find(b"{"):body_bytes.rfind(b"}") + 1])["message"]
            except (ValueError, KeyError, TypeError):
                msg = status_line
            raise error_for(status, str(msg))
        return sock, rest

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None
        if self._tunnel is not None:
            self._tunnel.close()
            self._tunnel = None


def _clean(params: Any) -> Any:
    """Query parameters: booleans as Go's strconv wants, None dropped."""
    if not params:
        return params
    out = {}
    for k, v in params.items():
        if v is None:
            continue
        if isinstance(v, bool):
            v = "true" if v else "false"
        elif isinstance(v, (dict, list)) and k in ("filters",):
            v = json.dumps(v)
        out[k] = v
    return out
