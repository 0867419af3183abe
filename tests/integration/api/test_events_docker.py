"""GET /events, GET /system/df, POST /build and POST /auth through the docker CLI
and raw requests."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.fixtures.swagger import validate, validate_response

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")


def test_docker_events_since_until(hull_any, api_service):
    svc = api_service(hull_any)
    since = time.time() - 1
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    hull_any("volume", "create", "evvol").ok()
    hull_any("run", "--name", "evc", "busybox", "true").ok()
    until = time.time() + 1
    res = svc.docker("events", "--since", f"{since:.3f}", "--until", f"{until:.3f}",
                     "--format", "{{json .}}", timeout=60).ok()
    events = [json.loads(x) for x in res.stdout.splitlines()]
    kinds = {(e["Type"], e["Action"]) for e in events}
    assert ("volume", "create") in kinds and ("container", "start") in kinds, kinds
    start = next(e for e in events if e["Action"] == "start")
    assert start["Actor"]["Attributes"]["name"] == "evc" and start["id"] == start["Actor"]["ID"]
    raw = svc.request("GET", f"/v1.44/events?since={since}&until={until}&filters=" + '{"type":["volume"]}')
    lines = [json.loads(x) for x in raw.body.splitlines()]
    assert lines and all(x["Type"] == "volume" for x in lines)
    for line in lines:
        validate(line, "EventMessage")


def test_events_stream_follows_new_events(hull_any, api_service):
    svc = api_service(hull_any)
    conn = svc.connection(timeout=30)
    conn.request("GET", "/v1.44/events")
    resp = conn.getresponse()
    assert resp.status == 200
    hull_any("volume", "create", "live1").ok()
    line = json.loads(resp.readline() if not resp.chunked else _next_line(resp))
    assert line["Type"] == "volume" and line["Actor"]["ID"] == "live1"
    conn.close()
    assert svc.request("GET", "/_ping").status == 200


def _next_line(resp) -> bytes:
    buf = b""
    while not buf.endswith(b"\n"):
        buf += resp.read1(1)
    return buf


def test_docker_system_df(hull_any, api_service):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    hull_any("volume", "create", "dfvol").ok()
    svc = api_service(hull_any)
    res = svc.docker("system", "df", "--format", "{{.Type}} {{.TotalCount}}").ok()
    rows = dict(line.rsplit(" ", 1) for line in res.stdout.splitlines())
    assert rows["Images"] == "1" and rows["Local Volumes"] == "1", rows
    doc = svc.request("GET", "/v1.44/system/df").json()
    validate_response(doc, "/system/df")


def test_docker_build_legacy_builder(hull_any, api_service):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    hull_any.extra_env["DOCKER_BUILDKIT"] = "0"
    svc = api_service(hull_any)
    ctx = hull_any.workdir / "ctx"
    ctx.mkdir()
    (ctx / "hello.txt").write_text("hi there\n")
    (ctx / "Dockerfile").write_text("FROM busybox\nARG WHO=nobody\nCOPY hello.txt /hello.txt\n"
                                    "RUN echo built-by-$WHO > /who\nCMD [\"cat\", \"/who\"]\n")
    for p in (ctx, ctx / "hello.txt", ctx / "Dockerfile"):
        p.chmod(0o755 if p.is_dir() else 0o644)
    res = svc.docker("build", "-t", "apibuilt", "-t", "apibuilt:2", "--build-arg", "WHO=api", "ctx", timeout=300).ok()
    assert "Step 1/5 : FROM busybox" in res.stdout
    assert "Successfully built " in res.stdout and "Successfully tagged" in res.stdout
    out = hull_any("run", "--rm", "apibuilt:2").ok()
    assert out.stdout == "built-by-api\n"
    bad = svc.docker("build", "-f", "ctx/missing", "ctx")
    assert bad.returncode != 0
    (ctx / "Dockerfile").write_text("FROM busybox\nRUN exit 3\n")
    failed = svc.docker("build", "ctx", timeout=300)
    assert failed.returncode != 0 and "exit" in (failed.stderr + failed.stdout)
    pruned = svc.request("POST", "/v1.44/build/prune").json()
    validate_response(pruned, "/build/prune", "post")


def test_auth_checks_credentials(hull_any, api_service, registry_with_auth):
    from tests.fixtures.registry import registries_conf_insecure

    reg = registry_with_auth
    conf = registries_conf_insecure(hull_any.workdir / "registries.conf", reg.host)
    hull_any.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    svc = api_service(hull_any)
    ok = svc.request("POST", "/v1.44/auth", {"username": reg.user, "password": reg.password,
                                             "serveraddress": reg.host})
    assert ok.status == 200 and ok.json()["Status"] == "Login Succeeded"
    validate_response(ok.json(), "/auth", "post")
    bad = svc.request("POST", "/v1.44/auth", {"username": reg.user, "password": "wrong", "serveraddress": reg.host})
    assert bad.status == 401 and "invalid username/password" in bad.json()["message"]
