"""Detach keys (`--detach-keys`), parsed as Docker's term.ToBytes does, and matched in a
stdin stream: "ctrl-p,ctrl-q" (the default) -> b"\\x10\\x11"; "" disables detaching.

Keys are a comma-separated list; each is one character or `ctrl-X` with X in a-z
or one of @ [ \\ ] ^ _.  The matcher holds back bytes that could start the sequence
and lets them through once they cannot, so typing ctrl-p alone still reaches the
container (as soon as the next key shows it is not a detach)."""

from __future__ import annotations

from engine.errors import InvalidArgument

DEFAULT_DETACH_KEYS = "ctrl-p,ctrl-q"
_CTRL = {"@": 0, "[": 27, "\\": 28, "]": 29, "^": 30, "_": 31}


def parse_detach_keys(text: str | None) -> bytes:
    if text is None:
        text = DEFAULT_DETACH_KEYS
    if text == "":
        return b""
    out = bytearray()
    for key in text.split(","):
        if len(key) == 1:
            out.append(ord(key))
            continue
        if key.lower().startswith("ctrl-") and len(key) == 6:
            ch = key[5].lower()
            if "a" <= ch <= "z":
                out.append(ord(ch) - ord("a") + 1)
                continue
            if ch in _CTRL:
                out.append(_CTRL[ch])
                continue
        raise InvalidArgument(f"invalid detach keys: {text!r}: unknown character {key!r}")
    return bytes(out)


class DetachMatcher:
    """feed(data) -> (bytes to forward, detached?)."""

    def __init__(self, keys: bytes) -> None:
        self.keys = keys
        self.held = b""

    def feed(self, data: bytes) -> tuple[bytes, bool]:
        if not self.keys:
            return data, False
        out = bytearray()
        for byte in data:
            candidate = self.held + bytes((byte,))
            if self.keys.startswith(candidate):
                if candidate == self.keys:
                    self.held = b""
                    return bytes(out), True
                self.held = candidate
                continue
            # not a detach after all: let the held bytes through, then retry this one
            out += self.held
            self.held = b""
            if self.keys.startswith(bytes((byte,))):
                self.held = bytes((byte,))
                if self.held == self.keys:
                    self.held = b""
                    return bytes(out), True
            else:
                out.append(byte)
        return bytes(out), False

    def flush(self) -> bytes:
        held, self.held = self.held, b""
        return held
