"""`build` of the ten-step Dockerfile of bench/build.py, every step cached.
Issue 6's target: Hull at most 0.5x Podman."""

from __future__ import annotations

from bench.build import BuildStores, build_args, context_dir
from bench.harness import Context, Engine, Measurement, rounds_interleaved

NAME = "build_cached"
TITLE = "`build` of the same Dockerfile, fully cached"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    context = str(context_dir(ctx))
    stores = BuildStores(ctx)
    primed: set[str] = set()

    def one(eng: Engine) -> float:
        store = stores.get(eng)
        if eng.name not in primed:  # the first build fills the cache, untimed
            eng.run(store, *build_args(context, cached=True))
            primed.add(eng.name)
        return eng.timed(store, *build_args(context, cached=True))

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m
