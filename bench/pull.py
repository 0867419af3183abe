"""Pull of a ~100 MB (gzip) Debian image from a local registry into an empty store.

A fresh --root for each engine and each round; the image is the debian-big test
fixture (debootstrap minbase + python3, perl, git, curl; three layers), pushed once
with raw HTTP.  Issue 2's target: Hull at most 0.5x Podman's wall time."""

from __future__ import annotations

import os

from bench.harness import BenchError, Context, Engine, Measurement, rounds_interleaved

NAME = "pull"
TITLE = "pull ~100 MB Debian image (3 layers) from local registry, empty store"
TARGET = 0.5
ROUNDS = 5


def run(ctx: Context, rounds: int) -> Measurement:
    from tests.fixtures.images import build_debian_big, push_to_registry

    image = build_debian_big()
    reg = ctx.registry
    push_to_registry(image, reg, "debian:bench")
    ref = f"{reg.host}/debian:bench"
    m = Measurement(NAME, TITLE, TARGET)
    m.notes.append(f"image {image.compressed_size / 1e6:.1f} MB compressed, "
                   f"{len(image.layer_digests)} layers, id {image.id[:19]}")

    def one(eng: Engine) -> float:
        store = eng.fresh_store()
        try:
            # Write back the last round's 450 MB (and its removal) before timing this one.
            os.sync()
            seconds = eng.timed(store, "pull", "--tls-verify=false", "-q", ref)
            # Untimed check that the engine really stored the image it claims to have.
            ids = eng.run(store, "images", "-q", "--no-trunc").stdout.decode()
            if image.id.split(":", 1)[1] not in ids:
                raise BenchError(f"after pull, `images` does not list {image.id[:19]}")
            return seconds
        finally:
            eng.drop_store(store)

    rounds_interleaved(ctx, m, rounds, one)
    return m
