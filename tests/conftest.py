"""Suite-wide set-up: fixture plugins, the shared image cache, the report header.

Fixtures live in tests/fixtures/ as plugins so every test directory (unit,
integration, api, console) sees the same ones:
- images.py: OCI layouts built without Hull (busybox_image, multi_uid_image,
  debian_image, debian_big_image, push_to_registry), cached across runs;
- users.py: the rootless test user; cli.py: hull, hull_rootless, hull_any;
- registry.py: a real docker-registry on 127.0.0.1 (another engineer's; optional
  here so the suite still runs while it does not exist).

Django: DJANGO_SETTINGS_MODULE is deliberately not set here; tests/console/conftest.py
sets it for the console tests only, so engine tests never import Django.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

pytest_plugins = [
    "tests.fixtures.images",
    "tests.fixtures.users",
    "tests.fixtures.cli",
    "tests.fixtures.api",
]
if importlib.util.find_spec("tests.fixtures.registry") is not None:
    pytest_plugins.append("tests.fixtures.registry")


def pytest_report_header(config: pytest.Config) -> list[str]:
    from tests.fixtures.cli import HULL_BIN
    from tests.fixtures.images import cache_root
    from tests.fixtures.users import rootless_user

    user, why = rootless_user()
    rootless = f"as {user.name} (uid {user.uid}, subuid {user.subuid})" if user else f"skipped: {why}"
    return [f"hull: {HULL_BIN}", f"test image cache: {cache_root()}",
            f"rootless scenarios: {rootless}", f"running as uid {os.geteuid()}"]
