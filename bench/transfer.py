"""200 MiB sent from the host through a published port into a container, rootless:
throughput in MB/s (10^6 bytes a second), higher is better.

The container (busybox, `-p 127.0.0.1:HOSTPORT:8080`) runs `nc -ll -p 8080 -e sh -c
'dd bs=1M iflag=fullblock of=/dev/null 2>&1 | tail -n 1'`: for every connection a dd
reads to EOF and answers with its record count (this busybox's dd prints no byte
count; with fullblock every record but the last is a full MiB).  The host connects to
127.0.0.1:HOSTPORT, sends 200 MiB in 1 MiB writes, shuts its side down and waits for
the answer; the time from connect to the answer is the round, and the answer must be
"200+0 records out" (a byte lost or added shows).  busybox's dd sinks about 2 GB/s
on this machine's loopback, above what either engine's path gives.  One container per
engine serves every round; readiness is an empty transfer that gets an answer.

This module is the default rootless network (Hull: pasta's -t forwarding; Podman
4.3: slirp4netns with its default rootlessport port handler); transfer_net.py is the
same on a named network (Hull's forwarder process, engine/network/portforward.py;
Podman's rootlessport into its rootless netns).  Issue 4's target: Hull's
throughput at least Podman's."""

from __future__ import annotations

import socket
import time

from bench.busybox import REF, Stores
from bench.harness import BenchError, Context, Engine, Measurement, Store, rounds_interleaved

NAME = "transfer"
TITLE = "200 MiB host -> container through `-p`, default rootless network (Hull pasta, Podman slirp4netns+rootlessport)"
TARGET = 1.0
HIGHER = True
ROUNDS = 5
SIZE = 200 << 20
CHUNK = 1 << 20
SINK = "dd bs=1M iflag=fullblock of=/dev/null 2>&1 | tail -n 1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def send(port: int, size: int, timeout: float = 120) -> tuple[float, str]:
    """Seconds from connect to the sink's answer, and the answer."""
    buf = bytes(CHUNK)
    t0 = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        left = size
        while left:
            n = min(left, CHUNK)
            s.sendall(buf[:n] if n < CHUNK else buf)
            left -= n
        s.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            data = s.recv(4096)
            if not data:
                break
            answer += data
    return time.perf_counter() - t0, answer.decode(errors="replace").strip()


def wait_ready(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        try:
            _, answer = send(port, 0, timeout=5)
            if answer:  # busybox dd says "0+0 records out" for nothing
                return
            last = f"answer {answer!r}"
        except OSError as exc:
            last = str(exc)
        time.sleep(0.05)
    raise BenchError(f"the sink on port {port} never answered: {last}")


def measure(ctx: Context, rounds: int, m: Measurement, net_args: list[str],
            prepare=None) -> Measurement:
    """`prepare(eng, store)` (optional) runs once per engine before its container."""
    stores = Stores(ctx)
    ports: dict[str, int] = {}

    def sink(eng: Engine, store: Store) -> int:
        if eng.name not in ports:
            if prepare is not None:
                prepare(eng, store)
            port = _free_port()
            eng.run(store, "run", "-d", "--name", "benchsink", *net_args, "-p", f"127.0.0.1:{port}:8080",
                    REF, "nc", "-ll", "-p", "8080", "-e", "sh", "-c", SINK)
            wait_ready(port)
            ports[eng.name] = port
        return ports[eng.name]

    def one(eng: Engine) -> float:
        port = sink(eng, stores.get(eng))
        seconds, answer = send(port, SIZE)
        if answer != f"{SIZE >> 20}+0 records out":
            raise BenchError(f"the sink answered {answer!r}, not {SIZE >> 20}+0 records out")
        return SIZE / 1e6 / seconds

    try:
        rounds_interleaved(ctx, m, rounds, one)
    finally:
        stores.drop()
    return m


def run(ctx: Context, rounds: int) -> Measurement:
    return measure(ctx, rounds, Measurement(NAME, TITLE, TARGET, unit="MB/s", higher=HIGHER), [])
