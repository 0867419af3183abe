"""Remote logs (GET .../logs: Docker frames, raw for a TTY container) and exec
(create, hijacked start, then the session's ExitCode)."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from engine.errors import ContainerNotFound, HullError, NotFound
from engine.remote.client import COMPAT, LIBPOD, Client
from engine.remote.frames import Demuxer
from engine.remote.services import unsupported
from engine.services.container_io import ExecOptions, LogOptions

__all__ = ["ExecOptions", "LogOptions", "container_logs", "exec_in_container"]


def _inspect(client: Client, name: str) -> dict:
    try:
        return client.json("GET", f"{LIBPOD}/containers/{quote(name, safe='')}/json")
    except NotFound as err:
        raise ContainerNotFound(str(err)) from None


def container_logs(client: Client, names: list[str], opts: LogOptions, stdout: Any, stderr: Any) -> None:
    for name in names:
        doc = _inspect(client, name)
        tty = bool((doc.get("Config") or {}).get("Tty"))
        params: dict[str, Any] = {"stdout": True, "stderr": True, "follow": opts.follow,
                                  "timestamps": opts.timestamps}
        if opts.tail is not None and opts.tail >= 0:
            params["tail"] = opts.tail
        if opts.since:
            params["since"] = f"{opts.since:.9f}"
        if opts.until:
            params["until"] = f"{opts.until:.9f}"
        resp = client.stream("GET", f"{COMPAT}/containers/{doc['Id']}/logs", params=params)
        demux = None if tty else Demuxer()
        try:
            for chunk in resp.iter_raw():
                if demux is None:
                    stdout.write(chunk)
                    stdout.flush()
                    continue
                for stream, payload in demux.feed(chunk):
                    target = stderr if stream == 2 else stdout
                    target.write(payload)
                    target.flush()
        finally:
            resp.close()


def exec_in_container(client: Client, name: str, opts: ExecOptions) -> int:
    from engine.remote.streams import pump
    from engine.services.container_io import _env_list

    body = {"AttachStdin": opts.interactive and not opts.detach, "AttachStdout": not opts.detach,
            "AttachStderr": not opts.detach, "Tty": opts.tty, "Cmd": list(opts.cmd),
            "Env": _env_list(opts.env), "Privileged": opts.privileged}
    if opts.user:
        body["User"] = opts.user
    if opts.workdir:
        body["WorkingDir"] = opts.workdir
    if opts.detach_keys is not None:
        body["DetachKeys"] = opts.detach_keys
    try:
        created = client.json("POST", f"{COMPAT}/containers/{quote(name, safe='')}/exec", json_body=body)
    except NotFound:
        _inspect(client, name)  # Podman's wording for a missing container (the compat route has Docker's)
        raise
    eid = created["Id"]
    if opts.detach:
        client.request("POST", f"{COMPAT}/exec/{eid}/start", json_body={"Detach": True, "Tty": opts.tty})
        return 0
    sock, pending = client.hijack("POST", f"{COMPAT}/exec/{eid}/start", body={"Detach": False, "Tty": opts.tty})
    if opts.tty:
        from engine.remote.services.containers import _resize

        _resize(client, f"{COMPAT}/exec/{eid}/resize", True)
    pump(sock, pending, tty=opts.tty, stdin_fd=opts.stdin_fd if opts.interactive else None,
         stdout_fd=opts.stdout_fd, stderr_fd=opts.stderr_fd)
    deadline = time.monotonic() + 30
    while True:
        doc = client.json("GET", f"{COMPAT}/exec/{eid}/json")
        if not doc.get("Running") and doc.get("ExitCode") is not None:
            return int(doc["ExitCode"])
        if time.monotonic() > deadline:
            raise HullError(f"exec session {eid[:12]}: no exit code from the service")
        time.sleep(0.02)


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
