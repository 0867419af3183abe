"""`docker run --rm busybox true` through each engine's API socket (create, attach,
wait, start, remove: the docker CLI's sequence), wall time as the test user; the
image is loaded beforehand, each engine's default rootless network.  Issue 7's
target: at most 0.5x Podman's."""

from __future__ import annotations

from bench.api import Services
from bench.busybox import REF
from bench.harness import Context, Engine, Measurement, rounds_interleaved

NAME = "api_run"
TITLE = "`docker run --rm busybox true` through the API socket"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    svc = Services(ctx)

    def one(eng: Engine) -> float:
        return svc.docker(eng, "run", "--rm", REF, "true")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        svc.close()
    return m
