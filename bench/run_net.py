"""`run --rm busybox true` with each engine's default rootless network: the run
round trip plus the network's set-up and teardown (a netns and its helper).

Hull's rootless default is pasta.  Podman 4.3 (the reference installed here) has no
pasta mode (it came with 4.4): its rootless default is slirp4netns, which is what
runs for it.  Issue 4's target: Hull at most 0.5x Podman's wall time."""

from __future__ import annotations

from bench.busybox import REF, on_busybox
from bench.harness import Context, Measurement

NAME = "run_net"
TITLE = "`run --rm busybox true`, default rootless network (Hull pasta, Podman 4.3 slirp4netns)"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    return on_busybox(ctx, Measurement(NAME, TITLE, TARGET), rounds,
                      lambda eng, store: eng.timed(store, "run", "--rm", REF, "true"))
