"""Docker's image routes through the real docker CLI and raw requests: pull from a
test registry (chunked progress), images, tag, rmi, save | load, push, inspect,
history, prune; every JSON answer validated against the v1.44 swagger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures.registry import registries_conf_insecure
from tests.fixtures.swagger import validate, validate_response

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")
BUSYBOX_ID = "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"


def service_with_registry(hull, api_service, registry):
    """A service whose engine treats the test registry as plain-http (as dockerd
    treats 127.0.0.0/8)."""
    conf = registries_conf_insecure(hull.workdir / "registries.conf", registry.host)
    hull.extra_env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    return api_service(hull)


@pytest.fixture
def seeded(hull_any, registry):
    """busybox pushed to the registry as test/busybox:1 by Hull's CLI."""
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    dest = f"{registry.host}/test/busybox:1"
    hull_any("push", "--tls-verify=false", "busybox", dest).ok()
    hull_any("rmi", "-a", "-f").ok()
    return dest


def test_docker_pull_images_tag_rmi(hull_any, api_service, registry, seeded):
    svc = service_with_registry(hull_any, api_service, registry)
    res = svc.docker("pull", seeded).ok()
    assert "Pulling from test/busybox" in res.stdout
    assert "Status: Downloaded newer image for " + seeded in res.stdout
    assert "Digest: sha256:" in res.stdout
    again = svc.docker("pull", seeded).ok()
    assert "Image is up to date for " + seeded in again.stdout
    listed = svc.docker("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").ok()
    assert listed.stdout.split() == [seeded, BUSYBOX_ID[:12]]
    svc.docker("tag", seeded, "mine:2").ok()
    assert svc.docker("image", "inspect", "mine:2", "--format", "{{.Id}}").ok().stdout.strip() == "sha256:" + BUSYBOX_ID
    rmi = svc.docker("rmi", "mine:2").ok()
    assert "Untagged: " in rmi.stdout and "Deleted" not in rmi.stdout
    rmi = svc.docker("rmi", seeded).ok()
    assert "Deleted: sha256:" + BUSYBOX_ID in rmi.stdout
    assert svc.docker("images", "-q").ok().stdout == ""
    missing = svc.docker("rmi", "nothing:here")
    assert missing.returncode != 0 and "No such image" in missing.stderr or "not known" in missing.stderr


def test_pull_progress_stream_and_errors_raw(hull_any, api_service, registry, seeded):
    svc = service_with_registry(hull_any, api_service, registry)
    repo = seeded.rsplit(":", 1)[0]
    reply = svc.request("POST", f"/v1.44/images/create?fromImage={repo}&tag=1")
    assert reply.status == 200
    lines = [json.loads(x) for x in reply.body.splitlines()]
    for line in lines:
        validate(line, "CreateImageInfo")
    assert lines[0]["status"] == "Pulling from test/busybox"
    assert any(x.get("status") in ("Pull complete", "Download complete") for x in lines)
    assert lines[-1]["status"] == f"Status: Downloaded newer image for {seeded}"
    bad = svc.request("POST", f"/v1.44/images/create?fromImage={registry.host}/no/such&tag=1")
    bad_lines = [json.loads(x) for x in bad.body.splitlines()] if bad.status == 200 else [bad.json()]
    assert bad.status in (200, 404) and ("error" in bad_lines[-1] or "message" in bad_lines[-1])
    assert svc.request("POST", "/v1.44/images/create?fromImage=UPPER/Case").status == 400


def test_list_inspect_history_validate(hull_any, api_service):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    svc = api_service(hull_any)
    listed = svc.request("GET", "/v1.44/images/json").json()
    validate_response(listed, "/images/json")
    assert listed[0]["Id"] == "sha256:" + BUSYBOX_ID and listed[0]["Containers"] == 0
    doc = svc.request("GET", "/v1.44/images/busybox/json").json()
    validate(doc, "ImageInspect")
    assert doc["Id"] == "sha256:" + BUSYBOX_ID and doc["RootFS"]["Layers"]
    hist = svc.request("GET", "/v1.44/images/busybox/history").json()
    validate_response(hist, "/images/{name}/history")
    assert hist[0]["Id"] == "sha256:" + BUSYBOX_ID
    assert svc.request("GET", "/v1.44/images/nothing/json").status == 404
    filtered = svc.request("GET", '/v1.44/images/json?filters={"reference":["nomatch*"]}').json()
    assert filtered == []
    tagged = svc.request("POST", "/v1.44/images/busybox/tag?repo=localhost/extra&tag=x")
    assert tagged.status == 201
    deleted = svc.request("DELETE", "/v1.44/images/localhost/extra:x").json()
    validate_response(deleted, "/images/{name}", "delete")
    assert deleted == [{"Untagged": "localhost/extra:x"}]
    pruned = svc.request("POST", "/v1.44/images/prune").json()
    validate_response(pruned, "/images/prune", "post")
    assert svc.request("GET", "/v1.44/images/search?term=busybox").status == 200


def test_docker_save_load_round_trip(hull_any, api_service):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    svc = api_service(hull_any)
    svc.docker("save", "-o", "bb.tar", "busybox").ok()
    assert (hull_any.workdir / "bb.tar").stat().st_size > 100_000
    svc.docker("rmi", "busybox").ok()
    loaded = svc.docker("load", "-i", "bb.tar").ok()
    assert "Loaded image: " in loaded.stdout
    assert svc.docker("images", "-q", "--no-trunc").ok().stdout.strip() == "sha256:" + BUSYBOX_ID


def test_docker_push_to_registry(hull_any, api_service, registry):
    hull_any("load", "-i", str(BUSYBOX_TAR)).ok()
    svc = service_with_registry(hull_any, api_service, registry)
    target = f"{registry.host}/pushed/bb:7"
    svc.docker("tag", "busybox", target).ok()
    res = svc.docker("push", target).ok()
    assert "digest: sha256:" in res.stdout
    svc.docker("rmi", target).ok()
    hull_any("rmi", "-a", "-f").ok()
    assert "Downloaded newer image" in svc.docker("pull", target).ok().stdout
