"""Reference normalisation, checked against what Podman 4 / containers-image do."""

import pytest

from engine.errors import InvalidArgument
from engine.oci.reference import candidates, is_fully_qualified, parse_reference

D = "sha256:" + "a" * 64

# (input, normalised string as Podman prints it)
CASES = [
    ("busybox", "docker.io/library/busybox:latest"),
    ("busybox:1.36", "docker.io/library/busybox:1.36"),
    ("library/busybox", "docker.io/library/busybox:latest"),
    ("user/app", "docker.io/user/app:latest"),
    ("user/app/sub:v1", "docker.io/user/app/sub:v1"),
    ("docker.io/busybox", "docker.io/library/busybox:latest"),
    ("index.docker.io/library/busybox:1", "docker.io/library/busybox:1"),
    ("docker://busybox", "docker.io/library/busybox:latest"),
    ("quay.io/podman/hello", "quay.io/podman/hello:latest"),
    ("quay.io/busybox", "quay.io/busybox:latest"),  # no library/ outside Docker Hub
    ("localhost/app", "localhost/app:latest"),
    ("localhost:5000/a/b:tag", "localhost:5000/a/b:tag"),
    ("127.0.0.1:5000/a/b", "127.0.0.1:5000/a/b:latest"),
    (f"host.example/a@{D}", f"host.example/a@{D}"),
    (f"busybox@{D}", f"docker.io/library/busybox@{D}"),
    (f"busybox:1.36@{D}", f"docker.io/library/busybox:1.36@{D}"),
    ("my-reg.example.com:443/ns/img_x.y__z-w:Tag_1.0-rc", "my-reg.example.com:443/ns/img_x.y__z-w:Tag_1.0-rc"),
    ("a" * 63, "docker.io/library/" + "a" * 63 + ":latest"),
]


@pytest.mark.parametrize("text,expected", CASES)
def test_normalise_like_podman(text, expected):
    assert str(parse_reference(text)) == expected


BAD = [
    "",
    " busybox",
    "BusyBox",  # repository name must be lowercase
    "docker.io/Library/busybox",
    "busybox:",
    ":tag",
    "a//b",
    "-busybox",
    "busybox-",
    "a b",
    "busybox:" + "t" * 129,
    "busybox:-tag",
    "busybox@sha256:abc",
    "busybox@sha256:../../etc",
    "busybox@md5:" + "a" * 32,
    "a" * 64,  # an image ID, not a name
    "host:port/x",
    "x" * 256,
    "localhost:5000/",
]


@pytest.mark.parametrize("text", BAD)
def test_bad_references_are_invalid_argument(text):
    with pytest.raises(InvalidArgument) as info:
        parse_reference(text)
    assert "\n" not in str(info.value)


def test_parts_and_manifest_reference():
    ref = parse_reference(f"localhost:5000/a/b:t@{D}")
    assert (ref.registry, ref.repository, ref.tag, ref.digest) == ("localhost:5000", "a/b", "t", D)
    assert ref.name == "localhost:5000/a/b"
    assert ref.manifest_reference == D  # the digest wins over the tag, as libimage does
    assert parse_reference("busybox").manifest_reference == "latest"


def test_familiar_form():
    assert parse_reference("busybox").familiar == "busybox:latest"
    assert parse_reference("user/app:1").familiar == "user/app:1"
    assert parse_reference("quay.io/a/b").familiar == "quay.io/a/b:latest"
    assert parse_reference("docker.io/library/a/b").familiar == "library/a/b:latest"


def test_fully_qualified():
    assert not is_fully_qualified("busybox")
    assert not is_fully_qualified("user/app")  # Docker Hub user, still a short name
    assert is_fully_qualified("localhost/app")
    assert is_fully_qualified("quay.io/app")
    assert is_fully_qualified("host:5000/app")


def test_candidates_use_search_registries():
    assert [str(r) for r in candidates("busybox", [])] == ["docker.io/library/busybox:latest"]
    assert [str(r) for r in candidates("busybox", None)] == ["docker.io/library/busybox:latest"]
    assert [str(r) for r in candidates("busybox:1", ["quay.io", "docker.io"])] == [
        "quay.io/busybox:1", "docker.io/library/busybox:1"]
    assert [str(r) for r in candidates("user/app", ["registry.fedoraproject.org", "docker.io"])] == [
        "registry.fedoraproject.org/user/app:latest", "docker.io/user/app:latest"]
    # a qualified name is never searched
    assert [str(r) for r in candidates("quay.io/x", ["docker.io"])] == ["quay.io/x:latest"]
