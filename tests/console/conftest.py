"""Django set-up for the console tests only.

DJANGO_SETTINGS_MODULE is set here (not in a root conftest) when this folder is
collected; importing console.settings has no side effects, so other tests in
the same process are unaffected.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

TOKEN = "test-token-" + "x" * 32


def pytest_configure(config: pytest.Config) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")
    import django

    django.setup()


@pytest.fixture(autouse=True)
def hull_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets its own Hull root and runroot: nothing touches the real ones."""
    monkeypatch.setenv("HULL_ROOT", str(tmp_path / "root"))
    monkeypatch.setenv("HULL_RUNROOT", str(tmp_path / "run"))
    return tmp_path


@pytest.fixture
def login_token() -> Iterator[str]:
    from console import login_token as lt

    lt.set_token(TOKEN)
    yield TOKEN
    lt.set_token(None)


@pytest.fixture
def owner_client(client, login_token: str):
    """A test client that has logged in with the token."""
    response = client.get("/login", {"token": login_token})
    assert response.status_code == 302
    return client
