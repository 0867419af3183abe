"""`GET /containers/json` with 50 containers through each engine's API socket:
requests per second (higher is better).  Both services run rootless as the test user on
their own unix socket (`hull system service`, `podman system service`, each `--time 0`);
the client is the same for both: one keep-alive connection sending REQUESTS requests
back to back, the body read in full.  Issue 7's target: at least 2x Podman's rate.

Also the helpers of api_ps.py and api_run.py (the docker CLI through each socket)."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from bench.busybox import REF, Stores
from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

NAME = "api"
TITLE = "API `GET /containers/json` with 50 containers (requests/s, one keep-alive client)"
TARGET = 2.0
HIGHER = True
ROUNDS = 5
COUNT = 50
REQUESTS = 200


class _Unix(http.client.HTTPConnection):
    def __init__(self, path: str) -> None:
        super().__init__("localhost", timeout=120)
        self.unix_path = path

    def connect(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


class Services:
    """Per engine: a store with busybox loaded, and its API service on its own socket."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stores = Stores(ctx)
        self.procs: dict[str, subprocess.Popen] = {}
        self.sockets: dict[str, Path] = {}

    def store(self, eng: Engine) -> Store:
        return self.stores.get(eng)

    def socket(self, eng: Engine) -> Path:
        if eng.name not in self.procs:
            store = self.store(eng)
            path = eng.base / "api.sock"
            if path.exists():
                path.unlink()
            proc = subprocess.Popen(eng.argv(store, "system", "service", "--time", "0", f"unix://{path}"),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
            self.procs[eng.name] = proc
            deadline = time.monotonic() + 60
            while not _accepts(path):
                if proc.poll() is not None:
                    raise BenchError(f"{eng.name} system service exited {proc.returncode}: "
                                     f"{proc.stderr.read().decode(errors='replace')[-300:]}")
                if time.monotonic() > deadline:
                    raise BenchError(f"{eng.name} system service did not listen within 60 s")
                time.sleep(0.05)
            self.sockets[eng.name] = path
        return self.sockets[eng.name]

    def docker(self, eng: Engine, *args: str) -> float:
        """Wall time of the docker CLI (as the test user) against `eng`'s socket."""
        docker = shutil.which("docker")
        if docker is None:
            raise BenchError("the docker CLI is not installed")
        env = self.ctx.user.env({"DOCKER_HOST": f"unix://{self.socket(eng)}",
                                 "DOCKER_CONFIG": str(self.ctx.own_dir(self.ctx.workdir / "docker-config"))})
        argv = self.ctx.user.argv([docker, *args], env)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
        took = time.perf_counter() - t0
        if proc.returncode != 0:
            raise BenchError(f"docker {' '.join(args)} via {eng.name}: exit {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace').strip()[-300:]}")
        return took

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
        self.stores.drop()


def _accepts(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(str(path))
            return True
        except OSError:
            return False


def fill(eng: Engine, store: Store, count: int = COUNT) -> None:
    for n in range(count):
        eng.run(store, "create", "--name", f"bench{n}", REF, "true")


def requests_per_second(path: Path, count: int = REQUESTS) -> float:
    conn = _Unix(str(path))
    try:
        t0 = time.perf_counter()
        for _ in range(count):
            conn.request("GET", "/v1.41/containers/json?all=1")
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200 or not body.startswith(b"["):
                raise BenchError(f"GET /containers/json: {resp.status} {body[:200]!r}")
        return count / (time.perf_counter() - t0)
    finally:
        conn.close()


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET, unit="req/s", higher=HIGHER)
    svc = Services(ctx)
    filled: set[str] = set()

    def one(eng: Engine) -> float:
        if eng.name not in filled:
            fill(eng, svc.store(eng))
            filled.add(eng.name)
        path = svc.socket(eng)
        conn = _Unix(str(path))
        conn.request("GET", "/v1.41/containers/json?all=1")
        listed = len(__import__("json").loads(conn.getresponse().read()))
        conn.close()
        if listed != COUNT:
            raise BenchError(f"{eng.name} lists {listed} containers, wanted {COUNT}")
        return requests_per_second(path)

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        svc.close()
    return m
