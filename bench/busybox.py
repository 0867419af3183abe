"""The busybox test image in an engine's store: what the container benchmarks run.

Not a benchmark itself (not in BENCHMARKS): the helper the run, ps, start and
memory modules share.  The image is tests/fixtures/images.py's build_busybox,
loaded by each engine from the same world-readable oci-archive."""

from __future__ import annotations

from typing import Callable

from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

REF = "localhost/busybox:latest"


def archive(ctx: Context) -> str:
    from tests.fixtures.images import build_busybox

    return str(build_busybox(REF).cached_archive("oci-archive"))


def loaded_store(ctx: Context, eng: Engine) -> Store:
    """A fresh store of `eng` holding only the busybox image."""
    store = eng.fresh_store()
    eng.run(store, "load", "-q", "-i", archive(ctx))
    ids = eng.run(store, "images", "-q").stdout.split()
    if not ids:
        raise BenchError(f"{eng.name} lists no image after loading busybox")
    return store


class Stores:
    """One loaded store per engine, made on first use and dropped at the end."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._stores: dict[str, Store] = {}

    def get(self, eng: Engine) -> Store:
        if eng.name not in self._stores:
            self._stores[eng.name] = loaded_store(self.ctx, eng)
        return self._stores[eng.name]

    def drop(self) -> None:
        for name, store in self._stores.items():
            eng = self.ctx.engines[name]
            try:
                eng.run(store, "rm", "-a", "-f", "-t", "0", timeout=120)
            except Exception:  # cleanup only: the store is removed next anyway
                pass
            eng.drop_store(store)


def on_busybox(ctx: Context, m: Measurement, rounds: int, one: Callable[[Engine, Store], float]) -> Measurement:
    """Rounds of `one(engine, its busybox store)`, engines interleaved; stores dropped after."""
    stores = Stores(ctx)
    try:
        rounds_interleaved(ctx, m, rounds, lambda eng: one(eng, stores.get(eng)))
    finally:
        stores.drop()
    return m
