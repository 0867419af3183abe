"""The live websockets (logs, events, stats, terminal) against real containers.

The console runs in this process (WebsocketCommunicator on console.asgi) with
the engine of the `hull` fixture (HULL_ROOT/HULL_RUNROOT point at it); the
containers are made by the real CLI, as root.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest
from channels.testing import WebsocketCommunicator

from console.asgi import application
from tests.console.test_websocket import headers, owner_session_key

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def engine(hull, hull_dirs, busybox_image, monkeypatch: pytest.MonkeyPatch):
    """The `hull` fixture's engine, with the console in this process pointed at it."""
    hull.load(busybox_image)
    for key, value in hull.env().items():
        if key.startswith("XDG_") or key == "HULL_TEST":
            monkeypatch.setenv(key, value)
    monkeypatch.setenv("HULL_ROOT", str(hull.root))
    monkeypatch.setenv("HULL_RUNROOT", str(hull.runroot))
    return hull


def run_detached(hull, *args: str) -> str:
    return hull("run", "-d", *args).ok().stdout.strip()


async def open_socket(path: str) -> WebsocketCommunicator:
    communicator = WebsocketCommunicator(application, path, headers=headers(session=owner_session_key()))
    connected, _ = await communicator.connect(timeout=10)
    assert connected
    return communicator


async def receive_until(comm: WebsocketCommunicator, done: Callable[[list[Any]], bool],
                        timeout: float = 20) -> list[Any]:
    """Frames (JSON docs, or bytes for binary frames) until done(frames) or the timeout."""
    frames: list[Any] = []
    deadline = time.monotonic() + timeout
    while not done(frames):
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"timed out; frames so far: {frames!r}"[:4000])
        message = await comm.receive_output(timeout=left)
        if message["type"] == "websocket.close":
            frames.append({"closed": message.get("code")})
            break
        if message.get("bytes") is not None:
            frames.append(message["bytes"])
        else:
            import json

            frames.append(json.loads(message["text"]))
    return frames


def log_texts(frames: list[Any]) -> list[tuple[int, str, str]]:
    return [(line[0], line[1], line[3]) for f in frames if isinstance(f, dict) and f.get("type") == "lines"
            for line in f["lines"]]


# -- logs -----------------------------------------------------------------------------------------
def test_logs_tail_streams_and_follow(engine) -> None:
    cid = run_detached(engine, "busybox", "sh", "-c", "echo first; echo '<script>alert(1)</script>'; "
                       "echo oops >&2; exec sleep 1000")
    engine("wait", "--condition", "running", cid)

    async def scenario() -> list[Any]:
        comm = await open_socket(f"/ws/logs?container={cid[:12]}&tail=-1")
        frames = await receive_until(comm, lambda fs: len(log_texts(fs)) >= 3)
        start = frames[0]
        assert start["type"] == "start" and start["containers"][0]["id"] == cid
        # The container writes again now: the line must come without reconnecting.
        await asyncio.to_thread(engine, "exec", cid, "sh", "-c", "echo later > /proc/1/fd/1")
        frames += await receive_until(comm, lambda fs: any(t == "later" for _, _, t in log_texts(fs)))
        await comm.disconnect()
        return frames

    lines = log_texts(asyncio.run(scenario()))
    assert (0, "stdout", "first") in lines
    assert (0, "stdout", "<script>alert(1)</script>") in lines  # raw text; the page shows it as text
    assert (0, "stderr", "oops") in lines
    assert lines[-1] == (0, "stdout", "later")


def test_logs_tail_and_no_follow_ends(engine) -> None:
    cid = run_detached(engine, "busybox", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; done")
    engine("wait", cid).ok()

    async def scenario() -> list[Any]:
        comm = await open_socket(f"/ws/logs?container={cid}&tail=2&follow=0")
        frames = await receive_until(comm, lambda fs: any(isinstance(f, dict) and f.get("type") == "end"
                                                          for f in fs))
        await comm.disconnect()
        return frames

    assert [t for _, _, t in log_texts(asyncio.run(scenario()))] == ["n4", "n5"]


def test_logs_of_a_compose_project_are_merged(engine) -> None:
    label = "com.docker.compose.project=shop"
    a = run_detached(engine, "--name", "shop-web", "--label", label, "busybox", "sh", "-c",
                     "echo from-web; exec sleep 1000")
    b = run_detached(engine, "--name", "shop-db", "--label", label, "busybox", "sh", "-c",
                     "echo from-db; exec sleep 1000")
    run_detached(engine, "--name", "other", "busybox", "sh", "-c", "echo not-me; exec sleep 1000")

    async def scenario() -> list[Any]:
        comm = await open_socket("/ws/logs?project=shop&tail=-1")
        frames = await receive_until(comm, lambda fs: len(log_texts(fs)) >= 2)
        await asyncio.to_thread(engine, "exec", b, "sh", "-c", "echo db-again > /proc/1/fd/1")
        frames += await receive_until(comm, lambda fs: any(t == "db-again" for _, _, t in log_texts(fs)))
        await comm.disconnect()
        return frames

    frames = asyncio.run(scenario())
    ids = [c["id"] for c in frames[0]["containers"]]
    assert sorted(ids) == sorted([a, b])
    by_text = {t: ids[i] for i, _, t in log_texts(frames)}
    assert by_text["from-web"] == a and by_text["from-db"] == b and by_text["db-again"] == b
    assert "not-me" not in by_text


def test_logs_of_an_unknown_container_is_an_error(engine) -> None:
    async def scenario() -> list[Any]:
        comm = await open_socket("/ws/logs?container=nosuchthing")
        return await receive_until(comm, lambda fs: any("closed" in f for f in fs if isinstance(f, dict)))

    frames = asyncio.run(scenario())
    assert frames[0]["type"] == "error" and "nosuchthing" in frames[0]["message"]
    assert frames[-1] == {"closed": 4404}


# -- events ---------------------------------------------------------------------------------------
def test_events_arrive_live(engine) -> None:
    async def scenario() -> list[Any]:
        comm = await open_socket("/ws/events")
        await asyncio.sleep(0.5)  # subscribed: everything from now on must come
        cid = (await asyncio.to_thread(run_detached, engine, "--name", "evt", "busybox", "sleep", "1000"))

        def seen(fs: list[Any]) -> bool:
            return any(e["action"] == "start" and e["id"] == cid
                       for f in fs if isinstance(f, dict) and f.get("type") == "events" for e in f["events"])

        frames = await receive_until(comm, seen)
        await comm.disconnect()
        return frames

    events = [e for f in asyncio.run(scenario()) for e in f["events"]]
    actions = [e["action"] for e in events if e["name"] == "evt"]
    assert actions[:2] == ["create", "start"] or ("create" in actions and "start" in actions)
    start = next(e for e in events if e["action"] == "start")
    assert start["type"] == "container" and start["image"].endswith("busybox:latest")


# -- stats ----------------------------------------------------------------------------------------
def test_stats_of_one_container_and_dashboard_totals(engine) -> None:
    cid = run_detached(engine, "busybox", "sh", "-c", "while :; do :; done")

    async def scenario(path: str) -> list[Any]:
        comm = await open_socket(path)
        frames = await receive_until(comm, lambda fs: len(fs) >= 2)
        await comm.disconnect()
        return frames

    frames = asyncio.run(scenario(f"/ws/stats?container={cid}&interval=500"))
    last = frames[-1]
    assert last["type"] == "stats"
    (row,) = last["containers"]
    assert row["id"] == cid and row["running"] and row["pids"] >= 1
    assert row["mem"] > 0 and row["mem_limit"] >= row["mem"]
    assert row["cpu"] > 10  # a busy loop, measured over the last interval

    dashboard = asyncio.run(scenario("/ws/stats"))[-1]
    assert cid in [r["id"] for r in dashboard["containers"]]
    assert dashboard["totals"]["running"] >= 1 and dashboard["totals"]["mem"] >= row["mem"] // 2


# -- terminal -------------------------------------------------------------------------------------
def output_of(frames: list[Any]) -> bytes:
    return b"".join(f for f in frames if isinstance(f, bytes))


def test_terminal_runs_a_shell_with_resize_and_exit(engine) -> None:
    cid = run_detached(engine, "--name", "term", "busybox", "sleep", "1000")

    async def scenario() -> tuple[bytes, list[Any]]:
        comm = await open_socket("/ws/terminal?container=term&shell=/bin/sh&rows=30&cols=90")
        await comm.send_to(bytes_data=b"echo hi-$((40+2))\n")
        frames = await receive_until(comm, lambda fs: b"hi-42" in output_of(fs))
        await comm.send_json_to({"type": "resize", "rows": 33, "cols": 101})
        await asyncio.sleep(0.3)  # the helper passes SIGWINCH on to the container's pty
        await comm.send_json_to({"type": "input", "data": "stty size\n"})
        frames += await receive_until(comm, lambda fs: b"33 101" in output_of(fs))
        await comm.send_to(bytes_data=b"exit 3\n")
        frames += await receive_until(comm, lambda fs: any(isinstance(f, dict) and "closed" in f for f in fs))
        return output_of(frames), [f for f in frames if isinstance(f, dict)]

    output, controls = asyncio.run(scenario())
    assert b"hi-42" in output and b"33 101" in output
    assert {"type": "exit", "code": 3} in controls
    assert engine("inspect", "--format", "{{.State.Running}}", cid).ok().stdout.strip() == "true"


def test_terminal_as_another_user(engine) -> None:
    run_detached(engine, "--name", "term2", "busybox", "sleep", "1000")

    async def scenario() -> bytes:
        comm = await open_socket("/ws/terminal?container=term2&shell=/bin/sh&user=nobody")
        await comm.send_to(bytes_data=b"echo me=$(id -u)\n")
        frames = await receive_until(comm, lambda fs: b"me=65534" in output_of(fs))
        await comm.disconnect()
        return output_of(frames)

    assert b"me=65534" in asyncio.run(scenario())


def test_terminal_refuses_a_stopped_container(engine) -> None:
    engine("create", "--name", "idle", "busybox", "true").ok()

    async def scenario() -> list[Any]:
        comm = await open_socket("/ws/terminal?container=idle")
        return await receive_until(comm, lambda fs: any("closed" in f for f in fs if isinstance(f, dict)))

    frames = asyncio.run(scenario())
    assert frames[0]["type"] == "error" and "running" in frames[0]["message"]
    assert frames[-1] == {"closed": 4409}


@pytest.mark.parametrize("query", ["container=-rf", "container=x&shell=sh;rm", "container=x&user=--privileged"])
def test_terminal_refuses_bad_parameters(query: str) -> None:
    async def scenario() -> list[Any]:
        comm = await open_socket(f"/ws/terminal?{query}")
        return await receive_until(comm, lambda fs: any("closed" in f for f in fs if isinstance(f, dict)))

    assert asyncio.run(scenario())[-1] == {"closed": 4400}


@pytest.mark.parametrize("path", ["/ws/logs?container=x", "/ws/events", "/ws/stats", "/ws/terminal?container=x"])
def test_live_sockets_refuse_strangers(path: str) -> None:
    async def attempt(hdrs: list) -> bool:
        communicator = WebsocketCommunicator(application, path, headers=hdrs)
        connected, _ = await communicator.connect(timeout=5)
        await communicator.disconnect()
        return connected

    assert not asyncio.run(attempt(headers()))  # no session
    assert not asyncio.run(attempt(headers(origin="http://127.0.0.1:9999", session=owner_session_key())))


# -- pull -----------------------------------------------------------------------------------------
def test_pull_reports_each_layer_then_the_image(engine, registry) -> None:
    from tests.fixtures.registry import make_layer_tar, push_raw_image

    push_raw_image(registry, "progress/me", "v1", [make_layer_tar({"a": b"a" * 100_000}),
                                                   make_layer_tar({"b": b"b" * 50_000})])

    async def scenario() -> list[Any]:
        comm = await open_socket(f"/ws/pull?reference={registry.host}/progress/me:v1&insecure=1")
        return await receive_until(comm, lambda fs: any("closed" in f for f in fs), timeout=120)

    frames = asyncio.run(scenario())
    blobs = {f["digest"] for f in frames if f.get("type") == "progress" and f["kind"] == "blob"}
    done = {f["digest"] for f in frames if f.get("type") == "progress" and f["kind"] == "blob"
            and f["status"] in ("done", "extracting")}
    assert len(blobs) == 2 and done == blobs
    pulled = next(f for f in frames if f.get("type") == "pulled")
    assert frames[-1] == {"closed": 1000}
    assert pulled["id"] in engine("images", "-q", "--no-trunc").ok().stdout


def test_pull_of_a_bad_name_is_refused(engine) -> None:
    async def scenario() -> list[Any]:
        comm = await open_socket("/ws/pull?reference=UPPER/Case::x")
        return await receive_until(comm, lambda fs: any("closed" in f for f in fs))

    frames = asyncio.run(scenario())
    assert frames[0]["type"] == "error" and frames[-1] == {"closed": 4400}
