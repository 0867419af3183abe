"""engine/spec/parse.py parse_network: --network values with --network-alias/--ip/--mac-address."""

from __future__ import annotations

import pytest

from engine.errors import InvalidArgument
from engine.spec.options import NetworkAttachment
from engine.spec.parse import parse_network


def test_unset_is_the_users_default():
    assert parse_network([]) == ("", "", {})


@pytest.mark.parametrize("value, mode, arg", [
    ("none", "none", ""), ("host", "host", ""), ("private", "private", ""),
    ("container:web", "container", "web"), ("ns:/run/netns/x", "ns", "/run/netns/x"),
    ("pasta", "pasta", ""), ("pasta:-T,8080", "pasta", "-T,8080"),
    ("slirp4netns:port_handler=slirp4netns", "slirp4netns", "port_handler=slirp4netns"),
])
def test_modes(value, mode, arg):
    assert parse_network([value]) == (mode, arg, {})


def test_bridge_is_the_default_network():
    assert parse_network(["bridge"]) == ("bridge", "", {"hull": NetworkAttachment()})
    mode, _, nets = parse_network(["bridge:ip=10.88.0.9"])
    assert nets == {"hull": NetworkAttachment(ip="10.88.0.9")}


def test_named_networks_with_options():
    mode, arg, nets = parse_network(
        ["front:alias=web,alias=www,ip=10.89.0.5,mac=92:D0:C6:0A:29:33,interface_name=ext0", "back"])
    assert (mode, arg) == ("bridge", "")
    assert list(nets) == ["front", "back"]
    assert nets["front"] == NetworkAttachment(aliases=["web", "www"], ip="10.89.0.5", mac="92:d0:c6:0a:29:33",
                                              interface_name="ext0")
    assert nets["back"] == NetworkAttachment()
    assert list(parse_network(["a,b,c"])[2]) == ["a", "b", "c"]


def test_flags_apply_to_the_single_network():
    _, _, nets = parse_network(["app"], aliases=["db"], ip="10.89.0.7", mac="02:00:00:00:00:07")
    assert nets == {"app": NetworkAttachment(aliases=["db"], ip="10.89.0.7", mac="02:00:00:00:00:07")}
    # no --network: the default network, the mode left to the user's default
    assert parse_network([], aliases=["x"]) == ("", "", {"hull": NetworkAttachment(aliases=["x"])})
    # aliases go to every network; an address cannot
    _, _, nets = parse_network(["a", "b"], aliases=["x"])
    assert all(n.aliases == ["x"] for n in nets.values())
    with pytest.raises(InvalidArgument, match="can only be set for a single network"):
        parse_network(["a", "b"], ip="10.89.0.7")


@pytest.mark.parametrize("values, kw, message", [
    (["none", "app"], {}, "cannot set multiple networks without bridge network mode, selected mode none"),
    (["app", "host"], {}, "cannot set multiple networks without bridge network mode, selected mode host"),
    (["app:color=red"], {}, "unknown bridge network option: color"),
    (["app:ip=10.1"], {}, '"10.1" is not an ip address'),
    (["app:mac=zz"], {}, "invalid MAC address zz"),
    (["container:"], {}, "invalid container network mode"),
    (["none"], {"ip": "10.88.0.3"}, "networks and static ip/mac address can only be used with Bridge mode"),
    (["host"], {"aliases": ["a"]}, "can only be used with Bridge mode"),
    (["app", "app"], {}, "network app is given twice"),
    ([":x"], {}, "network name cannot be empty"),
])
def test_refused(values, kw, message):
    with pytest.raises(InvalidArgument, match=message):
        parse_network(values, **kw)
