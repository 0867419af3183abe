"""Remote container lifecycle over the libpod API (create from a SpecGenerator, start,
stop, rm, wait) and the attached `run`: as the docker/podman clients do it, the wait
request and the hijacked attach are opened before start, so no output and no exit is
missed."""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import quote

from engine.errors import ContainerNotFound, HullError, ImageNotFound, NotFound
from engine.record import Factory, Record
from engine.remote.client import COMPAT, LIBPOD, Client
from engine.remote.services import unsupported
from engine.services.containers import RmOptions, RmReport, StateImproper

__all__ = ["RmOptions", "RmReport", "RemoteContainer", "run", "create", "start", "stop", "remove", "wait",
           "run_attached", "kill"]


class RemoteContainer(Record):
    id: str
    options: dict = Factory(dict)


def _q(name: str) -> str:
    return quote(name, safe="")


def _ctr_error(err: HullError) -> HullError:
    if isinstance(err, NotFound):
        return ContainerNotFound(str(err))
    if err.http_status == 409 or type(err).__name__ == "Conflict":
        return StateImproper(str(err))
    return err


def ensure_image(client: Client, image: str, policy: str = "missing") -> None:
    """Podman remote's pull policy, client side: ask the service whether it has the image."""
    from engine.remote.services import images

    if policy == "never":
        return
    if policy == "missing":
        try:
            client.request("GET", f"{LIBPOD}/images/{quote(image, safe='/:@')}/exists")
            return
        except NotFound:
            pass
    from engine.services.images import PullOptions

    try:
        images.pull(client, image, PullOptions(progress=print))
    except NotFound as err:
        raise ImageNotFound(str(err)) from None


def create(client: Client, opts: Any, *, runtime: str | None = None, pull_options: Any = None) -> Any:
    from engine.remote.specgen import to_specgen

    ensure_image(client, opts.image, opts.pull or "missing")
    doc = client.json("POST", f"{LIBPOD}/containers/create", json_body=to_specgen(opts))
    return _Created(id=doc["Id"], warnings=list(doc.get("Warnings") or []))


class _Created(Record):
    id: str
    warnings: list = Factory(list)


def run(client: Client, opts: Any, *, runtime: str | None = None, pull_options: Any = None,
        attach: bool = False, warnings: list[str] | None = None) -> RemoteContainer:
    """create, and start unless attaching (run_attached starts once attached)."""
    result = create(client, opts)
    if warnings is not None:
        warnings.extend(result.warnings)
    container = RemoteContainer(id=result.id, options={"tty": opts.tty, "interactive": opts.interactive})
    if not attach:
        client.request("POST", f"{LIBPOD}/containers/{result.id}/start")
    return container


def run_attached(client: Client, container: RemoteContainer, *, stdin: bool, stdout: bool, stderr: bool,
                 tty: bool, rm: bool, detach_keys: str | None = None) -> int:
    """Wait (headers now, body at exit) + attach (hijacked), then start; copy the streams
    until the container closes them; its exit code."""
    from engine.cli.terminal import RawMode
    from engine.remote.streams import pump

    cid = container.id
    waiter = client.stream("POST", f"{COMPAT}/containers/{cid}/wait",
                           params={"condition": "removed" if rm else "next-exit"})
    try:
        params = {"stream": True, "stdin": stdin, "stdout": stdout, "stderr": stderr}
        if detach_keys is not None:
            params["detachKeys"] = detach_keys
        sock, pending = client.hijack("POST", f"{COMPAT}/containers/{cid}/attach", params=params)
        try:
            client.request("POST", f"{LIBPOD}/containers/{cid}/start")
        except HullError:
            sock.close()
            raise
        _resize(client, f"{COMPAT}/containers/{cid}/resize", tty)
        with RawMode(0, enabled=tty and stdin):
            pump(sock, pending, tty=tty, stdin_fd=0 if stdin else None)
        import json

        body = waiter.read()
        try:
            return int(json.loads(body)["StatusCode"])
        except (ValueError, KeyError, TypeError):
            raise HullError(f"waiting for container {cid[:12]}: unexpected answer {body[:200]!r}") from None
    finally:
        waiter.close()


def _resize(client: Client, path: str, tty: bool) -> None:
    if not tty or not os.isatty(1):
        return
    try:
        size = os.get_terminal_size(1)
        client.request("POST", path, params={"h": size.lines, "w": size.columns})
    except (OSError, HullError):
        pass


def start(client: Client, names: list[str], *, attach: bool = False) -> list[RemoteContainer]:
    if attach:
        raise unsupported(__name__, "start --attach")
    out = []
    for name in names:
        try:
            client.request("POST", f"{LIBPOD}/containers/{_q(name)}/start")
        except HullError as err:
            raise _ctr_error(err) from None
        out.append(RemoteContainer(id=name))
    return out


def stop(client: Client, names: list[str], timeout: int | None = None, all: bool = False,
         ignore: bool = False) -> list[RemoteContainer]:
    out = []
    for name in names:
        try:
            client.request("POST", f"{LIBPOD}/containers/{_q(name)}/stop",
                           params={"t": timeout} if timeout is not None else None)
        except HullError as err:
            raise _ctr_error(err) from None
        out.append(RemoteContainer(id=name))
    return out


def kill(client: Client, names: list[str], signal: int | str = "KILL", all: bool = False) -> list[RemoteContainer]:
    for name in names:
        try:
            client.request("POST", f"{LIBPOD}/containers/{_q(name)}/kill", params={"signal": str(signal)})
        except HullError as err:
            raise _ctr_error(err) from None
    return [RemoteContainer(id=n) for n in names]


def remove(client: Client, names: list[str], opts: RmOptions | None = None) -> RmReport:
    opts = opts or RmOptions()
    report = RmReport()
    if opts.all:
        from engine.remote.services.container_list import ListOptions, list_containers

        names = [c.id for c in list_containers(client, ListOptions(all=True))]
    for name in names:
        params: dict[str, Any] = {"force": opts.force, "v": opts.volumes}
        if opts.time is not None:
            params["timeout"] = opts.time
        try:
            docs = client.json("DELETE", f"{LIBPOD}/containers/{_q(name)}", params=params) or []
        except HullError as err:
            err = _ctr_error(err)
            if not (opts.ignore and isinstance(err, NotFound)):
                report.errors.append(err)
            continue
        for d in docs:
            if d.get("Err"):
                report.errors.append(HullError(str(d["Err"])))
            else:
                report.removed.append(d.get("Id") or name)
    return report


def wait(client: Client, names: list[str], *, ignore: bool = False, conditions: Any = None,
         interval: Any = None) -> list[int]:
    codes = []
    for name in names:
        try:
            params = {"condition": list(conditions)} if conditions else None
            codes.append(int(client.json("POST", f"{LIBPOD}/containers/{_q(name)}/wait", params=params)))
        except NotFound:
            if not ignore:
                raise
            codes.append(-1)
    return codes


def __getattr__(name: str) -> Any:
    raise unsupported(__name__, name)
