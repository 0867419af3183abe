"""Shared by the build tests: a loaded busybox and a context directory writer."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def bb(hull_any, busybox_image):
    """hull_any (root and rootless) with the busybox fixture image loaded."""
    hull_any.load(busybox_image)
    return hull_any


@pytest.fixture
def bb_root(hull, busybox_image):
    hull.load(busybox_image)
    return hull


def write_context(h, name: str, files: dict[str, str | bytes]) -> Path:
    """A build context under the test's workdir, owned by the test's user."""
    top = h.workdir / name
    for rel, content in files.items():
        path = top / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for dirpath, dirnames, filenames in os.walk(top):
        for n in [dirpath, *(os.path.join(dirpath, f) for f in dirnames + filenames)]:
            os.lchown(n, h.user.uid, h.user.gid)
    return top


def run_out(h, *args: str) -> str:
    return h("run", "--rm", *args).ok().stdout
