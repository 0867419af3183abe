"""`start -a` of a created container running `true`: each round creates a new
container (untimed), times `start -a`, then removes it (untimed).
Issue 3's target: Hull at most 0.5x Podman's wall time."""

from __future__ import annotations

import time

from bench.busybox import REF, on_busybox
from bench.harness import Context, Engine, Measurement, Store

NAME = "start"
TITLE = "`start -a` of a created busybox container running `true`"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    def one(eng: Engine, store: Store) -> float:
        cid = eng.run(store, "create", "--network", "none", REF, "true").stdout.decode().strip()
        t0 = time.perf_counter()
        eng.run(store, "start", "-a", cid)
        seconds = time.perf_counter() - t0
        eng.run(store, "rm", cid)
        return seconds

    return on_busybox(ctx, Measurement(NAME, TITLE, TARGET), rounds, one)
