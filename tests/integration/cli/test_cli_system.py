"""info, version, system df, system reset through the real binary."""

from __future__ import annotations

import json

from tests.integration.cli.seed import seed_image


def test_version_formats(hull):
    out = hull("version").ok().stdout
    assert "Version:" in out and "OS/Arch:" in out
    assert hull("version", "--format", "{{.Client.Version}}").ok().stdout == "0.1.0\n"
    assert json.loads(hull("version", "--format", "json").ok().stdout)["Client"]["Os"] == "linux"
    hull("version", "--format", "{{.Nope}}").assert_error(125)


def test_info_paths_and_formats(hull):
    import yaml

    doc = yaml.safe_load(hull("info").ok().stdout)
    assert doc["store"]["graphRoot"] == str(hull.root)
    assert doc["store"]["runRoot"] == str(hull.runroot)
    assert doc["host"]["security"]["rootless"] is hull.rootless
    assert doc["store"]["imageStore"]["number"] == 0
    assert hull("info", "--format", "{{.Store.GraphRoot}}").ok().stdout == f"{hull.root}\n"
    assert json.loads(hull("info", "-f", "json").ok().stdout)["store"]["runRoot"] == str(hull.runroot)
    assert hull("system", "info", "--format", "{{.Host.OS}}").ok().stdout == "linux\n"  # Go's field name


def test_info_counts_containers_and_has_podman_fields(hull_any, busybox_image):
    """Scripts read {{.Store.ContainerStore.Number}}, {{.Host.OS}}, {{.Host.CgroupsVersion}},
    {{.Host.RemoteSocket.Path}}: Hull had 0 containers always and no such fields."""
    h = hull_any
    h.load(busybox_image)
    h("create", "busybox", "true").ok()
    fmt = ("{{.Store.ContainerStore.Number}} {{.Store.ContainerStore.Stopped}} {{.Host.OS}} "
           "{{.Host.CgroupsVersion}} {{.Host.OCIRuntime.Name}} {{.Host.RemoteSocket.Path}}")
    number, stopped, os_name, cgroups, runtime, socket = h("info", "--format", fmt).ok().stdout.split()
    assert (number, stopped, os_name, runtime) == ("1", "1", "linux", "builtin")
    assert cgroups in ("v1", "v2") and socket == f"{h.runroot}/hull.sock"
    doc = json.loads(h("info", "--format", "json").ok().stdout)
    assert doc["host"]["eventLogger"] == "file" and doc["store"]["containerStore"]["running"] == 0


def test_info_shows_registries_conf(hull):
    conf = hull.workdir / "registries.conf"
    conf.write_text('unqualified-search-registries = ["quay.io"]\n[[registry]]\nlocation = "localhost:5000"\ninsecure = true\n')
    doc = json.loads(hull("--registries-conf", str(conf), "info", "--format", "json").ok().stdout)
    assert doc["registries"]["search"] == ["quay.io"]
    assert doc["registries"]["localhost:5000"]["Insecure"] is True


def test_system_df(hull):
    hull("info").ok()
    seed_image(hull.root, hull.runroot, ["localhost/a:1"], files={"f": b"x" * 2000})
    lines = hull("system", "df").ok().lines
    assert lines[0].split() == ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"]
    assert lines[1].split()[:4] == ["Images", "1", "0", "2kB"]
    verbose = hull("system", "df", "-v").ok().stdout
    assert "Images space usage:" in verbose and "localhost/a" in verbose
    assert json.loads(hull("system", "df", "--format", "json").ok().stdout)[0]["Total"] == 1


def test_system_df_counts_containers_and_volumes(hull_any, busybox_image):
    """Hull's df showed 0 containers and 0 volumes whatever existed; Podman counts them:
    a container makes its image active, a volume's links are active, -v lists both."""
    h = hull_any
    h.load(busybox_image)
    h("volume", "create", "unused").ok()
    h("create", "--name", "c1", "-v", "data:/data", "busybox", "true").ok()
    h("create", "--name", "c2", "busybox", "true").ok()
    rows = {line.split()[0]: line.split() for line in h("system", "df").ok().lines[1:]}
    assert rows["Images"][1:3] == ["1", "1"]
    assert rows["Containers"][1:3] == ["2", "0"]  # none running
    assert rows["Local"][2:4] == ["2", "1"]  # "Local Volumes": two, one linked
    doc = {d["Type"]: d for d in json.loads(h("system", "df", "--format", "json").ok().stdout)}
    assert doc["Containers"]["Total"] == 2 and doc["Local Volumes"]["Total"] == 2
    verbose = h("system", "df", "-v").ok().stdout
    containers = verbose.split("Containers space usage:")[1].split("Local Volumes space usage:")[0]
    assert [line.split()[-1] for line in containers.strip().splitlines()[1:]] == sorted(
        ["c1", "c2"], key=lambda n: h("inspect", "-f", "{{.Id}}", n).ok().stdout)
    volumes = verbose.split("Local Volumes space usage:")[1].strip().splitlines()
    assert volumes[0].split() == ["VOLUME", "NAME", "LINKS", "SIZE"]
    assert sorted(line.split()[:2] for line in volumes[1:]) == [["data", "1"], ["unused", "0"]]


def test_system_reset(hull):
    hull("info").ok()
    seed_image(hull.root, hull.runroot, ["localhost/a:1"])
    # without -f it asks; no answer means no
    r = hull("system", "reset", input="\n")
    assert r.returncode == 0 and "Are you sure" in r.stdout and hull.root.exists()
    hull("system", "reset", "--force").ok()
    assert not hull.root.exists() and not hull.runroot.exists()
    assert hull("images", "-q").ok().lines == []  # a fresh store again


def test_unknown_system_subcommand(hull):
    hull("system", "frob").assert_error(125, "unrecognized command")
    hull("system").assert_error(125, "missing command")
