"""Fixtures: a container runner per (mode, runtime) over the unpacked busybox image."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.users import kill_pidfile_processes, remove_tree, user_tmpdir

SCRIPT = Path(__file__).with_name("scenario.py")
PYTHON = sys.executable


class Runner:
    def __init__(self, mode: str, runtime: str, base: Path, layers: list[str], user=None) -> None:
        self.mode, self.runtime, self.base, self.layers, self.user = mode, runtime, base, layers, user

    def __call__(self, args: list[str], **job) -> dict:
        job = {"runtime": self.runtime, "base": str(self.base), "layers": self.layers, "args": args, **job}
        out = _run_script(self.user, self.base, ["run"], json.dumps(job))
        if "crash" in out:
            pytest.fail(out["crash"])
        if "cgroups in hybrid mode not supported" in out.get("message", ""):
            pytest.skip("crun refuses this host's cgroup layout: " + out["message"])
        return out


def _run_script(user, base: Path, argv: list[str], stdin: str = "") -> dict | list:
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
           "HULL_ROOT": str(base / "root"), "HULL_RUNROOT": str(base / "run")}
    cmd = [PYTHON, str(SCRIPT), *argv]
    if user is not None:
        env.update({"HOME": str(user.home), "ROOTLESS": "1"})
        cmd = user.argv(cmd, env)
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120, cwd=base)
    else:
        proc = subprocess.run(cmd, input=stdin, capture_output=True, text=True, timeout=120,
                              env={**os.environ, **env})
    if proc.returncode != 0 or not proc.stdout.strip():
        pytest.fail(f"scenario script failed ({proc.returncode}): {proc.stderr[-3000:]}")
    doc = json.loads(proc.stdout.strip().splitlines()[-1])
    if isinstance(doc, dict):
        doc["runtime_stderr"] = proc.stderr
    return doc


@pytest.fixture(scope="session")
def _root_base(busybox_image):
    if os.geteuid() != 0:
        pytest.skip("root scenarios need root")
    base = Path(tempfile.mkdtemp(prefix="hull-rt-", dir="/tmp"))
    os.chmod(base, 0o755)
    layers = _run_script(None, base, ["prepare", str(busybox_image.path), str(base / "layers")])
    yield base, layers
    remove_tree(base)


@pytest.fixture(scope="session")
def _rootless_base(busybox_image, test_user):
    if os.geteuid() != 0 or not shutil.which("newuidmap"):
        pytest.skip("rootless scenarios run as root through runuser, with newuidmap")
    base = user_tmpdir(test_user, "rt")
    layers = _run_script(test_user, base, ["prepare", str(busybox_image.path), str(base / "layers")])
    yield base, layers
    kill_pidfile_processes([base / "run"], test_user.uid)
    remove_tree(base, test_user)


RUNTIMES = [("root", "builtin"), ("rootless", "builtin"), ("root", "crun"), ("rootless", "crun"),
            ("root", "runc"), ("rootless", "runc")]


@pytest.fixture(params=RUNTIMES, ids=[f"{m}-{r}" for m, r in RUNTIMES])
def run_container(request) -> Runner:
    mode, runtime = request.param
    if runtime != "builtin" and not shutil.which(runtime):
        pytest.skip(f"{runtime} is not installed")
    if mode == "root":
        base, layers = request.getfixturevalue("_root_base")
        return Runner(mode, runtime, base, layers)
    base, layers = request.getfixturevalue("_rootless_base")
    return Runner(mode, runtime, base, layers, request.getfixturevalue("test_user"))


@pytest.fixture(params=["root", "rootless"])
def run_builtin(request) -> Runner:
    if request.param == "root":
        base, layers = request.getfixturevalue("_root_base")
        return Runner("root", "builtin", base, layers)
    base, layers = request.getfixturevalue("_rootless_base")
    return Runner("rootless", "builtin", base, layers, request.getfixturevalue("test_user"))
