"""Shared by the pod tests: busybox loaded, root and rootless."""

from __future__ import annotations

import pytest


@pytest.fixture
def bb(hull_any, busybox_image):
    hull_any.load(busybox_image)
    return hull_any
