"""create / inspect / rm / rmi-in-use through the services on a real busybox image
(no monitor needed): root in-process, rootless as the test user."""

from __future__ import annotations

import json

import pytest

from engine.errors import Conflict, ImageNotFound
from engine.services import containers, images, volumes
from engine.spec.options import ContainerOptions, MountSpec, SecretSpec


def test_create_writes_bundle_and_rm_cleans_up(root_engine):
    cfg, image_id = root_engine
    from engine.services import secrets

    secrets.create(cfg, "tok", b"top-secret-value")
    opts = ContainerOptions(image="busybox", command=["echo", "hi"], name="c1", labels={"k": "v"},
                            mounts=[MountSpec(type="volume", destination="/data", source="vol1"),
                                    MountSpec(type="volume", destination="/anon")],
                            secrets=[SecretSpec(name="tok"), SecretSpec(name="tok", type="env", target="TOKEN")])
    result = containers.create(cfg, opts)
    userdata = cfg.root / "containers" / result.id / "userdata"
    spec = json.loads((userdata / "config.json").read_text())
    assert spec["process"]["args"] == ["echo", "hi"]
    assert (userdata / "monitor.json").exists()
    assert (userdata / "hostname").read_text() == result.id[:12] + "\n"
    assert "127.0.0.1\tlocalhost" in (userdata / "hosts").read_text()
    assert "nameserver 127." not in (userdata / "resolv.conf").read_text()
    dests = {m["destination"]: m for m in spec["mounts"]}
    assert dests["/data"]["source"] == str(cfg.root / "volumes" / "vol1" / "_data")
    assert "/run/secrets/tok" in dests
    secret_file = dests["/run/secrets/tok"]["source"]
    assert open(secret_file, "rb").read() == b"top-secret-value"
    assert "TOKEN=top-secret-value" in spec["process"]["env"]

    [doc] = containers.inspect(cfg, ["c1"])
    assert doc["Id"] == result.id and doc["Name"] == "c1" and doc["State"]["Status"] == "created"
    assert doc["Image"] == image_id.removeprefix("sha256:") and doc["ImageName"] == "localhost/busybox:latest"
    assert doc["Config"]["Labels"] == {"k": "v"} and doc["Path"] == "echo" and doc["Args"] == ["hi"]
    assert "top-secret-value" not in json.dumps(doc)  # never in inspect
    assert {m["Destination"] for m in doc["Mounts"]} == {"/data", "/anon"}

    with pytest.raises(Conflict, match='the container name "c1" is already in use'):
        containers.create(cfg, ContainerOptions(image="busybox", command=["true"], name="c1"))

    anon = [m["Name"] for m in doc["Mounts"] if m["Destination"] == "/anon"][0]
    report = containers.remove(cfg, ["c1"], containers.RmOptions(volumes=True))
    assert report.exit_code == 0
    assert not (cfg.root / "containers" / result.id).exists()
    assert not (cfg.runroot / "containers" / result.id).exists()
    assert volumes.exists(cfg, "vol1") and not volumes.exists(cfg, anon)  # -v: anonymous only
    assert result.id not in open("/proc/self/mountinfo").read()


def test_failed_create_leaves_nothing(root_engine):
    cfg, _ = root_engine
    with pytest.raises(Exception, match="statfs /nonexistent-dir: no such file or directory"):
        containers.create(cfg, ContainerOptions(image="busybox", command=["true"], name="bad",
                                                mounts=[MountSpec(type="bind", source="/nonexistent-dir",
                                                                  destination="/x")]))
    assert not containers.exists(cfg, "bad")
    assert list((cfg.root / "containers").iterdir()) == []
    with pytest.raises(ImageNotFound, match="nope: image not known"):
        containers.create(cfg, ContainerOptions(image="nope", pull="never"))


def test_replace_and_cidfile(root_engine, tmp_path):
    cfg, _ = root_engine
    cidfile = tmp_path / "cid"
    first = containers.create(cfg, ContainerOptions(image="busybox", command=["true"], name="r",
                                                    cidfile=str(cidfile)))
    assert cidfile.read_text() == first.id
    with pytest.raises(Conflict, match="container id file exists"):
        containers.create(cfg, ContainerOptions(image="busybox", command=["true"], cidfile=str(cidfile)))
    second = containers.create(cfg, ContainerOptions(image="busybox", command=["true"], name="r", replace=True))
    assert second.id != first.id and containers.inspect(cfg, ["r"])[0]["Id"] == second.id


def test_image_in_use_blocks_rmi(root_engine):
    cfg, image_id = root_engine
    c = containers.create(cfg, ContainerOptions(image="busybox", command=["true"]))
    report = images.remove(cfg, ["busybox"], images.RemoveOptions())
    assert report.exit_code == 2 and c.id in str(report.errors[0])
    assert images.exists(cfg, "busybox")
    containers.remove(cfg, [c.id])
    assert images.remove(cfg, ["busybox"], images.RemoveOptions()).exit_code == 0


def test_rm_unknown_and_prune(root_engine):
    cfg, _ = root_engine
    assert containers.remove(cfg, ["nope"]).exit_code == 1
    assert containers.remove(cfg, ["nope"], containers.RmOptions(ignore=True)).exit_code == 0
    a = containers.create(cfg, ContainerOptions(image="busybox", command=["true"], labels={"p": "1"}))
    b = containers.create(cfg, ContainerOptions(image="busybox", command=["true"]))
    report = containers.prune(cfg, {"label": ["p=1"]})
    assert report.removed == [a.id] and containers.exists(cfg, b.id)


def test_rootless_create_inspect_rm(rootless_engine):
    out = rootless_engine.run("""
        from engine.services import containers
        from engine.spec.options import ContainerOptions, MountSpec
        r = containers.create(cfg, ContainerOptions(image="busybox", command=["id"], name="rl",
                              mounts=[MountSpec(type="volume", destination="/data", source="v")]))
        doc = containers.inspect(cfg, ["rl"])[0]
        upper = os.stat(cfg.root / "containers" / r.id / "upper")
        rep = containers.remove(cfg, ["rl"])
        result({"status": doc["State"]["Status"], "name": doc["Name"], "exit": rep.exit_code,
                "gone": not (cfg.root / "containers" / r.id).exists(), "upper_uid": upper.st_uid})
    """)
    assert out["status"] == "created" and out["name"] == "rl" and out["exit"] == 0 and out["gone"]
