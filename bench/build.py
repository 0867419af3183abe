"""`build` of a ten-step Dockerfile on the Debian test image, cold (`--no-cache`).

Both engines build the same context (COPY of a few files, three RUNs, ENV,
WORKDIR, USER, CMD) from the same loaded Debian image, RUN steps on the host
network for both (Hull's RUN default until its own network setup is used by
builds).  Issue 6's target: Hull at most 1x Podman cold, 0.5x fully cached
(bench/build_cached.py, same context)."""

from __future__ import annotations

from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

NAME = "build"
TITLE = "`build --no-cache` of a ten-step Dockerfile (Debian)"
TARGET = 1.0
ROUNDS = 5
REF = "localhost/debian:bookworm"

DOCKERFILE = f"""FROM {REF}
ENV APP=/app LANG=C.UTF-8
WORKDIR /app
COPY files/ /app/
RUN echo one > /app/one && ls /app > /app/list
RUN useradd -m builder
COPY data.txt /app/data/
RUN sha256sum /app/data/data.txt > /app/sum
USER builder
CMD ["cat", "/app/sum"]
"""


def context_dir(ctx: Context):
    """The build context, readable by the benchmark user."""
    top = ctx.own_dir(ctx.workdir / "build-context")
    (top / "Dockerfile").write_text(DOCKERFILE)
    files = ctx.own_dir(top / "files")
    for n in range(20):
        (files / f"f{n}.txt").write_text(f"file {n}\n" * 100)
    (top / "data.txt").write_bytes(bytes(range(256)) * 4096)
    import os

    for p in [top / "Dockerfile", top / "data.txt", *files.iterdir()]:
        if os.geteuid() == 0 and ctx.user.uid != 0:
            os.chown(p, ctx.user.uid, ctx.user.gid)
    return top


class BuildStores:
    """Per engine: a fresh store with the Debian image loaded."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.stores: dict[str, Store] = {}

    def get(self, eng: Engine) -> Store:
        if eng.name not in self.stores:
            from tests.fixtures.images import build_debian

            store = eng.fresh_store()
            eng.run(store, "load", "-q", "-i", str(build_debian(REF).cached_archive("oci-archive")))
            if not eng.run(store, "images", "-q").stdout.split():
                raise BenchError(f"{eng.name} lists no image after loading debian")
            self.stores[eng.name] = store
        return self.stores[eng.name]

    def drop(self) -> None:
        for name, store in self.stores.items():
            self.ctx.engines[name].drop_store(store)


def build_args(context: str, cached: bool) -> list[str]:
    return ["build", "-q", "--network", "host", *([] if cached else ["--no-cache"]), "-t", "bench-build",
            context]


def run(ctx: Context, rounds: int) -> Measurement:
    m = Measurement(NAME, TITLE, TARGET)
    context = str(context_dir(ctx))
    stores = BuildStores(ctx)

    def one(eng: Engine) -> float:
        return eng.timed(stores.get(eng), *build_args(context, cached=False))

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m
