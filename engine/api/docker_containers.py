"""Docker's /containers routes (Engine API 1.44) on Hull's container services.

Every handler goes through engine/services (create, start, stop, logs, attach via
the monitor's attach socket, cp, export, stats, commit); this module only turns
Docker's parameters into those calls and their results into Docker's JSON
(engine/api/docker_convert.py).  Status codes as the swagger: 400 bad parameter,
404 "No such container: X", 409 wrong state / name in use, 304 already there.

Attach before start (what `docker run` does: create, attach, wait, start): the
attaching connection leaves a marker in {runroot}/api-attach/; a start that finds
one starts the monitor with attach=True, so the monitor keeps the output (and the
exit) until that attacher connects, and nothing printed early is lost.  Resizes wait
for the marker to go, so they never take the attacher's place as first client.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import re
import socket
import stat
import time
from pathlib import Path
from typing import Any, Iterator

from engine.api import context
from engine.api.docker_convert import create_options, inspect_doc, now_rfc3339, summary_doc
from engine.api.docker_streams import MULTIPLEXED, RAW, BodyReader, StreamWriter, out_bytes, pump, send_all
from engine.api.http import Request
from engine.api.router import route
from engine.errors import Conflict, ContainerNotFound, HullError, ImageNotFound, InvalidArgument, NotFound

NAME_RE = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]*$")
POLL = 0.05


class NotModified(HullError):
    http_status = 304


# ---------------------------------------------------------------- helpers
@contextlib.contextmanager
def no_such(name: str) -> Iterator[None]:
    """Podman's not-found wording -> Docker's, which clients match on."""
    try:
        yield
    except ContainerNotFound:
        raise ContainerNotFound(f"No such container: {name}") from None


def _store() -> Any:
    return context.store()


def find(name: str) -> Any:
    """The reconciled container row for `name` (404 in Docker's words)."""
    from engine.services.container_state import reconcile

    store = _store()
    with no_such(name):
        return reconcile(store, store.containers.lookup(name.lstrip("/")))


def _opts(c: Any) -> dict:
    return c.options or {}


def _signal_arg(request: Request, default: str | None) -> int | None:
    from engine.spec.parse import parse_signal

    text = request.arg("signal") or default
    return parse_signal(text) if text else None


def _empty(request: Request, status: int = 204) -> None:
    request.send_empty(status)


def _attach_dir() -> Path:
    d = context.config().runroot / "api-attach"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def attach_pending(cid: str) -> bool:
    """An API attacher waits for this container's next start."""
    try:
        entries = os.listdir(_attach_dir())
    except OSError:
        return False
    for entry in entries:
        if entry.startswith(cid + "."):
            try:
                os.kill(int(entry.rsplit(".", 1)[1]), 0)
                return True
            except (ValueError, ProcessLookupError):
                with contextlib.suppress(OSError):
                    os.unlink(_attach_dir() / entry)
            except PermissionError:
                return True
    return False


def _attach_socket_path(cid: str) -> Path:
    return _store().containers.run_dir(cid) / "attach"


def _connect_monitor(cid: str, timeout: float = 10.0) -> socket.socket:
    from engine.monitor import attach as proto

    return proto.connect(os.fspath(_attach_socket_path(cid)), timeout=timeout)


# ---------------------------------------------------------------- list / create / inspect
def _filters(request: Request) -> dict[str, list[str]]:
    """Docker's filters JSON: {"k": ["v"]} or the old {"k": {"v": true}}."""
    raw = request.json_arg("filters") or {}
    if not isinstance(raw, dict):
        raise InvalidArgument("invalid filter: the filters parameter must be a JSON object")
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            values = [k for k, v in value.items() if v]
        elif isinstance(value, list):
            values = [str(v) for v in value]
        else:
            raise InvalidArgument(f"invalid filter {key!r}")
        out[str(key)] = values
    return out


@route("GET", "/containers/json")
def list_containers(request: Request) -> None:
    from engine.services.container_list import FILTERS, ListOptions, list_containers as ls

    filters = _filters(request)
    for key in filters:
        if key not in FILTERS:
            raise InvalidArgument(f"invalid filter '{key}'")
    limit = request.int_arg("limit", -1)
    cfg = context.config()
    summaries = ls(cfg, ListOptions(all=request.flag("all") or (limit is not None and limit > 0),
                                    last=limit if limit and limit > 0 else -1, filters=filters,
                                    size=request.flag("size")), store=_store())
    # compact, as dockerd's encoder: ~10% fewer bytes than json.dumps' default
    request.send_bytes(json.dumps(summary_docs(cfg, summaries), separators=(",", ":")).encode() + b"\n")


_default_mode: list[str] = []  # the user's default network mode, worked out once per process


def summary_docs(cfg: Any, summaries: list) -> list[dict]:
    """Docker's ContainerSummary of each, with HostConfig.NetworkMode (the API's spare
    child runs this ahead of its request too: context.warm_up)."""
    from engine.services.networks import network_mode

    out = []
    for s in summaries:
        c = s._container
        network = c.option("network")
        if not network:
            if not _default_mode:
                _default_mode.append(network_mode(cfg, {}))
            mode = _default_mode[0]
        else:
            mode = network_mode(cfg, {"network": network, "network_arg": c.option("network_arg")})
        out.append(summary_doc(s, mode or "default"))
    return out


@route("POST", "/containers/create")
def create(request: Request) -> None:
    from engine.services.container_create import create as create_container

    name = request.arg("name") or ""
    if name and not NAME_RE.match(name):
        raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    body = request.json(required=True)
    opts = create_options(body, name.lstrip("/"))
    links = (body.get("HostConfig") or {}).get("Links")
    if links:
        from engine.api.docker_links import apply_links

        apply_links(context.config(), _store(), opts, links)
    try:
        result = create_container(context.config(), opts)
    except ImageNotFound:
        raise ImageNotFound(f"No such image: {opts.image}") from None
    request.send_json({"Id": result.id, "Warnings": list(result.warnings)}, 201)


@route("GET", "/containers/{name}/json")
def inspect(request: Request, name: str) -> None:
    from engine.services.container_inspect import inspect_one

    c = find(name)
    doc = inspect_one(_store(), c, size=request.flag("size"))
    from engine.api.docker_exec import running_exec_ids

    request.send_json(inspect_doc(doc, running_exec_ids(c.id)))


# ---------------------------------------------------------------- lifecycle
@route("POST", "/containers/{name}/start")
def start(request: Request, name: str) -> None:
    from engine.services.containers import start as start_containers

    if request.arg("detachKeys"):
        from engine.services.detach_keys import parse_detach_keys

        parse_detach_keys(request.arg("detachKeys"))
    c = find(name)
    if c.state.active:
        raise NotModified("container already started")
    with no_such(name):
        start_containers(context.config(), [c.id], attach=attach_pending(c.id))
    _empty(request)


@route("POST", "/containers/{name}/stop")
def stop(request: Request, name: str) -> None:
    from engine.services import containers

    c = find(name)
    if not c.state.active:
        raise NotModified("container already stopped")
    timeout = request.int_arg("t")
    sig = _signal_arg(request, None)
    cfg = context.config()
    with no_such(name):
        if sig is not None:  # the asked signal first, then the rest of stop after `t`
            containers.kill(cfg, [c.id], sig)
            _wait_inactive(c.id, containers._stop_timeout(c, timeout))
            timeout = 0
        containers.stop(cfg, [c.id], timeout=timeout)
    _empty(request)


def _wait_inactive(cid: str, seconds: float) -> None:
    from engine.services.container_state import reconcile

    store = _store()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if not reconcile(store, store.containers.get(cid)).state.active:
                return
        except ContainerNotFound:
            return
        time.sleep(POLL)


@route("POST", "/containers/{name}/restart")
def restart(request: Request, name: str) -> None:
    from engine.services.containers import restart as restart_containers

    c = find(name)
    with no_such(name):
        restart_containers(context.config(), [c.id], timeout=request.int_arg("t"))
    _empty(request)


@route("POST", "/containers/{name}/kill")
def kill(request: Request, name: str) -> None:
    from engine.services.containers import kill as kill_containers

    c = find(name)
    sig = _signal_arg(request, "KILL")
    if not c.state.active:
        raise Conflict(f"Cannot kill container: {name}: Container {c.id} is not running")
    with no_such(name):
        kill_containers(context.config(), [c.id], sig)
    _empty(request)


@route("POST", "/containers/{name}/pause")
def pause(request: Request, name: str) -> None:
    _pause_or_resume(request, name, pause=True)


@route("POST", "/containers/{name}/unpause")
def unpause(request: Request, name: str) -> None:
    _pause_or_resume(request, name, pause=False)


def _pause_or_resume(request: Request, name: str, pause: bool) -> None:
    """pause needs a running container, unpause a paused one (409 otherwise, as dockerd)."""
    from engine.services import containers

    c = find(name)
    needed = "running" if pause else "paused"
    if c.state.value != needed:
        raise Conflict(f"Container {c.id} is not {needed}")
    (containers.pause if pause else containers.unpause)(context.config(), [c.id])
    _empty(request)


@route("POST", "/containers/{name}/rename")
def rename(request: Request, name: str) -> None:
    from engine.services.containers import rename as rename_container

    new = request.arg("name") or ""
    if not new or not NAME_RE.match(new):
        raise InvalidArgument(f"Invalid container name ({new}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    c = find(name)
    with no_such(name):
        rename_container(context.config(), c.id, new.lstrip("/"))
    _empty(request)


@route("DELETE", "/containers/{name}")
def remove(request: Request, name: str) -> None:
    from engine.services.containers import RmOptions, remove as rm

    if request.flag("link"):
        raise InvalidArgument("removing a link is not supported: links are /etc/hosts entries of the container")
    c = find(name)
    if c.state.active and not request.flag("force"):
        raise Conflict(f"You cannot remove a running container {c.id}. Stop the container before "
                       "attempting removal or force remove")
    report = rm(context.config(), [c.id], RmOptions(force=request.flag("force"), volumes=request.flag("v")))
    if report.errors:
        err = report.errors[0]
        if isinstance(err, ContainerNotFound):
            raise ContainerNotFound(f"No such container: {name}")
        raise err
    _empty(request)


@route("POST", "/containers/{name}/update")
def update(request: Request, name: str) -> None:
    from engine.services.container_update import UpdateOptions, update as update_container
    from engine.spec.options import Resources, RestartPolicy

    body = request.json()
    if not isinstance(body, dict):
        raise InvalidArgument("the request body must be a JSON object")
    c = find(name)

    def num(key: str) -> int | None:
        value = body.get(key)
        if value in (None, 0):
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidArgument(f"{key} must be an integer")
        return value

    nano = num("NanoCpus")
    res = Resources(memory=num("Memory"), memory_reservation=num("MemoryReservation"),
                    memory_swap=num("MemorySwap"), cpus=nano / 1e9 if nano else None,
                    cpu_shares=num("CpuShares"), cpu_period=num("CpuPeriod"), cpu_quota=num("CpuQuota"),
                    cpuset_cpus=body.get("CpusetCpus") or "", cpuset_mems=body.get("CpusetMems") or "",
                    pids_limit=num("PidsLimit"))
    restart = None
    if isinstance(body.get("RestartPolicy"), dict) and body["RestartPolicy"].get("Name") is not None:
        rp = body["RestartPolicy"]
        rname = rp.get("Name") or "no"
        if rname not in ("no", "always", "on-failure", "unless-stopped"):
            raise InvalidArgument(f"invalid restart policy {rname!r}")
        restart = RestartPolicy(name=rname, max_retries=int(rp.get("MaximumRetryCount") or 0))
    update_container(context.config(), c.id, UpdateOptions(resources=res, restart=restart))
    request.send_json({"Warnings": []})


@route("POST", "/containers/prune")
def prune(request: Request) -> None:
    from engine.services.containers import prune as prune_containers

    report = prune_containers(context.config(), _filters(request))
    request.send_json({"ContainersDeleted": list(report.removed), "SpaceReclaimed": report.reclaimed})


# ---------------------------------------------------------------- wait
@route("POST", "/containers/{name}/wait")
def wait(request: Request, name: str) -> None:
    """Headers at once (the docker CLI waits for them before it starts the container),
    the body when the condition is met."""
    from engine.services.container_state import reconcile
    from engine.services.containers import _remembered_exit

    condition = request.arg("condition") or "not-running"
    if condition not in ("not-running", "next-exit", "removed"):
        raise InvalidArgument(f"invalid condition: {condition!r}")
    c = find(name)
    cfg = context.config()
    since = time.time()
    first_finished = c.finished_at
    stream = request.stream()
    store = _store()
    code: int | None = None
    while code is None:
        try:
            c = reconcile(store, store.containers.get(c.id))
        except ContainerNotFound:
            remembered = _remembered_exit(cfg, c.id)
            code = remembered if remembered is not None else c.exit_code
            break
        if condition == "not-running" and not c.state.active:
            code = c.exit_code
        elif condition == "next-exit" and not c.state.active and c.finished_at > max(first_finished, 0) \
                and c.finished_at >= since - 1:
            code = c.exit_code
        else:
            time.sleep(POLL * 2)
    stream.write_json({"StatusCode": int(code)})
    stream.close()


# ---------------------------------------------------------------- logs / attach / resize
def _log_time(request: Request, key: str) -> float | None:
    value = request.arg(key)
    if value in (None, "", "0"):
        return None
    try:
        return float(value)
    except ValueError:
        from engine.services.common import parse_time

        try:
            return parse_time(value)
        except HullError:
            raise InvalidArgument(f"invalid value for {key}: {value!r}") from None


def _tail(request: Request) -> int:
    value = request.arg("tail") or "all"
    if value == "all":
        return -1
    try:
        return int(value)
    except ValueError:
        raise InvalidArgument(f"invalid value for tail: {value!r}") from None


def _log_records(c: Any, follow: bool, since: float | None, until: float | None, tail: int) -> Iterator[Any]:
    from engine.services.container_io import LogOptions, logs

    return logs(context.config(), [c.id], LogOptions(follow=follow, tail=tail, since=since, until=until))


@route("GET", "/containers/{name}/logs")
def container_logs(request: Request, name: str) -> None:
    want_out, want_err = request.flag("stdout"), request.flag("stderr")
    if not (want_out or want_err):
        raise InvalidArgument("you must choose at least one stream")
    c = find(name)
    tty = bool(_opts(c).get("tty"))
    timestamps = request.flag("timestamps")
    records = _log_records(c, request.flag("follow"), _log_time(request, "since"), _log_time(request, "until"),
                           _tail(request))
    stream = request.stream(content_type=RAW if tty else MULTIPLEXED)
    for line in records:
        which = 2 if line.stream == "stderr" else 1
        if (which == 1 and not want_out) or (which == 2 and not want_err):
            continue
        data = (line.time_text.encode() + b" " if timestamps else b"") + line.data + (b"" if line.partial else b"\n")
        stream.write(out_bytes(tty, which, data))
    stream.close()


@route("POST", "/containers/{name}/attach")
def attach(request: Request, name: str, websocket: bool = False) -> None:
    """Hijacked (Docker's stream framing), or with `websocket` RFC 6455 frames of raw
    output both ways (attach/ws)."""
    from engine.monitor import attach as proto
    from engine.services.detach_keys import DEFAULT_DETACH_KEYS, DetachMatcher, parse_detach_keys

    c = find(name)
    keys = parse_detach_keys(request.arg("detachKeys") or DEFAULT_DETACH_KEYS)
    want_in, want_out, want_err = request.flag("stdin"), request.flag("stdout"), request.flag("stderr")
    tty = bool(_opts(c).get("tty"))
    if want_in and not _opts(c).get("interactive"):
        want_in = False  # Docker: no stdin unless the container was created with OpenStdin
    marker = None
    if not c.state.active and request.flag("stream"):
        marker = _attach_dir() / f"{c.id}.{os.getpid()}"
        marker.touch()
    ws = None
    try:
        if websocket:
            from engine.api.websocket import WebSocket

            ws = WebSocket(request)
            sock, pending = ws.sock, ws.pending
        else:
            sock = request.hijack(RAW if tty else MULTIPLEXED)
            pending = request.conn.pending_input

        def emit(which: int, data: bytes) -> bool:
            return ws.send(data) if ws is not None else send_all(sock, out_bytes(tty, which, data))

        if request.flag("logs"):
            for line in _log_records(c, False, None, None, -1):
                which = 2 if line.stream == "stderr" else 1
                if (which == 1 and want_out) or (which == 2 and want_err):
                    emit(which, line.data + (b"" if line.partial else b"\n"))
        if not request.flag("stream"):
            return
        monitor = _await_monitor(c.id, sock)
    finally:
        if marker is not None:
            with contextlib.suppress(OSError):
                marker.unlink()
    if monitor is None:
        return
    decoder = proto.FrameDecoder()
    matcher = DetachMatcher(keys)

    def from_monitor(data: bytes) -> bool:
        if not data:
            return False
        for kind, payload in decoder.feed(data):
            if kind in (proto.STDOUT, proto.STDERR):
                which = 1 if kind == proto.STDOUT else 2
                if (which == 1 and want_out) or (which == 2 and want_err):
                    if not emit(which, payload):
                        return False
            elif kind in (proto.EXIT, proto.ERROR):
                return False
        return True

    def from_client(data: bytes) -> bool:
        if ws is not None:  # frames: input payloads; control frames answered here
            data = ws.feed(data)
            if not want_in:
                return not ws.closed
        out, detached = matcher.feed(data)
        if out:
            send_all(monitor, proto.frame(proto.STDIN, out))
        return not detached and not (ws is not None and ws.closed)

    def client_eof() -> None:
        send_all(monitor, proto.frame(proto.STDIN_CLOSE))

    reads_client = want_in or ws is not None  # a websocket's close and pings come that way
    try:
        pump(sock, pending if reads_client else b"", read_fds={monitor.fileno(): from_monitor},
             on_input=from_client if reads_client else None, on_input_eof=client_eof if want_in else None)
    finally:
        monitor.close()
        if ws is not None:
            ws.close()
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


@route("GET", "/containers/{name}/attach/ws")
def attach_ws(request: Request, name: str) -> None:
    attach(request, name, websocket=True)


def _await_monitor(cid: str, client: socket.socket) -> socket.socket | None:
    """Connect to the container's attach socket, waiting for its start when it is not
    running yet; None when the client went away (or the container was removed) first."""
    import select

    path = _attach_socket_path(cid)
    store = _store()
    watch = [client]
    while True:
        if path.exists():
            try:
                return _connect_monitor(cid)
            except OSError:
                pass
        try:
            store.containers.get(cid)
        except ContainerNotFound:
            return None
        ready, _, _ = select.select(watch, [], [], POLL) if watch else ([], [], time.sleep(POLL))
        if ready:
            try:
                peek = client.recv(1, socket.MSG_PEEK)
            except OSError:
                return None
            if not peek:
                watch = []  # a half-close (no stdin): the client still reads
            else:
                time.sleep(POLL)  # input before the start: left queued in the socket


@route("POST", "/containers/{name}/resize")
def resize(request: Request, name: str) -> None:
    from engine.monitor import attach as proto

    h, w = request.int_arg("h"), request.int_arg("w")
    if h is None or w is None or h < 0 or w < 0:
        raise InvalidArgument("h and w must be given as non-negative integers")
    c = find(name)
    if not c.state.active:
        raise Conflict(f"Container {c.id} is not running")
    deadline = time.monotonic() + 5
    while attach_pending(c.id) and time.monotonic() < deadline:
        time.sleep(POLL)  # the attacher must be the monitor's first client (it gets the replay)
    try:
        sock = _connect_monitor(c.id, timeout=5)
    except OSError:
        raise Conflict(f"Container {c.id} is not running") from None
    try:
        sock.sendall(proto.frame(proto.RESIZE, f"{h} {w}".encode()))
    finally:
        sock.close()
    request.send_bytes(b"", content_type="text/plain")


# ---------------------------------------------------------------- top / changes / export / stats
@route("GET", "/containers/{name}/top")
def top(request: Request, name: str) -> None:
    from engine.services.container_stats import top as top_of

    c = find(name)
    if not c.state.active:
        raise Conflict(f"Container {c.id} is not running")
    ps_args = (request.arg("ps_args") or "").strip()
    descriptors = [d for d in ps_args.split() if not d.startswith("-")] if ps_args else None
    with no_such(name):
        titles, rows = top_of(context.config(), c.id, descriptors)
    request.send_json({"Titles": titles, "Processes": rows})


@route("GET", "/containers/{name}/changes")
def changes(request: Request, name: str) -> None:
    from engine.services.container_fs import diff_container

    c = find(name)
    kinds = {"C": 0, "A": 1, "D": 2}
    out = [{"Path": ch.path, "Kind": kinds.get(ch.kind, 0)} for ch in diff_container(context.config(), c.id)]
    request.send_json(out)


@route("GET", "/containers/{name}/export")
def export(request: Request, name: str) -> None:
    from engine.services.container_fs import export_container

    c = find(name)
    stream = request.stream(content_type="application/x-tar")
    export_container(context.config(), c.id, StreamWriter(stream))
    stream.close()


def _system_cpu_ns() -> int:
    with open("/proc/stat") as f:
        fields = f.readline().split()[1:8]
    return sum(int(x) for x in fields) * 10**9 // os.sysconf("SC_CLK_TCK")


def _stats_doc(c: Any, s: Any, pre: Any, pre_system: int, system: int, read: str, preread: str) -> dict:
    cpus = os.cpu_count() or 1

    def cpu(sample: Any, sys_ns: int) -> dict:
        if sample is None:
            return {"cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
                    "system_cpu_usage": 0, "online_cpus": 0,
                    "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}
        return {"cpu_usage": {"total_usage": sample.cpu_nano, "usage_in_kernelmode": 0,
                              "usage_in_usermode": sample.cpu_nano, "percpu_usage": None},
                "system_cpu_usage": sys_ns, "online_cpus": cpus,
                "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0}}

    return {
        "name": "/" + c.name, "id": c.id, "read": read, "preread": preread,
        "pids_stats": {"current": s.pids},
        "blkio_stats": {"io_service_bytes_recursive": [
            {"major": 0, "minor": 0, "op": "read", "value": s.block_input},
            {"major": 0, "minor": 0, "op": "write", "value": s.block_output}],
            "io_serviced_recursive": None, "io_queue_recursive": None, "io_service_time_recursive": None,
            "io_wait_time_recursive": None, "io_merged_recursive": None, "io_time_recursive": None,
            "sectors_recursive": None},
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu(s, system),
        "precpu_stats": cpu(pre, pre_system),
        "memory_stats": {"usage": s.mem_usage, "limit": s.mem_limit, "stats": {}},
        "networks": {"eth0": {"rx_bytes": s.net_input, "rx_packets": 0, "rx_errors": 0, "rx_dropped": 0,
                              "tx_bytes": s.net_output, "tx_packets": 0, "tx_errors": 0, "tx_dropped": 0}},
    }


@route("GET", "/containers/{name}/stats")
def stats(request: Request, name: str) -> None:
    from engine.services.container_stats import sample

    c = find(name)
    store = _store()
    streaming = request.flag("stream", True)
    one_shot = request.flag("one-shot")
    if one_shot and streaming:
        raise InvalidArgument("cannot have stream=true and one-shot=true")
    zero = "0001-01-01T00:00:00Z"
    pre, pre_sys, pre_read = None, 0, zero
    if not streaming and not one_shot:  # Docker: two samples, so the client can compute CPU %
        pre, pre_sys, pre_read = sample(store, c), _system_cpu_ns(), now_rfc3339()
        time.sleep(1.0)
    out = request.stream()
    while True:
        cur, sys_ns, read = sample(store, c), _system_cpu_ns(), now_rfc3339()
        out.write_json(_stats_doc(c, cur, pre, pre_sys, sys_ns, read, pre_read))
        if not streaming:
            break
        pre, pre_sys, pre_read = cur, sys_ns, read
        time.sleep(1.0)
        try:
            c = store.containers.get(c.id)
        except ContainerNotFound:
            break
    out.close()


# ---------------------------------------------------------------- archive
def _go_mode(st: os.stat_result) -> int:
    """os.stat mode -> Go's os.FileMode bits (the docker CLI reads IsDir from them)."""
    mode = stat.S_IMODE(st.st_mode) & 0o777
    fmt = stat.S_IFMT(st.st_mode)
    bits = {stat.S_IFDIR: 1 << 31, stat.S_IFLNK: 1 << 27, stat.S_IFBLK: 1 << 26, stat.S_IFCHR: (1 << 26) | (1 << 21),
            stat.S_IFIFO: 1 << 25, stat.S_IFSOCK: 1 << 24}.get(fmt, 0)
    if st.st_mode & stat.S_ISUID:
        bits |= 1 << 23
    if st.st_mode & stat.S_ISGID:
        bits |= 1 << 22
    if st.st_mode & stat.S_ISVTX:
        bits |= 1 << 20
    return mode | bits


def _path_arg(request: Request) -> str:
    path = request.arg("path")
    if not path:
        raise InvalidArgument("path is required")
    return path if path.startswith("/") else "/" + path


@contextlib.contextmanager
def _root(c: Any, writable: bool) -> Iterator[Any]:
    from engine.services.container_fs import container_root

    with container_root(_store(), c, writable=writable) as root:
        yield root


def _stat_header(root: Any, path: str) -> tuple[bytes, Any]:
    from engine.services.container_cp import locate_in_root

    located = locate_in_root(root, path, False)
    if located is None:
        raise NotFound(f"Could not find the file {path} in container")
    st = located.st
    link = ""
    if stat.S_ISLNK(st.st_mode):
        with contextlib.suppress(OSError):
            link = os.readlink(b"", dir_fd=located.fd).decode("utf-8", "surrogateescape")
    doc = {"name": os.path.basename(path.rstrip("/")) or "/", "size": st.st_size, "mode": _go_mode(st),
           "mtime": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(st.st_mtime)), "linkTarget": link}
    return base64.b64encode(json.dumps(doc).encode()), located


@route("HEAD", "/containers/{name}/archive")
def archive_head(request: Request, name: str) -> None:
    c = find(name)
    path = _path_arg(request)
    with _root(c, False) as root:
        header, located = _stat_header(root, path)
        located.close()
    request.send_bytes(b"", headers=[(b"X-Docker-Container-Path-Stat", header)])


@route("GET", "/containers/{name}/archive")
def archive_get(request: Request, name: str) -> None:
    from engine.services.container_cp import write_source_tar

    if request.method == "HEAD":
        return archive_head(request, name)
    c = find(name)
    path = _path_arg(request)
    with _root(c, False) as root:
        header, located = _stat_header(root, path)
        try:
            if not located.is_dir and (path.endswith("/") or path.endswith("/.")):
                raise InvalidArgument(f"{path}: not a directory")
            top = os.path.basename(path.rstrip("/")) if path.rstrip("/") else "."
            if path.endswith("/."):
                top = "."
            out = _stream_with(request, "application/x-tar", [(b"X-Docker-Container-Path-Stat", header)])
            write_source_tar(located, StreamWriter(out), top)  # after the head, errors cut the stream
            out.close()
        finally:
            located.close()


def _stream_with(request: Request, content_type: str, headers: list[tuple[bytes, bytes]]) -> Any:
    """request.stream() with extra headers (the path stat the docker CLI reads)."""
    from engine.api.http import Stream

    request._finish_body()
    request._head(200, [(b"Content-Type", content_type.encode())] + headers, None)
    return Stream(request.conn)


@route("PUT", "/containers/{name}/archive")
def archive_put(request: Request, name: str) -> None:
    from engine.services.container_cp import CopyOptions, copy_in

    c = find(name)
    path = _path_arg(request)
    with _root(c, True) as root:
        from engine.services.container_cp import locate_in_root

        target = locate_in_root(root, path, True)
        if target is None:
            raise NotFound(f"Could not find the file {path} in container {name}")
        is_dir = target.is_dir
        target.close()
        if not is_dir:
            raise InvalidArgument(f"extraction point is not a directory: {path}")
        from engine.api.archive_check import spool_checked

        with spool_checked(BodyReader(request.iter_body())) as body:  # refused before anything is written
            copy_in(root, body, path, CopyOptions(archive=request.flag("copyUIDGID")), f"container {c.id[:12]}")
    request.send_bytes(b"", content_type="text/plain")


# ---------------------------------------------------------------- commit
@route("POST", "/commit")
def commit(request: Request) -> None:
    from engine.services.container_commit import CommitOptions, commit as commit_container

    name = request.arg("container") or ""
    if not name:
        raise InvalidArgument("container is required")
    c = find(name)
    body = request.json()
    changes = [ch for ch in (request.args("changes") or []) if ch]
    repo, tag = request.arg("repo") or "", request.arg("tag") or ""
    image = f"{repo}:{tag}" if repo and tag else (repo or None)
    opts = CommitOptions(changes=[line for ch in changes for line in ch.splitlines() if line.strip()],
                         message=request.arg("comment") or None, author=request.arg("author") or None,
                         format="docker", pause=request.flag("pause", True))
    if isinstance(body, dict) and body:
        opts.changes += _config_changes(body)
    image_id = commit_container(context.config(), c.id, image, opts)
    request.send_json({"Id": image_id if image_id.startswith("sha256:") else "sha256:" + image_id}, 201)


def _config_changes(body: dict) -> list[str]:
    """A commit body (ContainerConfig) -> Dockerfile-style --change lines."""
    out = []
    if body.get("Cmd"):
        out.append("CMD " + json.dumps(body["Cmd"]))
    if body.get("Entrypoint"):
        out.append("ENTRYPOINT " + json.dumps(body["Entrypoint"]))
    for e in body.get("Env") or []:
        k, _, v = e.partition("=")
        out.append(f"ENV {k}={json.dumps(v)}")
    for k, v in (body.get("Labels") or {}).items():
        out.append(f"LABEL {json.dumps(k)}={json.dumps(v)}")
    if body.get("WorkingDir"):
        out.append(f"WORKDIR {body['WorkingDir']}")
    if body.get("User"):
        out.append(f"USER {body['User']}")
    for port in body.get("ExposedPorts") or {}:
        out.append(f"EXPOSE {port}")
    return out
