import json

import pytest

from engine.errors import IntegrityError, InvalidArgument
from engine.oci import mediatypes as mt
from engine.oci.digest import sha256_digest
from engine.oci.manifest import MAX_MANIFEST_SIZE, Index, Manifest, choose_platform, parse_config, parse_manifest
from engine.oci.platform import Platform, host_platform, normalise_arch, parse_platform

D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64


def desc(digest=D1, media_type=mt.OCI_LAYER_GZIP, size=10, **extra):
    return {"mediaType": media_type, "digest": digest, "size": size, **extra}


def image_manifest(media_type=mt.OCI_MANIFEST, layers=None):
    return {"schemaVersion": 2, "mediaType": media_type, "config": desc(D2, mt.OCI_CONFIG, 5),
            "layers": layers if layers is not None else [desc()]}


def test_oci_manifest():
    raw = json.dumps(image_manifest()).encode()
    m = parse_manifest(raw)
    assert isinstance(m, Manifest)
    assert m.digest == sha256_digest(raw)
    assert m.config.digest == D2 and [layer.digest for layer in m.layers] == [D1]


def test_docker_schema2_and_list():
    m = parse_manifest(json.dumps(image_manifest(mt.DOCKER_MANIFEST, [desc(media_type=mt.DOCKER_LAYER_GZIP)])).encode())
    assert isinstance(m, Manifest) and m.media_type == mt.DOCKER_MANIFEST
    lst = {"schemaVersion": 2, "mediaType": mt.DOCKER_MANIFEST_LIST,
           "manifests": [desc(D1, mt.DOCKER_MANIFEST, platform={"os": "linux", "architecture": "amd64"})]}
    idx = parse_manifest(json.dumps(lst).encode())
    assert isinstance(idx, Index) and idx.manifests[0].platform == Platform("linux", "amd64")


def test_media_type_from_content_type_or_shape():
    doc = image_manifest()
    del doc["mediaType"]
    assert parse_manifest(json.dumps(doc).encode(), mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST
    assert parse_manifest(json.dumps(doc).encode(), None).media_type == mt.OCI_MANIFEST
    idx = {"schemaVersion": 2, "manifests": []}
    assert isinstance(parse_manifest(json.dumps(idx).encode()), Index)


def test_rejects_manifests_and_layers_together():
    doc = image_manifest()
    doc["manifests"] = []
    with pytest.raises(InvalidArgument, match="both manifests and layers"):
        parse_manifest(json.dumps(doc).encode())
    doc["mediaType"] = mt.OCI_INDEX
    with pytest.raises(InvalidArgument):
        parse_manifest(json.dumps(doc).encode())


def test_content_type_contradicting_document():
    with pytest.raises(InvalidArgument):
        parse_manifest(json.dumps(image_manifest()).encode(), mt.OCI_INDEX)


@pytest.mark.parametrize("bad", ["sha256:../../etc/passwd", "sha256:" + "A" * 64, "sha256:abc", "md5:" + "a" * 32, 5])
def test_every_descriptor_digest_is_validated(bad):
    with pytest.raises(InvalidArgument):
        parse_manifest(json.dumps(image_manifest(layers=[desc(bad)])).encode())
    doc = image_manifest()
    doc["config"]["digest"] = bad
    with pytest.raises(InvalidArgument):
        parse_manifest(json.dumps(doc).encode())


@pytest.mark.parametrize("size", [-1, "10", None, True])
def test_descriptor_size_must_be_an_int(size):
    with pytest.raises(InvalidArgument):
        parse_manifest(json.dumps(image_manifest(layers=[desc(size=size)])).encode())


def test_size_cap():
    doc = image_manifest()
    doc["annotations"] = {"pad": "x" * MAX_MANIFEST_SIZE}
    with pytest.raises(InvalidArgument, match="limit"):
        parse_manifest(json.dumps(doc).encode())


def test_schema1_and_garbage_rejected():
    with pytest.raises(InvalidArgument, match="schema 1"):
        parse_manifest(json.dumps({"schemaVersion": 1, "fsLayers": []}).encode())
    for raw in (b"\xff\xfe", b"[]", b"null", b"{"):
        with pytest.raises(InvalidArgument):
            parse_manifest(raw)


def test_config_verified_and_parsed():
    cfg = json.dumps({"architecture": "amd64", "os": "linux",
                      "rootfs": {"type": "layers", "diff_ids": [D1, D2]}}).encode()
    parsed = parse_config(cfg, sha256_digest(cfg))
    assert parsed.diff_ids == (D1, D2) and parsed.architecture == "amd64"
    with pytest.raises(IntegrityError):
        parse_config(cfg, D1)
    with pytest.raises(InvalidArgument):
        parse_config(json.dumps({"rootfs": {"type": "layers", "diff_ids": ["sha256:../x"]}}).encode())
    with pytest.raises(InvalidArgument):
        parse_config(json.dumps({"rootfs": {"type": "other"}}).encode())
    with pytest.raises(InvalidArgument, match="limit"):
        parse_config(b" " * (4 * 1024 * 1024 + 1))


def _index(*platforms):
    entries = []
    for i, p in enumerate(platforms):
        plat = dict(zip(("os", "architecture", "variant"), p.split("/")))
        entries.append(desc("sha256:" + str(i) * 64, mt.OCI_MANIFEST, platform=plat))
    return parse_manifest(json.dumps({"schemaVersion": 2, "mediaType": mt.OCI_INDEX, "manifests": entries}).encode())


def test_choose_platform():
    idx = _index("linux/arm/v7", "linux/arm64/v8", "linux/amd64", "windows/amd64")
    assert choose_platform(idx, Platform("linux", "amd64")).digest == "sha256:" + "2" * 64
    assert choose_platform(idx, Platform("linux", "arm64", "v8")).digest == "sha256:" + "1" * 64
    assert choose_platform(idx, Platform("linux", "arm", "v7")).digest == "sha256:" + "0" * 64
    # arm64 entries often carry no variant
    assert choose_platform(_index("linux/arm64"), Platform("linux", "arm64", "v8")).digest == "sha256:" + "0" * 64
    # an armv6 image runs on armv7, not the other way round
    assert choose_platform(_index("linux/arm/v6"), Platform("linux", "arm", "v7")).digest == "sha256:" + "0" * 64
    with pytest.raises(InvalidArgument, match="no image found"):
        choose_platform(_index("linux/arm/v7"), Platform("linux", "arm", "v6"))
    with pytest.raises(InvalidArgument, match="linux/s390x"):
        choose_platform(idx, Platform("linux", "s390x"))


def test_platform_helpers():
    assert normalise_arch("x86_64") == ("amd64", None)
    assert normalise_arch("aarch64") == ("arm64", "v8")
    assert normalise_arch("armv7l") == ("arm", "v7")
    assert parse_platform("linux/arm64") == Platform("linux", "arm64", "v8")
    assert parse_platform("amd64") == Platform("linux", "amd64")
    assert host_platform().os == "linux"
    with pytest.raises(InvalidArgument):
        parse_platform("a//b")
