"""`ps -a` with 50 created containers in the store (made once, untimed).
Issue 3's target: Hull at most 0.6x Podman's wall time."""

from __future__ import annotations

from bench.busybox import REF, on_busybox
from bench.harness import BenchError, Context, Engine, Measurement, Store

NAME = "ps"
TITLE = "`ps -a` with 50 containers"
TARGET = 0.6
ROUNDS = 10
COUNT = 50


def run(ctx: Context, rounds: int) -> Measurement:
    filled: set[str] = set()

    def one(eng: Engine, store: Store) -> float:
        if eng.name not in filled:
            for n in range(COUNT):
                eng.run(store, "create", "--name", f"bench{n}", REF, "true")
            listed = eng.run(store, "ps", "-a", "-q").stdout.split()
            if len(listed) != COUNT:
                raise BenchError(f"{eng.name} lists {len(listed)} containers, wanted {COUNT}")
            filled.add(eng.name)
        return eng.timed(store, "ps", "-a")

    return on_busybox(ctx, Measurement(NAME, TITLE, TARGET), rounds, one)
