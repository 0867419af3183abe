"""The container store: legal state transitions, names, lookups, rmi's in-use check."""

from __future__ import annotations

import re
import time

import pytest

from engine.config import EngineConfig
from engine.errors import Conflict, ContainerNotFound, InUse, InvalidArgument
from engine.store import Store
from engine.store.containers import ContainerState, random_name

S = ContainerState


@pytest.fixture
def store(tmp_path):
    s = Store.open(EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False))
    yield s
    s.close()


def _image_row(store: Store, image_id: str = "sha256:" + "ab" * 32) -> str:
    with store.db.transaction() as conn:
        conn.execute("INSERT INTO images (id, digest, manifest_media_type, layers, size, stored) "
                     "VALUES (?, ?, 'x', '[]', 0, ?)", (image_id, "sha256:" + "cd" * 32, time.time()))
    return image_id


def test_legal_transitions():
    assert S.CONFIGURED.can_go_to(S.CREATED)
    assert S.CREATED.can_go_to(S.RUNNING)
    assert S.RUNNING.can_go_to(S.EXITED)
    assert S.EXITED.can_go_to(S.RUNNING)
    assert S.EXITED.can_go_to(S.REMOVING)
    assert not S.RUNNING.can_go_to(S.REMOVING)  # rm -f stops first
    assert not S.RUNNING.can_go_to(S.CREATED)
    assert not S.REMOVING.can_go_to(S.RUNNING)
    assert not S.CONFIGURED.can_go_to(S.RUNNING)
    assert not S.PAUSED.can_go_to(S.REMOVING)


def test_transition_checks_current_state(store):
    c = store.containers.create("web", None, "img")
    assert c.state == S.CONFIGURED
    with pytest.raises(Conflict, match="container state improper"):
        store.containers.transition(c.id, S.RUNNING)
    store.containers.transition(c.id, S.CREATED)
    c = store.containers.transition(c.id, S.RUNNING, pid=42, started_at=5.0)
    assert (c.state, c.pid, c.started_at) == (S.RUNNING, 42, 5.0)
    with pytest.raises(Conflict):
        store.containers.transition(c.id, S.EXITED, expect={S.PAUSED})
    assert store.containers.get(c.id).state == S.RUNNING  # nothing changed
    with pytest.raises(ContainerNotFound):
        store.containers.transition("0" * 64, S.EXITED)


def test_name_in_use_message_is_podmans(store):
    first = store.containers.create("web", None, "img")
    with pytest.raises(Conflict) as err:
        store.containers.create("web", None, "img")
    assert str(err.value) == (
        f'creating container storage: the container name "web" is already in use by {first.id}. You have to '
        "remove that container to be able to reuse that name: that name is already in use")
    assert len(store.containers.list()) == 1


@pytest.mark.parametrize("bad", ["", "-x", "a b", "a/b", "_x", "ünï"])
def test_invalid_names(store, bad):
    with pytest.raises(InvalidArgument):
        store.containers.create(bad, None, "img")


def test_random_names_are_unique_and_valid(store):
    names = {store.containers.create(None, None, "img").name for _ in range(30)}
    assert len(names) == 30
    assert all(re.fullmatch(r"[a-z]+_[a-z]+", n) for n in names)
    assert re.fullmatch(r"[a-z]+_[a-z]+", random_name())


def test_rename(store):
    a = store.containers.create("a", None, "img")
    b = store.containers.create("b", None, "img")
    with pytest.raises(Conflict, match='"b" is already in use'):
        store.containers.rename(a.id, "b")
    assert store.containers.rename(a.id, "c").name == "c"
    assert store.containers.rename(b.id, "b").name == "b"  # own name: fine


def test_lookup_by_name_id_and_prefix(store):
    ids = ["abc" + "1" * 61, "abc" + "2" * 61, "fff" + "0" * 61]
    for i, cid in enumerate(ids):
        store.containers.create(f"n{i}", None, "img", cid=cid)
    assert store.containers.lookup("n1").id == ids[1]
    assert store.containers.lookup(ids[2]).name == "n2"
    assert store.containers.lookup("abc1").id == ids[0]
    assert store.containers.lookup("f").id == ids[2]
    with pytest.raises(InvalidArgument, match="more than one result"):
        store.containers.lookup("abc")
    with pytest.raises(ContainerNotFound, match='no container with name or ID "nope" found: no such container'):
        store.containers.lookup("nope")
    assert store.containers.exists("n0") and not store.containers.exists("zzz")


def test_name_wins_over_id_prefix(store):
    target = store.containers.create("abc", None, "img", cid="f" * 64)
    store.containers.create("other", None, "img", cid="abc" + "0" * 61)
    assert store.containers.lookup("abc").id == target.id


def test_list_newest_first_and_json_fields(store):
    a = store.containers.create("a", None, "img", labels={"k": "v"}, command=["sh", "-c", "x"],
                                options={"rm": True})
    b = store.containers.create("b", None, "img")
    assert [c.name for c in store.containers.list()] == ["b", "a"]
    got = store.containers.get(a.id)
    assert got.labels == {"k": "v"} and got.command == ["sh", "-c", "x"] and got.options == {"rm": True}
    store.containers.update(b.id, health_log=[{"ExitCode": 0}], stopped_by_user=True)
    got = store.containers.get(b.id)
    assert got.health_log == [{"ExitCode": 0}] and got.stopped_by_user is True
    with pytest.raises(InvalidArgument):
        store.containers.update(b.id, state="running")  # state only through transition()


def test_image_in_use_cannot_be_removed(store):
    image_id = _image_row(store)
    c = store.containers.create("user", image_id, "img")
    with pytest.raises(InUse, match=c.id):
        store.images.remove(image_id)
    store.containers.delete(c.id)
    store.images.remove(image_id)
    assert not store.images.exists(image_id)


def test_increment_never_below_zero(store):
    c = store.containers.create("m", None, "img")
    assert store.containers.increment(c.id, "mounted") == 1
    assert store.containers.increment(c.id, "mounted", -1) == 0
    assert store.containers.increment(c.id, "mounted", -1) == 0


def test_directories(store):
    c = store.containers.create("d", None, "img")
    store.containers.make_dirs(c.id)
    root = store.cfg.containers_dir / c.id
    assert (root / "userdata").is_dir() and (root / "upper").is_dir() and (root / "work").is_dir()
    assert (root.stat().st_mode & 0o777) == 0o700
    run = store.containers.make_run_dir(c.id)
    assert run == store.cfg.runroot / "containers" / c.id and store.containers.rootfs(c.id).is_dir()
