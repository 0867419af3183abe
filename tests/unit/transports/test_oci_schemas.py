"""Hull's saved OCI layouts validate against the OCI image-spec JSON schemas."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import pytest
from jsonschema import Draft4Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from engine.transports import load_archive, save_images
from tests.unit.transports.helpers import BUSYBOX_NAME, PODMAN_DOCKER, PODMAN_OCI

SCHEMAS = Path("/work/shared/specs/oci-image-schema")


def _validator(name: str) -> Draft4Validator:
    # the schemas refer to each other by file name, relative to their draft-4 "id"s
    registry = Registry().with_resources(
        (base + p.name, Resource.from_contents(json.loads(p.read_text()), default_specification=DRAFT4))
        for p in SCHEMAS.glob("*.json")
        for base in ("", "https://opencontainers.org/schema/", "https://opencontainers.org/schema/image/")
    )
    schema = json.loads((SCHEMAS / name).read_text())
    return Draft4Validator(schema, registry=registry)


def _check(layout_files: dict[str, bytes]) -> int:
    """Validate oci-layout, index.json and every manifest and config it reaches."""
    _validator("image-layout-schema.json").validate(json.loads(layout_files["oci-layout"]))
    index = json.loads(layout_files["index.json"])
    _validator("image-index-schema.json").validate(index)
    checked = 0
    for desc in index["manifests"]:
        manifest = json.loads(layout_files["blobs/sha256/" + desc["digest"][7:]])
        _validator("image-manifest-schema.json").validate(manifest)
        config = json.loads(layout_files["blobs/sha256/" + manifest["config"]["digest"][7:]])
        _validator("config-schema.json").validate(config)
        checked += 1
    return checked


def test_the_validator_can_fail():
    with pytest.raises(Exception):
        _validator("image-manifest-schema.json").validate({"schemaVersion": 2, "config": {"digest": "x"}})


@pytest.mark.parametrize("source", [PODMAN_OCI, PODMAN_DOCKER], ids=["from-oci", "from-docker"])
def test_saved_oci_archive_validates(store, tmp_path, source):
    image = load_archive(store, source)[0]
    out = tmp_path / "out.tar"
    save_images(store, [image, image], [BUSYBOX_NAME, None], "oci-archive", out)
    with tarfile.open(out) as tar:
        files = {
            m.name: tar.extractfile(m).read()
            for m in tar.getmembers()
            if m.isfile() and (not m.name.startswith("blobs/") or m.size < (1 << 20))
        }
    assert _check(files) == 1


def test_saved_oci_dir_validates(store, tmp_path):
    image = load_archive(store, PODMAN_DOCKER)[0]  # a Docker manifest is converted to OCI
    out = tmp_path / "layout"
    save_images(store, [image], [BUSYBOX_NAME], "oci-dir", out)
    files = {
        str(p.relative_to(out)): p.read_bytes()
        for p in out.rglob("*")
        if p.is_file() and p.stat().st_size < (1 << 20)
    }
    assert _check(files) == 1
    index = json.loads(files["index.json"])
    assert index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"] == BUSYBOX_NAME
