import pytest

from engine.errors import RegistryAuthError
from engine.registry.auth import parse_challenges, validate_realm


def test_parse_bearer_and_basic():
    [c] = parse_challenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
                           'scope="repository:library/busybox:pull"')
    assert c.scheme == "bearer"
    assert c.params == {"realm": "https://auth.docker.io/token", "service": "registry.docker.io",
                        "scope": "repository:library/busybox:pull"}
    [b] = parse_challenges('Basic realm="hull-test"')
    assert (b.scheme, b.params) == ("basic", {"realm": "hull-test"})


def test_parse_several_challenges_unquoted_and_escapes():
    cs = parse_challenges('Basic realm=x, Bearer realm="https://a/t", error="invalid_token", '
                          'error_description="say \\"hi\\""')
    assert [c.scheme for c in cs] == ["basic", "bearer"]
    assert cs[0].params == {"realm": "x"}
    assert cs[1].params["error_description"] == 'say "hi"'
    assert parse_challenges("") == []


@pytest.mark.parametrize("realm", [
    "ftp://auth.example/token",
    "https:///token",
    "https://user:pw@auth.example/token",
    "https://user@auth.example/token",
    "https://169.254.169.254/latest",
    "https://[fe80::1]/x",
    "https://metadata.google.internal/x",
    "file:///etc/passwd",
    "http://auth.example/token",  # http realm for a https registry
    "https://auth.example:notaport/x",
])
def test_bad_realms(realm):
    with pytest.raises(RegistryAuthError):
        validate_realm(realm, "https")


def test_good_realms():
    assert validate_realm("https://auth.docker.io/token", "https")
    assert validate_realm("http://127.0.0.1:5000/token", "http")
