from pathlib import Path

import pytest

from engine.errors import InvalidArgument, RegistryError
from engine.oci.reference import parse_reference
from engine.registry.registries_conf import load_registries_conf, parse_registries_conf

CONF = """
unqualified-search-registries = ["quay.io", "docker.io"]

[[registry]]
location = "insecure.local:5000"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "internal.example:5000/bar"
[[registry.mirror]]
location = "mirror.local/m"
insecure = true

[[registry]]
prefix = "example.com"
location = "example.com"
[[registry.mirror]]
location = "mirror2.local"

[[registry]]
location = "evil.example"
blocked = true

[[registry]]
prefix = "*.wild.example"
[[registry.mirror]]
location = "wildmirror.local"
"""


def endpoints(conf, text):
    return [(e.location, e.insecure, repo) for e, repo in conf.endpoints(parse_reference(text))]


def test_search_and_insecure():
    conf = parse_registries_conf(CONF)
    assert conf.unqualified_search == ["quay.io", "docker.io"]
    assert conf.is_insecure("insecure.local:5000")
    assert conf.is_insecure("mirror.local")
    assert not conf.is_insecure("example.com")
    assert endpoints(conf, "insecure.local:5000/a:1") == [("insecure.local:5000", True, "a")]


def test_longest_prefix_mirrors_first_then_location():
    conf = parse_registries_conf(CONF)
    assert endpoints(conf, "example.com/foo/app:1") == [
        ("mirror.local", True, "m/app"),
        ("internal.example:5000", False, "bar/app"),
    ]
    assert endpoints(conf, "example.com/other") == [
        ("mirror2.local", False, "other"),
        ("example.com", False, "other"),
    ]
    # "example.com/foobar" does not match the "example.com/foo" prefix
    assert endpoints(conf, "example.com/foobar")[-1] == ("example.com", False, "foobar")


def test_wildcard_prefix():
    conf = parse_registries_conf(CONF)
    assert endpoints(conf, "a.wild.example/x/y") == [
        ("wildmirror.local", False, "x/y"),
        ("a.wild.example", False, "x/y"),
    ]


def test_blocked_refused():
    conf = parse_registries_conf(CONF)
    with pytest.raises(RegistryError, match="blocked"):
        conf.endpoints(parse_reference("evil.example/x"))


def test_unconfigured_registry_is_secure():
    conf = parse_registries_conf("")
    assert conf.unqualified_search == []
    assert endpoints(conf, "quay.io/a") == [("quay.io", False, "a")]


def test_v1_format_still_honoured():
    conf = parse_registries_conf('[registries.search]\nregistries = ["docker.io"]\n'
                                 '[registries.insecure]\nregistries = ["old.local:5000"]\n')
    assert conf.unqualified_search == ["docker.io"]
    assert conf.is_insecure("old.local:5000")


@pytest.mark.parametrize("text", ["unqualified-search-registries = 'x'", "[[registry]]\ninsecure = true",
                                  "not toml ===", "[[registry]]\nlocation='a'\n[[registry.mirror]]\ninsecure=true"])
def test_bad_files(text):
    with pytest.raises(InvalidArgument):
        parse_registries_conf(text)


def test_first_existing_candidate(tmp_path: Path):
    second = tmp_path / "b.conf"
    second.write_text('unqualified-search-registries = ["b.example"]\n')
    conf = load_registries_conf([tmp_path / "missing.conf", second])
    assert conf.unqualified_search == ["b.example"] and conf.path == second
    assert load_registries_conf([tmp_path / "none"]).registries == []
