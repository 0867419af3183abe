"""Shared by the systemd tests: busybox loaded; systemd-analyze verify of unit files."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"


@pytest.fixture
def bb(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any


def verify_units(paths: list[Path]) -> None:
    """`systemd-analyze verify`: no warning, no error (unknown keys are only warnings,
    so stderr must be empty).  Skipped only where the tool is missing, never in CI."""
    tool = shutil.which("systemd-analyze")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("systemd-analyze is missing in CI (.ci/setup-system-deps installs systemd)")
        pytest.skip("systemd-analyze is not installed")
    proc = subprocess.run([tool, "verify", "--man=no", *map(str, paths)], capture_output=True, text=True,
                          timeout=60)
    noise = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert proc.returncode == 0 and not noise, f"systemd-analyze verify:\n{proc.stderr}"


def normalise(text: str, h, ids: dict[str, str] | None = None) -> str:
    """Paths and ids of this run -> placeholders, for golden files."""
    from tests.fixtures.cli import HULL_BIN

    text = text.replace(str(HULL_BIN), "@HULL@").replace(str(h.root), "@ROOT@").replace(str(h.runroot), "@RUNROOT@")
    for value, name in (ids or {}).items():
        text = text.replace(value, name)
    text = re.sub(r"[0-9a-f]{12}-infra", "@INFRA@", text)
    return re.sub(r"containers/[0-9a-f]{64}/", "containers/@ID@/", text)


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("HULL_UPDATE_GOLDEN"):
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden file:\n{text}"
