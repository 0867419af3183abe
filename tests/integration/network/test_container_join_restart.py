"""`container:X` dependents when X runs again (engine/services/container_rejoin.py):
`hull restart X` and a restart of X by its policy restart the running dependents
whose joined namespaces X left, so they never keep a dead namespace silently."""

from __future__ import annotations

import pytest

from tests.fixtures.cli import Hull, wait_for


@pytest.fixture
def bb(hull_any: Hull, busybox_image) -> Hull:
    hull_any.load(busybox_image)
    return hull_any


def _ns(h: Hull, name: str, kind: str) -> str:
    return h("exec", name, "readlink", f"/proc/self/ns/{kind}").ok().stdout.strip()


def _ns_now(h: Hull, name: str, kind: str) -> str | None:
    """None while the container is between a stop and a start."""
    res = h("exec", name, "readlink", f"/proc/self/ns/{kind}")
    return res.stdout.strip() if res.returncode == 0 else None


def _running(h: Hull, name: str) -> bool:
    return h("inspect", "--format", "{{.State.Status}}", name).ok().stdout.strip() == "running"


def test_restart_rejoins_network_dependents(bb):
    h = bb
    h("run", "-d", "--name", "x", "localhost/busybox", "sleep", "300").ok()
    h("run", "-d", "--name", "y", "--network", "container:x", "localhost/busybox", "sleep", "300").ok()
    before = _ns(h, "x", "net")
    assert _ns(h, "y", "net") == before
    h("restart", "-t", "0", "x").ok()
    assert _running(h, "x") and _running(h, "y")
    now = _ns(h, "x", "net")
    assert now != before  # the stop tore X's namespace down
    assert _ns(h, "y", "net") == now
    # the re-joined network works: y sees x's interfaces (not only a lone loopback)
    links = h("exec", "y", "cat", "/proc/net/dev").ok().stdout
    assert len([ln for ln in links.splitlines() if ":" in ln]) >= 2
    h("rm", "-f", "-t", "0", "y").ok()
    h("rm", "-f", "-t", "0", "x").ok()


def test_policy_restart_rejoins_uts_dependents(bb):
    h = bb
    # the first run waits for /go then fails; the policy's restart finds /marker and stays
    script = ("if [ -e /marker ]; then exec sleep 300; fi; touch /marker; "
              "while [ ! -e /go ]; do sleep 0.1; done; exit 1")
    h("run", "-d", "--name", "x", "--hostname", "hx", "--restart", "on-failure:1", "localhost/busybox",
      "sh", "-c", script).ok()
    h("run", "-d", "--name", "y", "--uts", "container:x", "localhost/busybox", "sleep", "300").ok()
    old = _ns(h, "y", "uts")
    assert old == _ns(h, "x", "uts")
    h("exec", "x", "touch", "/go").ok()
    wait_for(lambda: h("inspect", "--format", "{{.RestartCount}}", "x").ok().stdout.strip() == "1"
             and _running(h, "x"), timeout=30, what="x restarted by its policy")
    # y follows x into its new uts namespace instead of keeping the dead one
    wait_for(lambda: _ns_now(h, "y", "uts") == _ns(h, "x", "uts") != old, timeout=30,
             what="y re-joined x's new uts namespace")
    assert _ns(h, "y", "uts") != old
    assert h("exec", "y", "hostname").ok().stdout.strip() == "hx"
    h("rm", "-f", "-t", "0", "y").ok()
    h("rm", "-f", "-t", "0", "x").ok()
