"""A container set up for the monitor alone: userdata/config.json + monitor.json, run by
the stand-in host runtime (tests/integration/monitor/hostruntime.py)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import time
from pathlib import Path
from typing import Callable

import pytest

from engine.config import EngineConfig
from engine.monitor.config import ContainerPaths, MonitorConfig
from engine.monitor.exitfile import ExitInfo, read_exit
from engine.monitor.process import pid_file_alive

HOST_RUNTIME = "tests.integration.monitor.hostruntime:HostRuntime"


class Ctr:
    def __init__(self, cfg: EngineConfig, cid: str, paths: ContainerPaths, mcfg: MonitorConfig) -> None:
        self.cfg, self.cid, self.paths, self.mcfg = cfg, cid, paths, mcfg

    def wait_exit(self, timeout: float = 20.0) -> ExitInfo:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            info = read_exit(self.paths.run("exit"))
            if info is not None:
                return info
            time.sleep(0.02)
        raise AssertionError(f"no exit file after {timeout}s; monitor.err:\n{self.errors()}")

    def wait_monitor_gone(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pid_file_alive(self.paths.run("monitor.pid")) is None:
                return
            time.sleep(0.02)
        raise AssertionError(f"monitor still running after {timeout}s")

    def log_text(self) -> str:
        return Path(self.mcfg.log_path).read_bytes().decode()  # keep the pty's \r

    def errors(self) -> str:
        try:
            return Path(self.paths.run("monitor.err")).read_text()
        except OSError:
            return ""

    def events(self) -> list[dict]:
        try:
            lines = (Path(self.cfg.root) / "events.log").read_text().splitlines()
        except OSError:
            return []
        return [json.loads(l) for l in lines if l.strip()]


@pytest.fixture
def make_container(tmp_path: Path) -> Callable[..., Ctr]:
    made: list[Ctr] = []

    def make(args: list[str], terminal: bool = False, **kwargs) -> Ctr:
        cfg = EngineConfig(root=tmp_path / "root", runroot=tmp_path / "run", rootless=False)
        cid = secrets.token_hex(32)
        paths = ContainerPaths(cfg.root, cfg.runroot, cid)
        os.makedirs(paths.userdata)
        os.makedirs(paths.rundir)
        spec = {"ociVersion": "1.0.2", "process": {
            "args": args, "env": ["PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"], "cwd": "/",
            "terminal": terminal}}
        Path(paths.spec).write_text(json.dumps(spec))
        kwargs.setdefault("runtime", HOST_RUNTIME)
        kwargs.setdefault("log_path", paths.default_log)
        mcfg = MonitorConfig(tty=terminal, **kwargs)
        mcfg.save(paths.monitor_json)
        ctr = Ctr(cfg, cid, paths, mcfg)
        made.append(ctr)
        return ctr

    yield make
    for ctr in made:  # never leave a monitor or container behind
        for name in ("pid", "monitor.pid"):
            pid = pid_file_alive(ctr.paths.run(name))
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
