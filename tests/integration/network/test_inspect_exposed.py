"""inspect's NetworkSettings.Ports shows the image's EXPOSE'd ports that are not
published as null, as Podman and Docker do ("80/tcp": null)."""

from __future__ import annotations

import json

from tests.fixtures.cli import Hull


def _ports(h: Hull, name: str) -> dict:
    return json.loads(h("inspect", name).ok().stdout)[0]["NetworkSettings"]["Ports"]


def test_image_exposed_ports_show_as_null(hull_any: Hull, busybox_image):
    h = hull_any
    h.load(busybox_image)
    h("create", "--name", "base", "localhost/busybox", "true").ok()
    h("commit", "-c", "EXPOSE 80", "-c", "EXPOSE 53/udp", "base", "localhost/exposing").ok()
    h("create", "--name", "plain", "localhost/exposing", "true").ok()
    assert _ports(h, "plain") == {"53/udp": None, "80/tcp": None}
    h("create", "--name", "one", "-p", "127.0.0.1:8080:80", "--expose", "7000", "localhost/exposing", "true").ok()
    assert _ports(h, "one") == {"53/udp": None, "80/tcp": [{"HostIp": "127.0.0.1", "HostPort": "8080"}],
                                "7000/tcp": None}
    # a running container too (bindings in force come from network.json)
    h("run", "-d", "--name", "up", "localhost/exposing", "sleep", "600").ok()
    assert _ports(h, "up") == {"53/udp": None, "80/tcp": None}
    h("rm", "-f", "-t", "0", "up").ok()
