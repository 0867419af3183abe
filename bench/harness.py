"""What every benchmark shares: the user the engines run as, their stores, a local
registry, and timing.

Rootless by design: as root (CI, `make bench`) both engines run as the unprivileged
test user (HULL_TEST_USER, default hulltest) through runuser; as an ordinary user
they run as that user.  Each engine gets the same clean environment; Podman is
pointed at its own containers.conf and storage.conf (runc, cgroupfs, ulimits within
the host's hard limit, native overlay) as ../shared/DESIGN.md says, via
CONTAINERS_CONF / CONTAINERS_STORAGE_CONF so nobody's home directory is touched.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from tests.fixtures.users import (
    TestUser, kill_pidfile_processes, remove_tree, rootless_user, user_tmpdir,
)

REPO = Path(__file__).resolve().parents[1]
HULL_BIN = Path(os.environ.get("HULL_BIN", REPO / ".venv" / "bin" / "hull"))


class BenchError(Exception):
    """One engine could not do the benchmarked command; the message says why."""


# --------------------------------------------------------------------------- results

@dataclass
class EngineResult:
    engine: str
    samples: list[float] = field(default_factory=list)  # seconds (or unit of the row)
    error: str | None = None

    @property
    def median(self) -> float | None:
        return statistics.median(self.samples) if self.samples and not self.error else None


@dataclass
class Measurement:
    name: str
    title: str
    target: float | None           # wanted Hull/Podman ratio (at most; at least when higher)
    unit: str = "s"
    higher: bool = False           # higher is better (throughput): the target is a minimum
    rounds: int = 0
    results: dict[str, EngineResult] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        h, p = self.results.get("hull"), self.results.get("podman")
        if h and p and h.median is not None and p.median:
            return h.median / p.median
        return None

    @property
    def target_text(self) -> str:
        return "-" if self.target is None else f"{'>=' if self.higher else '<='} {self.target}x"

    def to_json(self) -> dict:
        out = asdict(self)
        out["ratio"] = self.ratio
        for name, r in self.results.items():
            out["results"][name]["median"] = r.median
        return out


# --------------------------------------------------------------------------- engines

@dataclass
class Store:
    """One engine's storage for one round: a fresh --root, the engine's --runroot."""

    root: Path
    runroot: Path


class Engine:
    name = "engine"

    def __init__(self, ctx: "Context") -> None:
        self.ctx = ctx
        self.base = ctx.workdir / self.name
        self.runroot = self.base / "run"
        self._counter = 0
        for d in (self.base, self.runroot):
            ctx.own_dir(d)

    def available(self) -> str | None:
        """None when usable, else why not."""
        return None

    def global_args(self, store: Store) -> list[str]:
        return ["--root", str(store.root), "--runroot", str(store.runroot)]

    def binary(self) -> str:
        raise NotImplementedError

    def env(self) -> dict[str, str]:
        return self.ctx.user.env({"XDG_RUNTIME_DIR": str(self.ctx.xdg_runtime)})

    def fresh_store(self) -> Store:
        self._counter += 1
        root = self.base / f"root{self._counter}"
        self.ctx.own_dir(root)
        return Store(root, self.runroot)

    def drop_store(self, store: Store) -> None:
        remove_tree(store.root, self.ctx.user)

    def argv(self, store: Store, *args: str) -> list[str]:
        return self.ctx.user.argv([self.binary(), *self.global_args(store), *args], self.env())

    def run(self, store: Store, *args: str, timeout: float = 600,
            input: bytes | None = None) -> subprocess.CompletedProcess:
        proc = subprocess.run(self.argv(store, *args), capture_output=True, timeout=timeout,
                              input=input, cwd=self.ctx.workdir,
                              stdin=None if input is not None else subprocess.DEVNULL)
        if proc.returncode != 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            self.ctx.log(f"  {self.name} {' '.join(args)}: exit {proc.returncode}")
            raise BenchError(f"`{args[0]}` exit {proc.returncode}: {err[-1] if err else '(no message)'}")
        return proc

    def timed(self, store: Store, *args: str, timeout: float = 600) -> float:
        """Wall time of one command, spawn to exit (the user-visible latency)."""
        t0 = time.perf_counter()
        self.run(store, *args, timeout=timeout)
        return time.perf_counter() - t0


class HullEngine(Engine):
    name = "hull"

    def available(self) -> str | None:
        return None if HULL_BIN.exists() else f"{HULL_BIN} missing (run make)"

    def binary(self) -> str:
        return str(HULL_BIN)


class PodmanEngine(Engine):
    name = "podman"

    def __init__(self, ctx: "Context") -> None:
        super().__init__(ctx)
        conf = self.base / "containers.conf"
        conf.write_text(
            "[containers]\n"
            f'default_ulimits = ["nofile={ctx.nofile_hard}:{ctx.nofile_hard}"]\n'
            "[engine]\n"
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n')
        storage = self.base / "storage.conf"
        # Native kernel overlay (no mount_program): what DESIGN.md says works here.
        storage.write_text('[storage]\ndriver = "overlay"\n')
        for p in (conf, storage):
            os.chmod(p, 0o644)
        self.conf, self.storage_conf = conf, storage

    def available(self) -> str | None:
        return None if shutil.which("podman") else "podman not installed (apt-get install podman)"

    def binary(self) -> str:
        return shutil.which("podman") or "podman"

    def env(self) -> dict[str, str]:
        env = super().env()
        env["CONTAINERS_CONF"] = str(self.conf)
        env["CONTAINERS_STORAGE_CONF"] = str(self.storage_conf)
        return env

    def global_args(self, store: Store) -> list[str]:
        return super().global_args(store) + ["--storage-driver", "overlay"]


ENGINES: list[type[Engine]] = [HullEngine, PodmanEngine]


# --------------------------------------------------------------------------- context

class Context:
    """Everything a benchmark needs; made once per `python -m bench` run."""

    def __init__(self, engines: list[str], keep: bool = False, log: Callable[[str], None] = print) -> None:
        user, why = rootless_user()
        if user is None:
            raise SystemExit(f"bench: cannot run rootless: {why}")
        self.user: TestUser = user
        self.keep = keep
        self.log = log
        self.nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        self.workdir = user_tmpdir(user, "bench")
        self.xdg_runtime = self.workdir / "xdg-run"
        self.own_dir(self.xdg_runtime, 0o700)
        self._registry = None
        self.engines: dict[str, Engine] = {}
        self.unavailable: dict[str, str] = {}
        for cls in ENGINES:
            if cls.name not in engines:
                continue
            eng = cls(self)
            why_not = eng.available()
            if why_not:
                self.unavailable[cls.name] = why_not
            else:
                self.engines[cls.name] = eng

    def own_dir(self, path: Path, mode: int = 0o755) -> Path:
        path.mkdir(mode=mode, parents=True, exist_ok=True)
        if os.geteuid() == 0 and self.user.uid != 0:
            os.chown(path, self.user.uid, self.user.gid)
        return path

    @property
    def registry(self):
        """A docker-registry on 127.0.0.1 (the test fixture's starter), started once."""
        if self._registry is None:
            from tests.fixtures.registry import start_registry
            self._registry = start_registry(self.workdir / "registry")
            self.log(f"registry on {self._registry.host}")
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.stop()
        # Podman's rootless pause process (catatonit) lives on otherwise: its pid file
        # is under our XDG_RUNTIME_DIR, so this kills only what this run started.
        kill_pidfile_processes([self.xdg_runtime, *(e.runroot for e in self.engines.values())],
                               self.user.uid)
        if not self.keep:
            remove_tree(self.workdir, self.user)


def rounds_interleaved(ctx: Context, m: Measurement, rounds: int,
                       one: Callable[[Engine], float], warmup: int = 1) -> None:
    """Run `one(engine)` warmup+rounds times per engine, alternating engines each
    round so drift (page cache, CPU frequency) hits both alike.  A failing engine
    is recorded with its error and dropped; the others go on."""
    for name in ctx.engines:
        m.results.setdefault(name, EngineResult(name))
    for name, why in ctx.unavailable.items():
        m.results[name] = EngineResult(name, error=why)
    live = [e for e in ctx.engines.values()]
    for i in range(warmup + rounds):
        for eng in list(live):
            try:
                t = one(eng)
            except (BenchError, subprocess.TimeoutExpired) as exc:
                m.results[eng.name].error = str(exc)
                ctx.log(f"  {eng.name}: FAILED: {exc}")
                live.remove(eng)
                continue
            if i >= warmup:
                m.results[eng.name].samples.append(t)
                ctx.log(f"  {eng.name} round {i - warmup + 1}/{rounds}: {t:.3f} {m.unit}")
            else:
                ctx.log(f"  {eng.name} warm-up: {t:.3f} {m.unit}")
    m.rounds = rounds
