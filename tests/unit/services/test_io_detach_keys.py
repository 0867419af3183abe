"""--detach-keys parsing (Docker's ctrl-<x> list) and matching in a stdin stream."""

import pytest

from engine.errors import InvalidArgument
from engine.services.detach_keys import DetachMatcher, parse_detach_keys


@pytest.mark.parametrize("text,keys", [
    (None, b"\x10\x11"), ("ctrl-p,ctrl-q", b"\x10\x11"), ("", b""), ("a", b"a"),
    ("ctrl-a,x", b"\x01x"), ("ctrl-@", b"\x00"), ("ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_", b"\x1b\x1c\x1d\x1e\x1f"),
    ("ctrl-Z", b"\x1a"),
])
def test_parse(text, keys):
    assert parse_detach_keys(text) == keys


@pytest.mark.parametrize("text", ["ctrl-", "ctrl-1", "ctrl-pp", "ab", "ctrl-p,", "alt-x"])
def test_parse_errors(text):
    with pytest.raises(InvalidArgument, match="invalid detach keys"):
        parse_detach_keys(text)


def test_match_in_one_chunk_and_split():
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"ls\n\x10\x11rest") == (b"ls\n", True)
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"a\x10") == (b"a", False)
    assert m.feed(b"\x11") == (b"", True)


def test_false_start_is_forwarded():
    m = DetachMatcher(b"\x10\x11")
    assert m.feed(b"\x10x") == (b"\x10x", False)
    assert m.feed(b"\x10\x10\x11") == (b"\x10", True)
    assert DetachMatcher(b"").feed(b"\x10\x11") == (b"\x10\x11", False)
    m = DetachMatcher(b"\x10\x11")
    m.feed(b"\x10")
    assert m.flush() == b"\x10"
