"""200 MiB host -> container through `-p` on a named network, rootless: Hull's
forwarder process (engine/network/portforward.py) into its rootless netns vs
Podman's rootlessport into its own.  Method as bench/transfer.py."""

from __future__ import annotations

from bench.harness import Context, Engine, Measurement, Store
from bench.transfer import measure

NAME = "transfer_net"
TITLE = "200 MiB host -> container through `-p`, named network (Hull forwarder, Podman rootlessport)"
TARGET = 1.0
HIGHER = True
ROUNDS = 5
NETWORK = "benchnet"


def run(ctx: Context, rounds: int) -> Measurement:
    def prepare(eng: Engine, store: Store) -> None:
        eng.run(store, "network", "create", NETWORK)

    m = Measurement(NAME, TITLE, TARGET, unit="MB/s", higher=HIGHER)
    return measure(ctx, rounds, m, ["--network", NETWORK], prepare)
