"""`hull manifest`: two single-arch images from the busybox fixture (imported with
different --arch), a list made of them, annotated, inspected, pushed to a real
registry, pulled back into a fresh store and run; root and rootless."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.fixtures.images import host_arch
from tests.integration.manifest.helpers import (DOCKER_LIST, MISSING, OCI_INDEX, OTHER_ARCH, arch_images,
                                               busybox_layer, list_id)


@pytest.mark.slow
def test_create_add_annotate_push_pull_run(hull_any, hull_factory, busybox_image, registry):
    hull = hull_any
    digests = arch_images(hull, busybox_image)
    ml_id = hull("manifest", "create", "multi").ok().stdout.strip()
    assert len(ml_id) == 64
    assert hull("manifest", "exists", "multi").returncode == 0
    empty = json.loads(hull("manifest", "inspect", "multi").ok().stdout)
    assert empty == {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": []}
    assert hull("manifest", "add", "multi", "containers-storage:localhost/bb:" + OTHER_ARCH).ok().stdout.strip() \
        == ml_id
    assert hull("manifest", "add", "--annotation", "org.example.flavour=host", "multi",
                f"localhost/bb:{host_arch()}").ok().stdout.strip() == ml_id
    hull("manifest", "annotate", "--variant", "v9", "--annotation", "k=v", "multi", digests[OTHER_ARCH]).ok()
    hull("manifest", "annotate", "--index", "--annotation", "org.example.list=yes", "multi").ok()

    doc = json.loads(hull("manifest", "inspect", "multi").ok().stdout)
    assert doc["mediaType"] == OCI_INDEX and doc["annotations"] == {"org.example.list": "yes"}
    by_digest = {m["digest"]: m for m in doc["manifests"]}
    assert list(by_digest) == [digests[OTHER_ARCH], digests[host_arch()]]
    other, host = by_digest[digests[OTHER_ARCH]], by_digest[digests[host_arch()]]
    assert other["platform"]["architecture"] == OTHER_ARCH and other["platform"]["variant"] == "v9"
    assert other["annotations"] == {"k": "v"}
    assert host["platform"] == {"architecture": host_arch(), "os": "linux"}
    assert host["annotations"] == {"org.example.flavour": "host"}

    # the list is an image of the store: listed, and `run LIST` runs the host's entry
    listed = hull("images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}").ok().stdout
    assert f"localhost/multi:latest {ml_id[:12]}" in listed
    assert hull("run", "--rm", "multi").ok().stdout.strip() == f"I am {host_arch()}"

    pushed = hull("manifest", "push", "--tls-verify=false", "multi", f"docker://{registry.host}/team/multi:1").ok()
    assert "Writing manifest list to image destination" in pushed.stderr
    served = httpx.get(f"{registry.url}/v2/team/multi/manifests/1", headers={"Accept": OCI_INDEX})
    assert served.status_code == 200 and served.json()["manifests"] == doc["manifests"]
    for digest in digests.values():  # --all (the default) pushed every entry
        assert httpx.head(f"{registry.url}/v2/team/multi/manifests/{digest}",
                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).status_code == 200

    fresh = hull_factory(hull.mode)
    assert fresh.root != hull.root
    fresh("pull", "--tls-verify=false", f"{registry.host}/team/multi:1").ok()
    assert fresh("run", "--rm", f"{registry.host}/team/multi:1").ok().stdout.strip() == f"I am {host_arch()}"
    # inspect of a name not stored as a list reads it from the registry
    remote = json.loads(fresh("manifest", "inspect", "--tls-verify=false", f"{registry.host}/team/multi:1")
                        .ok().stdout)
    assert remote["manifests"] == doc["manifests"]

    out = hull("manifest", "remove", "multi", digests[OTHER_ARCH]).ok().stdout.strip()
    assert out == ml_id
    assert [m["digest"] for m in json.loads(hull("manifest", "inspect", "multi").ok().stdout)["manifests"]] \
        == [digests[host_arch()]]
    removed = hull("manifest", "rm", "multi").ok().stdout
    assert removed == f"Untagged: localhost/multi:latest\nDeleted: {ml_id}\n"
    assert hull("manifest", "exists", "multi").returncode == 1
    assert "localhost/multi" not in hull("images").ok().stdout
    # the images the list named stay
    assert hull("image", "exists", f"localhost/bb:{host_arch()}").returncode == 0


@pytest.mark.slow
def test_remote_entries_copied_within_the_registry(hull, busybox_image, registry):
    """Entries added from docker:// are described without pulling and copied on push."""
    digests = arch_images(hull, busybox_image)
    hull("manifest", "create", "src", f"localhost/bb:{host_arch()}", f"localhost/bb:{OTHER_ARCH}").ok()
    hull("manifest", "push", "--tls-verify=false", "src", f"{registry.host}/a/src:1").ok()
    hull("manifest", "rm", "src").ok()
    images_before = set(hull("images", "-q", "--no-trunc").ok().stdout.split())

    hull("manifest", "create", "--annotation", "org.example.made=by-create", "copy").ok()
    hull("manifest", "add", "--all", "--tls-verify=false", "copy", f"docker://{registry.host}/a/src:1").ok()
    new_images = set(hull("images", "-q", "--no-trunc").ok().stdout.split()) - images_before
    assert new_images == {"sha256:" + list_id(hull, "copy")}  # only the list: nothing was pulled
    doc = json.loads(hull("manifest", "inspect", "copy").ok().stdout)
    assert sorted(m["digest"] for m in doc["manifests"]) == sorted(digests.values())
    assert doc["annotations"] == {"org.example.made": "by-create"}
    hull("manifest", "push", "--tls-verify=false", "--format", "v2s2", "copy",
         f"{registry.host}/b/copy:2").ok()
    served = httpx.get(f"{registry.url}/v2/b/copy/manifests/2", headers={"Accept": DOCKER_LIST})
    assert served.json()["mediaType"] == DOCKER_LIST
    for digest in digests.values():
        assert httpx.head(f"{registry.url}/v2/b/copy/manifests/{digest}",
                          headers={"Accept": "application/vnd.oci.image.manifest.v1+json"}).status_code == 200


def test_bad_input_is_one_line_with_podmans_exit_code(hull_any, busybox_image):
    hull = hull_any
    hull("import", busybox_layer(busybox_image), "localhost/plain:1").ok()
    hull("manifest", "create", "ml").ok()
    hull("manifest", "inspect", "localhost/nosuch:1").assert_error(125)
    hull("manifest", "add", "nosuch", "localhost/plain:1").assert_error(125, "nosuch: image not known")
    hull("manifest", "add", "ml", "containers-storage:localhost/nothere:1").assert_error(125, "image not known")
    hull("manifest", "remove", "ml", MISSING).assert_error(125, f'no instance matching digest "{MISSING}"')
    hull("manifest", "annotate", "--arch", "arm", "ml", MISSING).assert_error(125, "no image instance matching")
    hull("manifest", "create", "ml").assert_error(125, "that name is already in use")
    hull("manifest", "add", "localhost/plain:1", "localhost/plain:1").assert_error(125, "not a manifest list")
    hull("manifest", "push", "--format", "v1", "ml", "localhost:1/x").assert_error(125, "unsupported manifest")
    hull("manifest", "rm", "nosuch").assert_error(1, "nosuch: image not known")
    assert hull("manifest", "exists", "nosuch").returncode == 1
    assert hull("manifest", "exists", "localhost/plain:1").returncode == 1
    assert hull("manifest", "create", "--amend", "ml").ok().stdout.strip() == list_id(hull, "ml")
    hull("rmi", "ml").ok()
    assert hull("manifest", "exists", "ml").returncode == 1
