"""`ps -a` with 50 created containers in the store (made once, untimed).
Issue 3's target: Hull at most 0.6x Podman's wall time."""

from __future__ import annotations

from bench.busybox import REF, Stores
from bench.harness import BenchError, Context, Engine, Measurement, rounds_interleaved

NAME = "ps"
TITLE = "`ps -a` with 50 containers"
TARGET = 0.6
ROUNDS = 10
COUNT = 50


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    stores = Stores(ctx)
    filled: set[str] = set()

    def one(eng: Engine) -> float:
        store = stores.get(eng)
        if eng.name not in filled:
            for n in range(COUNT):
                eng.run(store, "create", "--name", f"bench{n}", REF, "true")
            listed = eng.run(store, "ps", "-a", "-q").stdout.split()
            if len(listed) != COUNT:
                raise BenchError(f"{eng.name} lists {len(listed)} containers, wanted {COUNT}")
            filled.add(eng.name)
        return eng.timed(store, "ps", "-a")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m
