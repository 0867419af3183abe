"""`run --rm --network none busybox true`: create, start, wait and remove one
container, the whole round trip.  Issue 3's target: Hull at most 0.5x Podman."""

from __future__ import annotations

from bench.busybox import REF, Stores
from bench.harness import Context, Engine, Measurement, rounds_interleaved

NAME = "run"
TITLE = "`run --rm --network none busybox true`"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    stores = Stores(ctx)

    def one(eng: Engine) -> float:
        return eng.timed(stores.get(eng), "run", "--rm", "--network", "none", REF, "true")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m
