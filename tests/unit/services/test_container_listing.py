"""The lean container listing (`ps`, the API's /containers/json): ContainerStore.listing()
gives what list() gives, decodes the options only when read, and notices every change."""

from __future__ import annotations

import pytest

from engine.config import EngineConfig
from engine.services.container_list import ContainerSummary, summarize
from engine.store import Store
from engine.store.containers import ContainerState, ListedContainer

OPTIONS = {"rm": True, "network": "container", "network_arg": "abc", "restart": {"name": "always"},
           "mounts": [{"destination": "/data", "type": "bind"}],
           "publish": [{"host_port": 8080, "container_port": 80, "protocol": "tcp"}]}


def _cfg(tmp_path) -> EngineConfig:
    return EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)


@pytest.fixture
def store(tmp_path):
    s = Store.open(_cfg(tmp_path))
    yield s
    s.close()


def test_listing_matches_list(store):
    store.containers.create("plain", None, "img")
    c = store.containers.create("full", None, "img", labels={"k": "v"}, command=["sh", "-c", "x"],
                                options=OPTIONS)
    store.containers.update(c.id, health_log=[{"ExitCode": 1}], stopped_by_user=True, pid=7)
    listed = store.containers.listing()
    assert all(isinstance(x, ListedContainer) for x in listed)
    assert [x.as_dict() for x in listed] == [x.as_dict() for x in store.containers.list()]
    assert listed[0].state is ContainerState.CONFIGURED and listed[0].stopped_by_user is True


def test_option_answers_as_the_options(store):
    store.containers.create("full", None, "img", options=OPTIONS)
    store.containers.create("empty", None, "img", options={})
    full, empty = sorted(store.containers.listing(), key=lambda x: x.name == "empty")
    for key in ("rm", "network", "network_arg", "mounts", "publish"):  # what the listings read
        assert full.option(key) == OPTIONS[key]
    assert "options" not in full.__dict__  # nothing above needed the whole document
    assert full.option("restart") == {"name": "always"}
    assert empty.option("mounts", []) == [] and empty.option("rm") is None and empty.option("network", "") == ""
    assert full.options == OPTIONS


def test_listing_is_kept_until_the_database_changes(store, tmp_path):
    c = store.containers.create("a", None, "img")
    first = store.containers.listing()
    assert store.containers.listing()[0] is first[0]  # unchanged: the same rows
    store.containers.update(c.id, exit_code=3)  # this connection's own write
    assert store.containers.listing()[0].exit_code == 3
    other = Store.open(_cfg(tmp_path))  # another process's write (another connection)
    try:
        other.containers.rename(c.id, "b")
        other.containers.create("c", None, "img")
    finally:
        other.close()
    assert [x.name for x in store.containers.listing()] == ["c", "b"]


def test_summary_has_every_field(store):
    store.containers.create("full", None, "img", options=OPTIONS)
    summary = summarize(store, store.containers.listing()[0])
    assert list(summary.__dict__) == list(ContainerSummary._fields)
    assert summary.mounts == ["/data"] and summary.auto_remove is True and summary.ports
