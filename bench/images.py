"""`images` listing a store of 50 distinct small images.

50 different one-layer images (not 50 tags of one: Podman lists tags of one image
as one row per tag but stores one image), each loaded from its own docker-archive
by the engine itself.  Issue 2's target: Hull at most 0.6x Podman's wall time,
which is mostly CPython's start-up: the CLI's import path must stay lean."""

from __future__ import annotations

from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

NAME = "images"
TITLE = "`images` with 50 images in the store"
TARGET = 0.6
ROUNDS = 10
COUNT = 50


def _archives(ctx: Context) -> list[str]:
    from tests.fixtures.images import build_tiny

    out = []
    src = ctx.own_dir(ctx.workdir / "tiny")
    for n in range(COUNT):
        img = build_tiny(src / f"layout{n}", n, f"localhost/bench/tiny{n}:latest")
        path = img.docker_archive(src / f"tiny{n}.tar", f"localhost/bench/tiny{n}:latest")
        out.append(str(path))
    return out


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    archives = _archives(ctx)
    stores: dict[str, Store] = {}

    def one(eng: Engine) -> float:
        if eng.name not in stores:  # fill once, time `images` every round
            store = stores[eng.name] = eng.fresh_store()
            for a in archives:
                eng.run(store, "load", "-q", "-i", a)
            listed = eng.run(store, "images", "-q", "--no-trunc").stdout.split()
            if len(set(listed)) != COUNT:
                raise BenchError(f"{eng.name} lists {len(set(listed))} images, wanted {COUNT}")
        return eng.timed(stores[eng.name], "images")

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        for name, store in stores.items():
            ctx.engines[name].drop_store(store)
    return m
