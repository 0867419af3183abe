"""The home page shows engine facts, and shows them as text."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

import engine
from console import facts


def test_home_shows_engine_facts(owner_client: Client, hull_dirs: Path) -> None:
    page = owner_client.get("/").content.decode()
    assert engine.__version__ in page
    assert str(hull_dirs / "root") in page
    assert str(hull_dirs / "run") in page
    for label in ("Containers", "Pods", "Images", "Volumes", "Networks", "Events"):
        assert label in page


def test_home_never_creates_state(owner_client: Client, hull_dirs: Path) -> None:
    owner_client.get("/")
    assert not (hull_dirs / "root").exists()


def test_engine_paths_are_escaped(owner_client: Client, hull_dirs: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hostile = hull_dirs / "<script>alert(1)</script>"
    monkeypatch.setenv("HULL_ROOT", str(hostile))
    page = owner_client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_image_names_are_escaped(owner_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [
        facts.ImageRow("<script>alert(1)</script>", "0123456789ab", 1024),
        facts.ImageRow('<img src=x onerror="alert(2)">', "ba9876543210", None),
    ]
    monkeypatch.setattr(facts, "list_images", lambda cfg: rows)
    page = owner_client.get("/").content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in page
    assert "1.0\xa0KB" in page


def test_store_errors_show_as_a_message(owner_client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.errors import StorageError

    def broken(cfg: object) -> list:
        raise StorageError("state.db is <corrupt>")

    monkeypatch.setattr(facts, "list_images", broken)
    response = owner_client.get("/")
    assert response.status_code == 200
    assert b"could not be read: state.db is &lt;corrupt&gt;" in response.content


def test_image_row_from_engine_image() -> None:
    class Image:  # the shape engine.store.images.Image promises
        id = "sha256:" + "a1" * 32
        names = ["docker.io/library/busybox:latest"]
        size = 4096

    row = facts._image_row(Image())
    assert row == facts.ImageRow("docker.io/library/busybox:latest", "a1a1a1a1a1a1", 4096)


def test_home_reads_a_real_empty_store(owner_client: Client) -> None:
    from engine.config import EngineConfig

    services = pytest.importorskip("engine.services.common")
    services.open_store(EngineConfig()).images.list()  # creates the store
    page = owner_client.get("/").content.decode()
    assert '<p class="big-number">0</p>' in page
    assert "No images yet" in page
