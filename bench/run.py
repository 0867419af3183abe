"""`run --rm --network none busybox true`: create, start, wait and remove one
container, the whole round trip.  Issue 3's target: Hull at most 0.5x Podman."""

from __future__ import annotations

from bench.busybox import REF, on_busybox
from bench.harness import Context, Measurement

NAME = "run"
TITLE = "`run --rm --network none busybox true`"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    return on_busybox(ctx, Measurement(NAME, TITLE, TARGET), rounds,
                      lambda eng, store: eng.timed(store, "run", "--rm", "--network", "none", REF, "true"))
