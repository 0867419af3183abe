"""`pod create` + `pod start` + `pod rm -f`: a pod with its infra container (each
engine's default rootless network: Hull pasta, Podman 4.3 slirp4netns), started and
removed.  The three commands' wall times are added up.  Podman builds its
podman-pause image on the first `pod create` of a store: that happens in the
warm-up round.  Issue 4's target: Hull at most 0.5x Podman's wall time."""

from __future__ import annotations

import time

from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

NAME = "pod"
TITLE = "`pod create` + `pod start` + `pod rm -f` (infra container, default rootless network)"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    stores: dict[str, Store] = {}
    n = [0]

    def one(eng: Engine) -> float:
        store = stores.get(eng.name) or stores.setdefault(eng.name, eng.fresh_store())
        n[0] += 1
        name = f"benchpod{n[0]}"
        t0 = time.perf_counter()
        eng.run(store, "pod", "create", "--name", name)
        eng.run(store, "pod", "start", name)
        seconds = time.perf_counter() - t0
        # untimed: the pod really runs its infra container
        state = eng.run(store, "pod", "inspect", "--format", "{{.State}}", name).stdout.decode().strip()
        t1 = time.perf_counter()
        eng.run(store, "pod", "rm", "-f", name)
        seconds += time.perf_counter() - t1
        if state != "Running":
            raise BenchError(f"pod state after start is {state!r}, not Running")
        return seconds

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        for name, store in stores.items():
            eng = ctx.engines[name]
            try:
                eng.run(store, "pod", "rm", "-a", "-f", timeout=120)
            except Exception:  # cleanup only: the store is removed next
                pass
            eng.drop_store(store)
    return m
