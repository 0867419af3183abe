"""Container and exec routes over raw HTTP: every JSON answer validated against the
Docker Engine API 1.44 swagger, streams framed as Docker frames them, status codes
and error bodies as the swagger says."""

from __future__ import annotations

import json
import socket
import time
from urllib.parse import quote

from tests.fixtures.swagger import validate, validate_response
from tests.integration.api.containers_fixtures import create, dapi, demux, lines  # noqa: F401


def _wait_running(svc, cid: str) -> None:
    for _ in range(200):
        if svc.request("GET", f"/containers/{cid}/json").json()["State"]["Running"]:
            return
        time.sleep(0.05)
    raise AssertionError("container never ran")


def test_create_inspect_list_validate(dapi):
    body = {"Image": "busybox", "Cmd": ["sh", "-c", "echo out; echo err >&2; sleep 300"],
            "Env": ["A=1", "B=two"], "Labels": {"app": "t"}, "WorkingDir": "/tmp", "StopSignal": "SIGINT",
            "StopTimeout": 3, "Healthcheck": {"Test": ["CMD", "true"], "Interval": 1_000_000_000},
            "HostConfig": {"Tmpfs": {"/scratch": "size=1m"}, "Binds": [], "CapAdd": ["NET_ADMIN"],
                           "RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 2},
                           "Ulimits": [{"Name": "nofile", "Soft": 1000, "Hard": 2000}],
                           "Memory": 64 << 20, "PidsLimit": 100}}
    cid = create(dapi, body, name="api1")
    doc = dapi.request("GET", "/v1.44/containers/api1/json").json()
    validate_response(doc, "/containers/{id}/json")
    assert doc["Id"] == cid and doc["Name"] == "/api1" and doc["State"]["Status"] == "created"
    assert {"A=1", "B=two"} <= set(doc["Config"]["Env"]) and doc["Config"]["Labels"] == {"app": "t"}
    assert doc["Config"]["WorkingDir"] == "/tmp" and doc["Config"]["StopSignal"] == "SIGINT"
    assert doc["HostConfig"]["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert doc["HostConfig"]["Memory"] == 64 << 20 and doc["HostConfig"]["PidsLimit"] == 100
    assert "/scratch" in doc["HostConfig"]["Tmpfs"]
    assert dapi.request("POST", f"/containers/{cid}/start").status == 204
    assert dapi.request("POST", f"/containers/{cid}/start").status == 304
    _wait_running(dapi, cid)
    listed = dapi.request("GET", "/containers/json").json()
    validate_response(listed, "/containers/json")
    assert [c["Id"] for c in listed] == [cid] and listed[0]["Names"] == ["/api1"]
    assert listed[0]["State"] == "running"
    filtered = dapi.request("GET", "/containers/json?all=1&filters=" + quote(json.dumps({"label": ["app=nope"]})))
    assert filtered.json() == []
    sized = dapi.request("GET", "/containers/json?size=1").json()
    validate_response(sized, "/containers/json")
    assert "SizeRw" in sized[0]
    top = dapi.request("GET", f"/containers/{cid}/top").json()
    validate_response(top, "/containers/{id}/top")
    assert any("sleep" in " ".join(p) for p in top["Processes"])
    changes = dapi.request("GET", f"/containers/{cid}/changes").json()
    validate_response(changes, "/containers/{id}/changes")
    stats = dapi.request("GET", f"/containers/{cid}/stats?stream=false").json()
    assert stats["id"] == cid and stats["name"] == "/api1" and stats["pids_stats"]["current"] >= 1
    assert stats["cpu_stats"]["system_cpu_usage"] > stats["precpu_stats"]["system_cpu_usage"] > 0
    upd = dapi.request("POST", f"/containers/{cid}/update", {"RestartPolicy": {"Name": "always"}})
    assert upd.status == 200, upd.body
    validate_response(upd.json(), "/containers/{id}/update", "post")
    assert dapi.request("GET", f"/containers/{cid}/json").json()["HostConfig"]["RestartPolicy"]["Name"] == "always"
    logs = dapi.request("GET", f"/containers/{cid}/logs?stdout=1&stderr=1")
    assert logs.headers["content-type"] == "application/vnd.docker.multiplexed-stream"
    assert demux(logs.body) == (b"out\n", b"err\n")
    only_err = dapi.request("GET", f"/containers/{cid}/logs?stderr=1&timestamps=1")
    out, err = demux(only_err.body)
    assert out == b"" and err.endswith(b" err\n") and err[:4].isdigit()
    assert dapi.request("POST", f"/containers/{cid}/kill?signal=KILL").status == 204
    wait = dapi.request("POST", f"/containers/{cid}/wait")
    validate_response(wait.json(), "/containers/{id}/wait", "post")
    assert wait.json()["StatusCode"] == 137
    assert dapi.request("POST", f"/containers/{cid}/stop").status == 304


def test_errors_are_dockers(dapi):
    for method, path, body, status in [
        ("GET", "/containers/nosuch/json", None, 404),
        ("POST", "/containers/nosuch/start", None, 404),
        ("DELETE", "/containers/nosuch", None, 404),
        ("POST", "/containers/create", {"Image": "no-such-image-here"}, 404),
        ("POST", "/containers/create", {"Image": 5}, 400),
        ("POST", "/containers/create", b"{not json", 400),
        ("POST", "/containers/create?name=bad%20name", {"Image": "busybox"}, 400),
        ("POST", "/containers/create", {"Image": "busybox", "HostConfig": {"Memory": "lots"}}, 400),
        ("POST", "/containers/create", {"Image": "busybox", "StopSignal": "SIGNOPE"}, 400),
        ("GET", "/containers/json?filters=notjson", None, 400),
        ("GET", "/containers/json?filters=" + quote(json.dumps({"bogus": ["x"]})), None, 400),
        ("POST", "/exec/" + "0" * 64 + "/start", {}, 404),
        ("GET", "/exec/nosuch/json", None, 404),
    ]:
        reply = dapi.request(method, path, body)
        assert reply.status == status, (method, path, reply.status, reply.body)
        validate(reply.json(), "ErrorResponse")
        assert b"Traceback" not in reply.body
    missing = dapi.request("GET", "/containers/nosuch/json").json()["message"]
    assert missing == "No such container: nosuch"
    assert dapi.request("POST", "/containers/create", {"Image": "no-such-image-here"}).json()["message"] == \
        "No such image: no-such-image-here"
    cid = create(dapi, {"Image": "busybox", "Cmd": ["sleep", "300"]}, name="dup")
    dup = dapi.request("POST", "/containers/create?name=dup", {"Image": "busybox"})
    assert dup.status == 409
    assert dapi.request("POST", f"/containers/{cid}/exec", {"Cmd": ["true"]}).status == 409  # not running
    assert dapi.request("POST", f"/containers/{cid}/kill").status == 409
    dapi.request("POST", f"/containers/{cid}/start")
    _wait_running(dapi, cid)
    assert dapi.request("DELETE", f"/containers/{cid}").status == 409
    assert dapi.request("POST", f"/containers/{cid}/rename?name=a%20b").status == 400
    assert dapi.request("DELETE", f"/containers/{cid}?force=1").status == 204
    assert dapi.request("GET", "/_ping").status == 200


def test_exec_sessions_and_archive(dapi):
    cid = create(dapi, {"Image": "busybox", "Cmd": ["sleep", "300"]})
    dapi.request("POST", f"/containers/{cid}/start")
    _wait_running(dapi, cid)
    made = dapi.request("POST", f"/containers/{cid}/exec",
                        {"Cmd": ["sh", "-c", "echo o; echo e >&2; exit 7"], "AttachStdout": True,
                         "AttachStderr": True})
    assert made.status == 201
    validate(made.json(), "IdResponse")
    eid = made.json()["Id"]
    before = dapi.request("GET", f"/exec/{eid}/json").json()
    validate_response(before, "/exec/{id}/json")
    assert before["Running"] is False and "ExitCode" not in before
    started = dapi.request("POST", f"/exec/{eid}/start", {"Detach": False, "Tty": False})
    assert demux(started.body) == (b"o\n", b"e\n")
    after = dapi.request("GET", f"/exec/{eid}/json").json()  # another connection
    validate_response(after, "/exec/{id}/json")
    assert after["ExitCode"] == 7 and after["Running"] is False and after["ProcessConfig"]["entrypoint"] == "sh"
    assert dapi.request("POST", f"/exec/{eid}/start", {}).status == 409
    # detached exec: the file it writes appears, the exit code is recorded
    eid2 = dapi.request("POST", f"/containers/{cid}/exec", {"Cmd": ["sh", "-c", "echo x > /tmp/d; exit 4"]}).json()["Id"]
    assert dapi.request("POST", f"/exec/{eid2}/start", {"Detach": True}).status == 200
    for _ in range(200):
        if dapi.request("GET", f"/exec/{eid2}/json").json().get("ExitCode") is not None:
            break
        time.sleep(0.05)
    assert dapi.request("GET", f"/exec/{eid2}/json").json()["ExitCode"] == 4
    # archive: HEAD stat, GET a tar, PUT a tar
    head = dapi.request("HEAD", f"/containers/{cid}/archive?path=/tmp/d")
    assert head.status == 200
    import base64
    import io
    import tarfile

    st = json.loads(base64.b64decode(head.headers["x-docker-container-path-stat"]))
    assert st["name"] == "d" and st["size"] == 2
    got = dapi.request("GET", f"/containers/{cid}/archive?path=/tmp/d")
    with tarfile.open(fileobj=io.BytesIO(got.body)) as tf:
        assert tf.getnames() == ["d"] and tf.extractfile("d").read() == b"x\n"
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("put.txt")
        info.size = 4
        tf.addfile(info, io.BytesIO(b"put\n"))
    assert dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", buf.getvalue()).status == 200
    assert dapi.request("GET", f"/containers/{cid}/archive?path=/tmp/put.txt").status == 200
    evil = io.BytesIO()
    with tarfile.open(fileobj=evil, mode="w:gz") as tf:
        info = tarfile.TarInfo("../../../../escape.txt")
        info.size = 1
        tf.addfile(info, io.BytesIO(b"!"))
    bad = dapi.request("PUT", f"/containers/{cid}/archive?path=/tmp", evil.getvalue())
    assert 400 <= bad.status < 500, bad.body
    assert dapi.request("HEAD", f"/containers/{cid}/archive?path=/escape.txt").status == 404
    assert dapi.request("GET", f"/containers/{cid}/archive?path=/no/such").status == 404
    commit = dapi.request("POST", f"/commit?container={cid}&repo=committed&tag=v1&comment=hi")
    assert commit.status == 201, commit.body
    validate_response(commit.json(), "/commit", "post", 201)
    assert dapi.request("POST", f"/containers/{cid}/kill").status == 204
    dapi.request("POST", f"/containers/{cid}/wait")
    pruned = dapi.request("POST", "/containers/prune")
    validate_response(pruned.json(), "/containers/prune", "post")
    assert pruned.json()["ContainersDeleted"] == [cid]


def test_attach_raw_with_tty_and_multiplexed_without(dapi):
    cid = create(dapi, {"Image": "busybox", "Cmd": ["sh", "-c", "read line; echo got $line"], "Tty": False,
                        "OpenStdin": True, "AttachStdin": True, "AttachStdout": True})
    sock = socket.socket(socket.AF_UNIX)
    sock.settimeout(30)
    sock.connect(str(dapi.socket_path))
    sock.sendall(f"POST /v1.44/containers/{cid}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\n"
                 "Host: x\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    assert dapi.request("POST", f"/containers/{cid}/start").status == 204
    sock.sendall(b"hello\n")
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    sock.close()
    assert demux(data) == (b"got hello\n", b"")
    assert dapi.request("POST", f"/containers/{cid}/wait").json()["StatusCode"] == 0


def test_pause_and_unpause_need_the_right_state(dapi):
    cid = create(dapi, {"Image": "busybox", "Cmd": ["sleep", "300"], "HostConfig": {"NetworkMode": "none"}},
                 name="pz")
    assert dapi.request("POST", f"/containers/{cid}/unpause").status == 409  # created, not paused
    assert dapi.request("POST", f"/containers/{cid}/start").status == 204
    _wait_running(dapi, cid)
    assert dapi.request("POST", f"/containers/{cid}/pause").status == 204
    assert dapi.request("GET", f"/containers/{cid}/json").json()["State"]["Status"] == "paused"
    again = dapi.request("POST", f"/containers/{cid}/pause")
    assert again.status == 409 and "is not running" in again.json()["message"]
    assert dapi.request("POST", f"/containers/{cid}/unpause").status == 204
    assert dapi.request("GET", f"/containers/{cid}/json").json()["State"]["Status"] == "running"
    assert dapi.request("POST", f"/containers/{cid}/unpause").status == 409
