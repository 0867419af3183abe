"""`run --rm busybox true` with each engine's default rootless network: the run
round trip plus the network's set-up and teardown (a netns and its helper).

Hull's rootless default is pasta.  Podman 4.3 (the reference installed here) has no
pasta mode (it came with 4.4): its rootless default is slirp4netns, which is what
runs for it.  Issue 4's target: Hull at most 0.5x Podman's wall time."""

from __future__ import annotations

from bench.busybox import REF, Stores
from bench.harness import Context, Engine, Measurement, rounds_interleaved

NAME = "run_net"
TITLE = "`run --rm busybox true`, default rootless network (Hull pasta, Podman 4.3 slirp4netns)"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    stores = Stores(ctx)

    def one(eng: Engine) -> float:
        return eng.timed(stores.get(eng), "run", "--rm", REF, "true")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m
