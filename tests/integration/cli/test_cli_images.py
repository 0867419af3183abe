"""The image commands through the real `hull` binary, on images seeded through the
store API or loaded from Podman-made archives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.cli.seed import seed_image

BUSYBOX_TAR = Path("/work/shared/images/busybox.docker.tar")
BUSYBOX_ID = "a1650e46735caa638ff50713280371bb8a5a3f9b3e987521fc875151ab4a7264"


@pytest.fixture
def seeded(hull):
    """Two images: busybox (two names, a label) and an older quay.io/x/y."""
    hull("info").ok()  # let hull create its directories as it likes them
    a = seed_image(hull.root, hull.runroot, ["docker.io/library/busybox:latest", "localhost/foo:1"],
                   labels={"color": "blue"}, created="2024-05-01T00:00:00Z")
    b = seed_image(hull.root, hull.runroot, ["quay.io/x/y:2"], files={"x": b"1" * 5000},
                   parent_files={"p": b"2" * 3000}, created="2023-01-01T00:00:00Z")
    return hull, a.partition(":")[2], b.partition(":")[2]


def test_images_table_sorted_newest_first(seeded):
    hull, a, b = seeded
    lines = hull("images").ok().lines
    assert lines[0].split() == ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]
    assert [l.split()[0] for l in lines[1:]] == ["docker.io/library/busybox", "localhost/foo", "quay.io/x/y"]
    assert lines[1].split()[2] == a[:12]
    assert "ago" in lines[1]


def test_images_quiet_unique_ids_and_no_trunc(seeded):
    hull, a, b = seeded
    assert hull("images", "-q").ok().lines == [a[:12], b[:12]]
    assert hull("images", "-q", "--no-trunc").ok().lines == [f"sha256:{a}", f"sha256:{b}"]


def test_images_digests_and_noheading(seeded):
    hull, a, b = seeded
    lines = hull("images", "--digests", "-n").ok().lines
    assert len(lines) == 3 and all("sha256:" in l for l in lines)


def test_images_format_template_json_and_table(seeded):
    hull, a, b = seeded
    out = hull("images", "--format", "{{.ID}} {{.Repository}}:{{.Tag}}").ok().lines
    assert f"{b[:12]} quay.io/x/y:2" in out and len(out) == 3
    doc = json.loads(hull("images", "--format", "json").ok().stdout)
    assert {d["Id"] for d in doc} == {a, b}
    busy = next(d for d in doc if d["Id"] == a)
    assert busy["Labels"] == {"color": "blue"}
    assert busy["Names"] == ["docker.io/library/busybox:latest", "localhost/foo:1"]
    table = hull("images", "--format", "table {{.ID}}\\t{{.Tag}}").ok().lines
    assert table[0].split() == ["IMAGE", "ID", "TAG"]
    one = json.loads(hull("images", "--format", "{{json .}}", "quay.io/x/y").ok().stdout)
    assert one["Repository"] == "quay.io/x/y"


@pytest.mark.parametrize("flt,expect", [
    ("reference=quay.io/x/*", {"b"}),
    ("reference=busybox", {"a"}),
    ("label=color=blue", {"a"}),
    ("label=color=red", set()),
    ("dangling=false", {"a", "b"}),
    ("dangling=true", set()),
    ("since=quay.io/x/y:2", {"a"}),
    ("before=busybox", {"b"}),
])
def test_images_filters(seeded, flt, expect):
    hull, a, b = seeded
    ids = {a[:12]: "a", b[:12]: "b"}
    got = {ids[i] for i in hull("images", "-q", "--filter", flt).ok().lines}
    assert got == expect


def test_images_bad_filter_and_sort(seeded):
    hull, _, _ = seeded
    hull("images", "--filter", "nonsense").assert_error(125, "invalid filter")
    hull("images", "--filter", "color=red").assert_error(125, "filter")
    hull("images", "--sort", "weird").assert_error(125, "--sort")


def test_tag_untag_and_lookup_by_short_name(seeded):
    hull, a, _ = seeded
    hull("tag", "busybox", "mine:v1", "quay.io/z/w").ok()
    names = json.loads(hull("image", "inspect", "mine:v1").ok().stdout)[0]["RepoTags"]
    assert "localhost/mine:v1" in names and "quay.io/z/w:latest" in names
    hull("untag", a[:8], "mine:v1").ok()
    assert hull("image", "exists", "localhost/mine:v1").returncode == 1
    hull("untag", "busybox", "not-a-tag").assert_error(125, "tag not known")
    hull("tag", "busybox", "Bad:Ref").assert_error(125)
    hull("tag", "nosuch", "x").assert_error(125, "nosuch: image not known")


def test_image_exists(seeded):
    hull, a, _ = seeded
    assert hull("image", "exists", "busybox").returncode == 0
    assert hull("image", "exists", a[:5]).returncode == 0
    r = hull("image", "exists", "nosuch")
    assert r.returncode == 1 and r.stderr == ""


def test_images_created_at_is_go_time_string(seeded):
    """{{.CreatedAt}} is Go's time.Time String() in Podman's images template (not RFC 3339)."""
    import re

    hull, _, _ = seeded
    for line in hull("images", "--format", "{{.CreatedAt}}", "--filter", "reference=busybox").ok().lines:
        assert re.fullmatch(r"2024-0[45]-\d\d \d\d:00:00 [+-]\d{4} \S+", line), line


def test_rmi_semantics_like_podman(seeded):
    hull, a, b = seeded
    # an ID with several names needs --force
    hull("rmi", a[:12]).assert_error(125, "by ID with more than one tag")
    # a name removes just that name while others remain
    assert hull("rmi", "localhost/foo:1").ok().lines == ["Untagged: localhost/foo:1"]
    assert hull("rmi", "busybox").ok().lines == ["Untagged: docker.io/library/busybox:latest", f"Deleted: {a}"]
    hull("rmi", "busybox").assert_error(1, "busybox: image not known")
    assert hull("rmi", "-i", "busybox").returncode == 0
    hull("rmi", "-f", "-a").ok()
    assert hull("images", "-q").ok().lines == []
    # layers and blobs went with the images
    assert not any((hull.root / "layers").iterdir())


def test_rmi_force_by_name_only_untags_and_in_use_wording(hull, busybox_image):
    """`rmi -f NAME` of an image with several names untags NAME only (libimage), where Hull
    deleted the image and its containers; an image in use is refused in Podman's words."""
    hull.load(busybox_image)
    cid = hull("create", "busybox", "true").ok().stdout.strip()
    hull("tag", "busybox", "localhost/other:1").ok()
    assert hull("rmi", "-f", "localhost/other:1").ok().lines == ["Untagged: localhost/other:1"]
    assert hull("ps", "-aq", "--no-trunc").ok().stdout == cid + "\n"
    assert hull("image", "exists", "busybox").returncode == 0
    line = hull("rmi", "busybox").assert_error(2)
    assert line == (f"Error: image used by {cid}: image is in use by a container: consider listing "
                    "external containers and force-removing image")


def test_rmi_mixed_missing_and_present_exit_1(seeded):
    hull, a, b = seeded
    r = hull("rmi", "nosuch", "quay.io/x/y:2")
    assert r.returncode == 1
    assert f"Deleted: {b}" in r.stdout and "Error: nosuch: image not known" in r.stderr


def test_inspect_document_has_podmans_fields(seeded):
    hull, a, _ = seeded
    doc = json.loads(hull("image", "inspect", "busybox").ok().stdout)
    assert len(doc) == 1
    d = doc[0]
    for key in ("Id", "Digest", "RepoTags", "RepoDigests", "Parent", "Comment", "Created", "Config", "Version",
                "Author", "Architecture", "Os", "Size", "VirtualSize", "GraphDriver", "RootFS", "Labels",
                "Annotations", "ManifestType", "User", "History", "NamesHistory"):
        assert key in d, key
    assert d["Id"] == a and d["Labels"] == {"color": "blue"} and d["Config"]["Cmd"] == ["/bin/sh"]
    assert d["RootFS"]["Type"] == "layers" and len(d["RootFS"]["Layers"]) == 1
    assert hull("inspect", "--format", "{{.Id}}", "busybox").ok().stdout == a + "\n"
    assert hull("image", "inspect", "-f", "{{.Config.Cmd}}", "busybox").ok().stdout == "[/bin/sh]\n"


def test_inspect_missing(seeded):
    hull, _, _ = seeded
    hull("image", "inspect", "nosuch").assert_error(125, "nosuch: image not known")
    hull("inspect", "nosuch").assert_error(125, 'no such object: "nosuch"')
    hull("inspect", "--type", "bogus", "x").assert_error(125, "invalid type")
    hull("inspect", "--type", "volume", "x").assert_error(125, "no such volume x")


def test_history(seeded):
    hull, _, b = seeded
    lines = hull("history", "quay.io/x/y:2").ok().lines
    assert lines[0].split()[:2] == ["ID", "CREATED"]
    assert lines[1].startswith(b[:12]) and lines[2].startswith("<missing>") and len(lines) == 4
    assert "5 kB" in lines[2] and "3 kB" in lines[3]
    raw = hull("history", "-H=false", "--format", "{{.Size}}", "quay.io/x/y:2").ok().lines
    assert raw == ["0", "5000", "3000"]
    assert hull("history", "-q", "quay.io/x/y:2").ok().lines == [b[:12], "<missing>", "<missing>"]
    hull("history", "nosuch").assert_error(125, "image not known")


def test_image_tree(seeded):
    hull, _, b = seeded
    out = hull("image", "tree", "quay.io/x/y:2").ok().lines
    assert out[0] == f"Image ID: {b[:12]}"
    assert out[1] == "Tags:     [quay.io/x/y:2]"
    assert out[3] == "Image Layers"
    assert out[4].startswith("├── ID: ") and out[5].startswith("└── ID: ")
    assert out[5].endswith("Top Layer of: [quay.io/x/y:2]")


def test_prune_dangling_then_all(seeded):
    hull, a, b = seeded
    hull("untag", "quay.io/x/y:2").ok()
    assert hull("images", "-q", "--filter", "dangling=true").ok().lines == [b[:12]]
    assert hull("image", "prune", "-f").ok().lines == [b]
    assert hull("images", "-q").ok().lines == [a[:12]]
    # without -f it asks; "n" keeps everything
    r = hull("image", "prune", "-a", input="n\n")
    assert r.returncode == 0 and hull("images", "-q").ok().lines == [a[:12]]
    assert hull("image", "prune", "-a", "-f").ok().lines == [a]
    hull("image", "prune", "-f", "--filter", "color=x").assert_error(125, "filter")


def test_bad_input_is_one_line_exit_125(hull):
    r = hull("images", "--bogus")
    assert r.returncode == 125 and "Traceback" not in r.stderr
    assert r.stderr.splitlines()[0] == "Error: unknown flag: --bogus"
    hull("image", "inspect", "UPPER:case").assert_error(125)
    hull("pull", "Bad:Ref").assert_error(125, "reference")
    hull("save", "-o", str(hull.workdir / "x.tar"), "nosuch").assert_error(125, "image not known")


@pytest.mark.skipif(not BUSYBOX_TAR.exists(), reason="shared busybox archive missing")
def test_load_save_round_trip_keeps_podmans_id(hull, hull_factory):
    out = hull("load", "-i", str(BUSYBOX_TAR)).ok().stdout
    assert out == "Loaded image: localhost:5000/busybox:latest\n"
    assert hull("images", "-q", "--no-trunc").ok().lines == [f"sha256:{BUSYBOX_ID}"]
    assert "2.13 MB" in hull("images").ok().stdout  # Podman shows the same size
    archive = hull.workdir / "bb.tar"
    hull("save", "-o", str(archive), "busybox").ok()
    other = hull_factory()
    assert other("load", input=archive.read_bytes()).ok().stdout == "Loaded image: localhost:5000/busybox:latest\n"
    assert other("images", "-q", "--no-trunc").ok().lines == [f"sha256:{BUSYBOX_ID}"]
    oci = hull.workdir / "bb.oci.tar"
    hull("save", "--format", "oci-archive", "-o", str(oci), BUSYBOX_ID[:12]).ok()
    assert oci.stat().st_size > 1_000_000
    hull("save", "--format", "weird", "-o", str(oci), "busybox").assert_error(125, "format")


@pytest.mark.skipif(not BUSYBOX_TAR.exists(), reason="shared busybox archive missing")
def test_load_corrupt_archive_stores_nothing(hull):
    bad = hull.workdir / "bad.tar"
    bad.write_bytes(BUSYBOX_TAR.read_bytes()[:50000])
    hull("load", "-i", str(bad)).assert_error(125)
    assert hull("images", "-q").ok().lines == []


def test_import_tarball_with_changes(hull):
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        data = b"#!/bin/sh\necho hi\n"
        info = tarfile.TarInfo("bin/hello")
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
    tarball = hull.workdir / "rootfs.tar"
    tarball.write_bytes(buf.getvalue())
    out = hull("import", "-c", 'CMD ["/bin/hello"]', "-c", "ENV A=1", "-m", "my message",
               str(tarball), "imported:1").ok().stdout
    assert out.startswith("sha256:") and len(out.strip()) == 71
    got = hull("image", "inspect", "--format", "{{.Config.Cmd}} {{.Config.Env}}", "imported:1").ok().stdout
    assert got == "[/bin/hello] [A=1]\n"
    assert "my message" in hull("history", "imported:1").ok().stdout
    stdin_id = hull("import", "-", input=buf.getvalue()).ok().stdout.strip()
    assert stdin_id.startswith("sha256:")
    hull("import", "-c", "BOGUS x", str(tarball)).assert_error(125, "invalid change")
    hull("import", str(hull.workdir / "missing.tar")).assert_error(125, "no such file")
