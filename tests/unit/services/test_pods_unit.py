"""Pod status words, --share parsing, the pod store and the infra binary check."""

from __future__ import annotations

import pytest

from engine.config import EngineConfig
from engine.errors import Conflict, InvalidArgument, PodNotFound
from engine.services.pod_infra import _is_static, host_catatonit
from engine.services.pods import parse_share, pod_status
from engine.store import Store
from engine.store.containers import ContainerState as S


@pytest.mark.parametrize("states,word", [
    ([], "Created"),
    ([S.RUNNING, S.RUNNING], "Running"),
    ([S.RUNNING, S.EXITED], "Degraded"),
    ([S.RUNNING, S.CREATED], "Degraded"),
    ([S.PAUSED, S.PAUSED], "Paused"),
    ([S.EXITED, S.STOPPED], "Exited"),
    ([S.EXITED, S.CREATED], "Stopped"),
    ([S.CREATED, S.CONFIGURED], "Created"),
])
def test_pod_status_as_podman(states, word):
    assert pod_status(states) == word


def test_parse_share():
    assert parse_share(None) == ["ipc", "net", "uts"]
    assert parse_share("net") == ["net"]
    assert parse_share("+pid") == ["ipc", "net", "uts", "pid"]
    assert parse_share("none") == []
    with pytest.raises(InvalidArgument, match="invalid kernel namespace to share: user"):
        parse_share("user")


def test_pod_store_names_lookup_and_members(tmp_path):
    cfg = EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)
    store = Store.open(cfg)
    pod = store.pods.create("web", shared=["net"], labels={"a": "b"})
    assert store.pods.lookup("web").id == pod.id
    assert store.pods.lookup(pod.id[:6]).name == "web"
    with pytest.raises(Conflict, match='name "web" is in use: pod already exists'):
        store.pods.create("web", shared=[])
    with pytest.raises(PodNotFound, match="no pod with name or ID nope found: no such pod"):
        store.pods.lookup("nope")
    c = store.containers.create("member", None, "", pod=pod.id)
    infra = store.containers.create("infra", None, "", pod=pod.id)
    store.pods.set_infra(pod.id, infra.id)
    assert store.pods.infra_of(infra.id).id == pod.id and store.pods.infra_of(c.id) is None
    assert set(store.pods.member_ids(pod.id)) == {c.id, infra.id}
    generated = store.pods.create(None, shared=[])
    assert generated.name and "_" in generated.name  # adjective_surname, as Podman
    store.pods.delete(pod.id)
    assert not store.pods.exists("web")


def test_host_catatonit_is_static():
    assert _is_static(host_catatonit())
    assert not _is_static("/usr/bin/env")  # dynamically linked: has a PT_INTERP header
