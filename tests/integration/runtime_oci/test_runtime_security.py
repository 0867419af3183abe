"""The built-in runtime against the runtime-setup CVE classes (anchors §1.C): an image
that plants symlinks over /dev, /proc or /sys, a volume over /proc, a swapped
/dev/null, a leaked fd or a cwd outside the container.  crun and runc run the same
scenarios where their behaviour is the reference."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest


def _fresh_outside() -> Path:
    p = Path(f"/tmp/hull-evil-{uuid.uuid4().hex[:8]}")
    assert not os.path.lexists(p)
    return p


@pytest.mark.parametrize("relative", [False, True], ids=["absolute", "relative"])
def test_dev_symlink_does_not_populate_outside_rootfs(run_builtin, relative):
    # CVE-2026-41579: an image whose /dev points elsewhere must not get device nodes,
    # ptmx or the fd/stdin/... symlinks made on the host.
    outside = _fresh_outside()
    target = f"../../../..{outside}" if relative else str(outside)
    try:
        r = run_builtin(["sh", "-c", "ls -l /dev/null /dev/ptmx"], symlinks={"/dev": target})
        assert not os.path.lexists(outside), r
        if "error" in r:
            assert r["message"].count("\n") == 0 and "/dev" in r["message"], r
        else:
            assert r["exit"] == 0, r
            assert "crw-rw-rw-" in r["stdout"] and "ptmx -> pts/ptmx" in r["stdout"], r
            assert f"tmp/{outside.name}" in r["upper"], r  # the symlink was followed inside the rootfs
    finally:
        if os.path.lexists(outside):
            import shutil
            shutil.rmtree(outside, ignore_errors=True)
