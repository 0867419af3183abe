"""Container services called directly (no CLI): as root in-process, and rootless by
running a small scenario script as the test user with HULL_ROOT/HULL_RUNROOT set."""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.fixtures.users import kill_pidfile_processes, remove_tree, rootless_user, user_tmpdir

REPO = Path(__file__).resolve().parents[3]
PYTHON = REPO / ".venv" / "bin" / "python"


@pytest.fixture
def root_engine(busybox_image):
    """(cfg, image id) of a fresh root store with busybox loaded."""
    if os.geteuid() != 0:
        pytest.skip("needs root")
    from engine.config import EngineConfig
    from engine.store import Store
    from engine.transports import load_archive
    from tests.fixtures.users import current_user

    base = user_tmpdir(current_user(), "svc")
    cfg = EngineConfig(root=base / "root", runroot=base / "run", rootless=False)
    store = Store.open(cfg)
    [image] = load_archive(store, str(busybox_image.cached_archive("oci-archive")))
    store.close()
    yield cfg, image.id
    _teardown(cfg, base, None)


def _teardown(cfg, base: Path, user) -> None:
    try:
        from engine.services import containers

        containers.remove(cfg, [], containers.RmOptions(all=True, force=True, volumes=True))
    except Exception:  # noqa: BLE001 - cleanup goes on whatever happened
        pass
    kill_pidfile_processes([base / "run"], user.uid if user else os.geteuid())
    remove_tree(base, user)


class RootlessEngine:
    """Runs scenario code as the test user; the code sees `cfg` and `image_id` and
    returns a JSON-able value through `result(value)`."""

    def __init__(self, user, base: Path, image_id: str) -> None:
        self.user, self.base, self.image_id = user, base, image_id

    def env(self) -> dict[str, str]:
        return self.user.env({
            "HULL_ROOT": str(self.base / "root"), "HULL_RUNROOT": str(self.base / "run"),
            "XDG_RUNTIME_DIR": str(self.base / "xdg"), "PYTHONPATH": str(REPO),
        })

    def run(self, code: str, timeout: float = 120) -> object:
        script = self.base / "scenario.py"
        prologue = textwrap.dedent(f"""
            import json, os, sys, time
            from engine.config import EngineConfig
            cfg = EngineConfig()
            image_id = {self.image_id!r}
            def result(value):
                print("RESULT " + json.dumps(value))
        """)
        script.write_text(prologue + textwrap.dedent(code))
        os.chmod(script, 0o644)
        proc = subprocess.run(self.user.argv([str(PYTHON), str(script)], self.env()), capture_output=True,
                              timeout=timeout, cwd=str(self.base), stdin=subprocess.DEVNULL)
        out = proc.stdout.decode(errors="replace")
        assert proc.returncode == 0, f"scenario failed ({proc.returncode}):\n{out}\n{proc.stderr.decode()[-4000:]}"
        lines = [l for l in out.splitlines() if l.startswith("RESULT ")]
        return json.loads(lines[-1][7:]) if lines else None


@pytest.fixture
def rootless_engine(busybox_image):
    user, why = rootless_user()
    if user is None:
        pytest.skip(why)
    base = user_tmpdir(user, "svcrl")
    (base / "xdg").mkdir(mode=0o700)
    if os.geteuid() == 0:
        os.chown(base / "xdg", user.uid, user.gid)
    engine = RootlessEngine(user, base, busybox_image.id)
    engine.run(f"""
        from engine.services.common import enter_userns
        enter_userns(cfg)
        from engine.store import Store
        from engine.transports import load_archive
        load_archive(Store.open(cfg), {str(busybox_image.cached_archive("oci-archive"))!r})
    """)
    yield engine
    try:
        engine.run("""
            from engine.services import containers
            containers.remove(cfg, [], containers.RmOptions(all=True, force=True, volumes=True))
        """, timeout=60)
    except Exception:  # noqa: BLE001
        pass
    kill_pidfile_processes([base / "run", base / "xdg"], user.uid)
    remove_tree(base, user)


def needs_monitor() -> None:
    pytest.importorskip("engine.monitor.launch", reason="the monitor launcher has not landed yet")
