"""Docker's multiplexed stream framing (logs, attach and exec without a TTY): an
8-byte header [stream, 0, 0, 0, size (4 bytes big-endian)] then `size` bytes;
stream 1 is stdout, 2 stderr (0 stdin, 3 the system's error text)."""

from __future__ import annotations


class Demuxer:
    """Feed bytes as they come; `feed()` returns the complete (stream, payload) frames."""

    def __init__(self) -> None:
        self.buf = b""

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        self.buf += data
        out = []
        while len(self.buf) >= 8:
            size = int.from_bytes(self.buf[4:8], "big")
            if len(self.buf) < 8 + size:
                break
            out.append((self.buf[0], self.buf[8:8 + size]))
            self.buf = self.buf[8 + size:]
        return out
