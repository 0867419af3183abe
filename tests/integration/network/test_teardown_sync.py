"""stop, kill and rm -f return only once the container's network is torn down (Podman does
the cleanup inside stop): no helper (pasta, forwarder), no netns file, no network.json, no
veth, and the published port closed -- checked right after the command, without waiting."""

from __future__ import annotations

import json
import os
import socket
import subprocess

import pytest

from tests.fixtures.cli import Hull

VERBS = {"stop": ("stop", "-t", "0"), "kill": ("kill",), "rm": ("rm", "-f", "-t", "0")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def _links(h: Hull) -> str:
    """`ip -o link` where the host ends of the veths live (rootless: the rootless netns)."""
    if not h.rootless:
        return subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    ns = h.runroot / "netns" / "rootless-netns"
    if not ns.exists():
        return ""
    res = h("unshare", "nsenter", f"--net={ns}", "ip", "-o", "link")
    return res.stdout if res.returncode == 0 else ""


@pytest.fixture(params=[("root", ""), ("rootless", ""), ("rootless", "bridge")],
                ids=["root-bridge", "rootless-pasta", "rootless-bridge"])
def engine(request, hull_factory, busybox_image) -> tuple[Hull, str]:
    h = hull_factory(request.param[0])
    h.load(busybox_image)
    return h, request.param[1]


@pytest.mark.parametrize("verb", sorted(VERBS))
def test_network_is_gone_when_the_command_returns(engine, verb):
    h, network = engine
    for _ in range(3):  # the monitor's own cleanup comes a moment later: several tries catch it
        port = _free_port()
        net = ["--network", network] if network else []
        cid = h("run", "-d", *net, "-p", f"127.0.0.1:{port}:8080", "localhost/busybox",
                "sh", "-c", "mkdir /w; echo hi > /w/i; exec httpd -f -p 8080 -h /w").ok().stdout.strip()
        state_file = h.runroot / "containers" / cid / "network.json"
        doc = json.loads(state_file.read_text())
        pids = [int(p) for p in doc.get("pids") or []] + ([int(doc["forwarder"])] if doc.get("forwarder") else [])
        assert pids and all(_alive(p) for p in pids), doc
        veths = [a["host_interface"] for a in doc.get("attachments") or []]
        assert all(v in _links(h) for v in veths)

        h(*VERBS[verb], cid).ok()

        assert not [p for p in pids if _alive(p)], f"helpers still alive after {verb}: {doc}"
        assert not _port_open(port), f"port {port} still open after {verb}"
        assert not os.path.lexists(h.runroot / "netns" / cid)
        assert not state_file.exists()
        links = _links(h)
        assert not [v for v in veths if v in links], f"veth left after {verb}"
        if verb != "rm":
            h("rm", cid).ok()

