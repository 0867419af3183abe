"""The image browser: layers, per-layer changes (whiteouts), merged view, files, efficiency.

The image is built here layer by layer (raw tars, pushed to the test registry
and pulled by the real CLI), so every expected mark and number is known.
"""

from __future__ import annotations

import re

import pytest

from tests.fixtures.registry import make_layer_tar, push_raw_image

HOSTILE = "<img src=x onerror=alert(1)>"
BIG = b"x" * 10_000


@pytest.fixture
def browsed(hull, registry, owner_client, monkeypatch: pytest.MonkeyPatch):
    layers = [
        make_layer_tar({"etc/": "", "etc/os-release": "NAME=base\n", "etc/motd": "hello\n", "big.bin": BIG,
                        "tmp/": "", "tmp/cache/": "", "tmp/cache/a": b"a" * 3000, "bin/": "", "bin/sh": "->busybox"}),
        make_layer_tar({"etc/": "", "etc/motd": "changed\n", f"etc/{HOSTILE}": "<script>alert(2)</script>\n",
                        "etc/.wh.os-release": b"", "app/": "", "app/run": "#!/bin/sh\necho run\n"}),
        make_layer_tar({".wh.big.bin": b"", "tmp/": "", "tmp/cache/": "", "tmp/cache/.wh..wh..opq": b"",
                        "data.bin": bytes(range(256)) * 4}),
    ]
    push_raw_image(registry, "browse/me", "v1", layers)
    hull("pull", "--tls-verify=false", f"{registry.host}/browse/me:v1").ok()
    monkeypatch.setenv("HULL_ROOT", str(hull.root))
    monkeypatch.setenv("HULL_RUNROOT", str(hull.runroot))
    image_id = hull("images", "-q", "--no-trunc").ok().stdout.split()[0]
    return owner_client, image_id.split(":", 1)[-1]


def rows(html: str) -> dict[str, str]:
    """data-path -> data-status of the file tree's rows."""
    return dict(re.findall(r'<tr class="ib-\w+" data-path="([^"]*)" data-status="(\w+)"', html))


def test_layers_changes_whiteouts_and_merged_view(browsed) -> None:
    client, image_id = browsed
    url = f"/images/{image_id}/browse/"
    page = client.get(url, {"layer": 1, "path": "/etc"})
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('data-layer="') == 3
    marks = rows(html)
    assert marks["/etc/motd"] == "modified"
    assert marks["/etc/os-release"] == "removed"
    # the hostile name is text: escaped in the attribute and the cell, never markup
    assert marks["/etc/&lt;img src=x onerror=alert(1)&gt;"] == "added"
    assert HOSTILE not in html and "<script>alert(2)" not in html

    top = rows(client.get(url, {"layer": 2}).content.decode())
    assert top["/big.bin"] == "removed" and top["/data.bin"] == "added"
    assert top["/tmp"] == "unmodified"  # a directory with a change below it
    opaque = rows(client.get(url, {"layer": 2, "path": "/tmp/cache"}).content.decode())
    assert opaque["/tmp/cache/a"] == "removed"

    merged = rows(client.get(url, {"layer": 2, "mode": "merged"}).content.decode())
    assert {"/app", "/etc", "/bin", "/data.bin"} <= set(merged)
    assert merged["/big.bin"] == "removed" and merged["/app"] == "unmodified"
    merged_etc = rows(client.get(url, {"layer": 2, "mode": "merged", "path": "/etc"}).content.decode())
    assert "/etc/os-release" not in merged_etc and merged_etc["/etc/motd"] == "unmodified"
    link = client.get(url, {"layer": 0, "path": "/bin"}).content.decode()
    assert "→ busybox" in link and "lrw-r--r--" in link  # tarfile writes symlinks 0644

    found = rows(client.get(url, {"layer": 2, "mode": "merged", "q": "run"}).content.decode())
    assert list(found) == ["/app/run"]


def test_view_and_download_files(browsed) -> None:
    client, image_id = browsed
    url = f"/images/{image_id}/browse/"
    page = client.get(url, {"layer": 2, "file": f"/etc/{HOSTILE}"}).content.decode()
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page and "<script>alert(2)" not in page
    motd = client.get(url, {"layer": 0, "file": "/etc/motd"}).content.decode()
    assert "hello" in motd and "changed" not in motd  # layer 0's own version
    assert "changed" in client.get(url, {"layer": 2, "file": "/etc/motd"}).content.decode()

    binary = client.get(url, {"layer": 2, "file": "/data.bin"}).content.decode()
    assert "Not text" in binary
    download = client.get(url, {"layer": 2, "file": "/data.bin", "download": "1"})
    assert download.status_code == 200
    assert body(download) == bytes(range(256)) * 4
    assert "attachment" in download["Content-Disposition"]
    odd = client.get(url, {"layer": 1, "file": f"/etc/{HOSTILE}", "download": "1"})
    assert body(odd) == b"<script>alert(2)</script>\n"
    assert "<" not in odd["Content-Disposition"].split("filename*")[0]

    assert client.get(url, {"layer": 2, "file": "/big.bin"}).status_code == 404  # removed by layer 2
    assert client.get(url, {"layer": 2, "file": "/nope"}).status_code == 404


def test_efficiency_as_dive_computes_it(browsed) -> None:
    client, image_id = browsed
    html = client.get(f"/images/{image_id}/browse/").content.decode()
    # Paths in two or more layers with bytes: /big.bin (10000 + 10000 hidden by the whiteout),
    # /etc/motd (6 + 8), /etc/os-release (10 + 10); /tmp/cache/a is hidden by an opaque
    # directory, which dive does not count.  Score = sum(min) / sum(all) over every path.
    wasted = 20000 + 14 + 20
    assert re.search(r"data-wasted>\s*" + re.escape(_size(wasted)), html), html[html.find("data-wasted"):][:200]
    all_sizes = 10 + 6 + 10000 + 3000 + 8 + 26 + 20 + 10000 + 1024 + 10 + 0
    minimum = 10 + 6 + 10000 + 3000 + 26 + 20 + 1024
    score = round(100 * minimum / (all_sizes + 0), 1)
    assert f"{score}%" in html


def body(response) -> bytes:
    """A download's bytes: the view streams from the layer with an async iterator (ASGI)."""
    import asyncio

    async def collect() -> bytes:
        return b"".join([chunk async for chunk in response.streaming_content])

    return asyncio.run(collect())


def _size(n: int) -> str:
    from django.template.defaultfilters import filesizeformat

    return str(filesizeformat(n))


def test_unknown_image_is_404(owner_client) -> None:
    assert owner_client.get("/images/nosuchimage/browse/").status_code == 404
