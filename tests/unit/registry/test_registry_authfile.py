import base64
import json
import os
import stat
from pathlib import Path

from engine.registry import authfile
from engine.registry.authfile import Credentials


def b64(text):
    return base64.b64encode(text.encode()).decode()


def test_store_writes_0600_atomically_and_reads_back(tmp_path: Path):
    path = tmp_path / "containers" / "auth.json"
    authfile.store(path, "localhost:5000", Credentials("alice", "pa:ss"))
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text()) == {"auths": {"localhost:5000": {"auth": b64("alice:pa:ss")}}}
    assert authfile.lookup([path], "localhost:5000") == Credentials("alice", "pa:ss")
    assert authfile.lookup([path], "localhost:5001") is None
    assert [p.name for p in path.parent.iterdir()] == ["auth.json"]  # no temp left


def test_store_keeps_other_entries_and_remove(tmp_path: Path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {"a.example": {"auth": b64("a:1")}}, "credHelpers": {}}))
    authfile.store(path, "b.example", Credentials("b", "2"))
    doc = json.loads(path.read_text())
    assert set(doc["auths"]) == {"a.example", "b.example"} and "credHelpers" in doc
    assert authfile.remove(path, "a.example")
    assert not authfile.remove(path, "a.example")
    assert authfile.lookup([path], "a.example") is None
    assert authfile.lookup([path], "b.example") == Credentials("b", "2")


def test_docker_hub_keys_and_docker_config(tmp_path: Path):
    docker_cfg = tmp_path / "config.json"
    docker_cfg.write_text(json.dumps({"auths": {"https://index.docker.io/v1/": {"auth": b64("hub:pw")}}}))
    assert authfile.lookup([tmp_path / "missing.json", docker_cfg], "docker.io") == Credentials("hub", "pw")
    assert authfile.lookup([docker_cfg], "registry-1.docker.io") == Credentials("hub", "pw")


def test_first_candidate_wins_and_repo_specific_keys(tmp_path: Path):
    first, second = tmp_path / "1.json", tmp_path / "2.json"
    first.write_text(json.dumps({"auths": {"r.example/team/app": {"auth": b64("team:t")}}}))
    second.write_text(json.dumps({"auths": {"r.example": {"auth": b64("all:a")}}}))
    assert authfile.lookup([first, second], "r.example", "team/app") == Credentials("team", "t")
    assert authfile.lookup([first, second], "r.example", "other/app") == Credentials("all", "a")
    assert authfile.lookup([first, second], "r.example") == Credentials("all", "a")


def test_garbage_entries_ignored(tmp_path: Path):
    path = tmp_path / "auth.json"
    path.write_text(json.dumps({"auths": {"x": {"auth": "!!notbase64"}, "y": "str", "z": {"auth": b64("nocolon")}}}))
    assert authfile.lookup([path], "x") is None
    assert authfile.lookup([path], "y") is None
    assert authfile.lookup([path], "z") is None


def test_password_not_in_repr():
    assert "secret" not in repr(Credentials("u", "secret"))
