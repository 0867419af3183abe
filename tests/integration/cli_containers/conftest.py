"""Shared by the container CLI tests: a loaded busybox, and the skip while the
per-container monitor (engine/monitor/launch.py) has not landed yet."""

from __future__ import annotations

import importlib.util

import pytest

MONITOR_READY = importlib.util.find_spec("engine.monitor.launch") is not None
needs_monitor = pytest.mark.skipif(not MONITOR_READY, reason="waiting for engine.monitor.launch (containers "
                                                             "cannot start yet)")


@pytest.fixture
def bb(hull_any, busybox_image):
    """hull_any (root and rootless) with the busybox fixture image loaded."""
    hull_any.load(busybox_image)
    return hull_any


@pytest.fixture
def bb_root(hull, busybox_image):
    hull.load(busybox_image)
    return hull
