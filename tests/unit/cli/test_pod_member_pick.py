"""`hull pod logs -c NAME` picks one member the way Podman resolves a container name."""
from types import SimpleNamespace

import pytest

from engine.cli.pod_top import _pick_member
from engine.errors import ContainerNotFound, InvalidArgument

A = SimpleNamespace(name="a", id="dc7c18a66fc7" + "0" * 52)
B = SimpleNamespace(name="b", id="aa0876ccb412" + "1" * 52)
C = SimpleNamespace(name="c", id="aa0999000000" + "2" * 52)


def test_a_name_wins_over_an_id_prefix_of_another_member():
    # "a" is both A's name and a prefix of B's (and C's) ID: the name wins
    assert _pick_member([A, B, C], "a", "p") == [A]


def test_a_unique_id_prefix_and_a_full_id_pick_that_member():
    assert _pick_member([A, B, C], "aa08", "p") == [B]
    assert _pick_member([A, B, C], C.id, "p") == [C]


def test_an_ambiguous_prefix_and_a_stranger_are_clear_errors():
    with pytest.raises(InvalidArgument, match="more than one"):
        _pick_member([A, B, C], "aa0", "p")
    with pytest.raises(ContainerNotFound, match="not in pod p"):
        _pick_member([A, B, C], "zz", "p")
