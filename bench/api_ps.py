"""`docker ps -a` through each engine's API socket with 50 containers (wall time of the
docker CLI, as the test user).  Issue 7's target: at most 0.5x Podman's."""

from __future__ import annotations

from bench.api import COUNT, Services, fill
from bench.harness import Context, Engine, Measurement, rounds_interleaved

NAME = "api_ps"
TITLE = "`docker ps -a` through the API socket, 50 containers"
TARGET = 0.5
ROUNDS = 10


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    svc = Services(ctx)
    filled: set[str] = set()

    def one(eng: Engine) -> float:
        if eng.name not in filled:
            fill(eng, svc.store(eng), COUNT)
            filled.add(eng.name)
        return svc.docker(eng, "ps", "-a")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        svc.close()
    return m
