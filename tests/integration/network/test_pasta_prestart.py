"""`hull run` starts the default rootless network's pasta before the container exists
(engine/network/prestart.py, from engine/cli/early.py): the container still has its
address, route and DNS at its first instruction; a guess no container takes leaves
nothing behind; a prestart whose CLI died is swept by the next run; rm returns with
the helper gone."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from engine.network.prestart import wanted
from tests.fixtures.cli import Hull
from tests.integration.network.test_netns_modes import HostServer, _default_gateway, _pids_of, _state


@pytest.fixture
def bbr(hull_rootless: Hull, busybox_image) -> Hull:
    hull_rootless.load(busybox_image)
    return hull_rootless


def _netns_files(h: Hull) -> list[str]:
    d = h.runroot / "netns"
    return sorted(n for n in os.listdir(d) if n.startswith("netns-")) if d.exists() else []


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def test_the_network_is_configured_at_the_first_instruction(bbr):
    # the container's very first command reads its interfaces, routes and resolver
    out = bbr("run", "--rm", "localhost/busybox", "sh", "-c",
              "cat /proc/net/route /proc/net/if_inet6; ip -4 -o addr show; cat /etc/resolv.conf").ok().stdout
    routes = [ln.split() for ln in out.splitlines() if ln.startswith("eth0") or ln.startswith("Iface")]
    assert any(f[1] == "00000000" for f in routes if len(f) > 2), out  # a default route via eth0
    assert any(" eth0 " in ln and " inet " in ln for ln in out.splitlines()), out
    assert "nameserver 169.254.0.1" in out
    assert not _netns_files(bbr)  # removed with the container


def test_first_instruction_reaches_the_host(bbr):
    server = HostServer()
    try:
        out = bbr("run", "--rm", "localhost/busybox", "sh", "-c",
                  f"timeout 10 nc {_default_gateway()} {server.port} </dev/null; true").ok().stdout
    finally:
        server.close()
    assert server.token in out


def test_the_prestarted_pasta_is_the_containers_and_goes_with_rm(bbr):
    cid = bbr("run", "-d", "localhost/busybox", "sleep", "60").ok().stdout.strip()
    doc = json.loads(_state(bbr, cid).read_text())
    assert os.path.basename(doc["netns"]).startswith("netns-")
    assert _pids_of("pasta", doc["netns"]) == doc["pids"]
    names = os.listdir(bbr.runroot / "netns")
    assert [n for n in names if n.startswith("netns-")] == [os.path.basename(doc["netns"])]  # no owner/pid file
    bbr("rm", "-f", "-t", "0", cid).ok()
    assert not [p for p in doc["pids"] if _alive(int(p))], "pasta alive after rm returned"
    assert not os.path.lexists(doc["netns"]) and not _state(bbr, cid).exists()


@pytest.mark.parametrize("args, code", [
    (["localhost/no-such-image:1", "true"], 125),      # create fails after pasta started
    (["--no-such-flag", "localhost/busybox", "true"], 125),  # argparse fails
    (["--name", "twice", "localhost/busybox", "true"], 125),  # the name is taken
])
def test_a_prestart_no_container_takes_leaves_nothing(bbr, args, code):
    bbr("create", "--name", "twice", "localhost/busybox", "true").ok()
    res = bbr("run", "--rm", *args)
    assert res.returncode == code, res.stderr
    assert not _netns_files(bbr)
    assert not _pids_of("pasta", str(bbr.runroot / "netns" / "netns-"))


def test_a_prestart_whose_cli_died_is_swept(bbr):
    """A CLI killed between pasta's start and the container's: the next run removes it."""
    d = bbr.runroot / "netns"
    bbr("run", "--rm", "localhost/busybox", "true").ok()  # the directory exists, owned by the user
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = "netns-" + "ab" * 16
    script = (f"touch {d}/{stale} && echo '{dead.pid} 1' > {d}/{stale}.owner && "
              f"unshare --net={d}/{stale} true")  # a real namespace bound on the file
    bbr("unshare", "sh", "-c", script).ok()
    assert stale in _netns_files(bbr)
    bbr("run", "--rm", "localhost/busybox", "true").ok()
    assert not _netns_files(bbr)


@pytest.mark.parametrize("argv, expected", [
    (["run", "--rm", "busybox", "true"], True),
    (["--root", "/r", "--runroot=/rr", "container", "run", "-d", "busybox"], True),
    (["run", "-it", "--userns", "keep-id", "busybox", "sh"], True),
    (["start", "c"], False),
    (["pod", "start", "p"], False),
    (["run", "--network", "none", "busybox"], False),
    (["run", "--net=host", "busybox"], False),
    (["run", "-p", "8080:80", "busybox"], False),
    (["run", "-dp", "8080:80", "busybox"], False),
    (["run", "-P", "busybox"], False),
    (["run", "--pod", "new:x", "busybox"], False),
    (["run", "--rootfs", "/x", "true"], False),
])
def test_which_runs_prestart(argv, expected):
    assert wanted(argv) is expected
