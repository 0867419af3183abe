"""`hull auto-update` against the local registry: a new image pushed under the same tag
replaces the running container's, a broken one is rolled back, --dry-run changes
nothing; the local policy; containers without the unit label are refused.  No systemd
manager runs here, so the containers are recreated directly (the path units take is
systemctl restart, which needs a running systemd)."""

from __future__ import annotations

import gzip
import json

from tests.fixtures.images import PATH_ENV, host_arch
from tests.fixtures.registry import make_layer_tar, push_raw_image

SLEEP = ["sh", "-c", "exec sleep 1000"]


def _push(registry, busybox_image, version: str, cmd: list[str]) -> None:
    layers = [gzip.decompress(busybox_image.blob(d).read_bytes()) for d in busybox_image.layer_digests]
    layers.append(make_layer_tar({"version": version + "\n"}))
    push_raw_image(registry, "app", "latest", layers, architecture=host_arch(),
                   extra_config={"config": {"Cmd": cmd, "Env": [PATH_ENV]}})


def _rows(out: str) -> list[list[str]]:
    lines = out.splitlines()
    assert lines[0].split() == ["UNIT", "CONTAINER", "IMAGE", "POLICY", "UPDATED"], out
    return [ln.split("  ") and [c for c in ln.split("  ") if c.strip()] for ln in lines[1:]]


def test_auto_update_registry(hull_any, registry, busybox_image):
    h = hull_any
    ref = f"{registry.host}/app:latest"
    _push(registry, busybox_image, "1", SLEEP)
    h("pull", "-q", "--tls-verify=false", ref).ok()
    h.extra_env["PODMAN_SYSTEMD_UNIT"] = "web.service"  # as systemd runs a unit's ExecStart
    h("run", "-d", "--name", "web", "--label", "io.containers.autoupdate=registry", "-e", "KEEP=me", ref).ok()
    h("run", "-d", "--name", "plain", ref, "sleep", "1000").ok()  # no policy: never touched
    del h.extra_env["PODMAN_SYSTEMD_UNIT"]
    first = h("inspect", "web", "--format", "{{.Id}}").ok().stdout.strip()
    assert h("inspect", "web", "--format", "{{.Config.Labels.PODMAN_SYSTEMD_UNIT}}").ok().stdout.strip() \
        == "web.service"

    out = h("auto-update", "--tls-verify=false").ok().stdout
    assert _rows(out) == [["web.service", f"{first[:12]} (web)", ref, "registry", "false"]]

    _push(registry, busybox_image, "2", SLEEP)
    dry = h("auto-update", "--dry-run", "--tls-verify=false").ok().stdout
    assert _rows(dry) == [["web.service", f"{first[:12]} (web)", ref, "registry", "pending"]]
    assert h("inspect", "web", "--format", "{{.Id}}").ok().stdout.strip() == first  # nothing changed
    assert h("exec", "web", "cat", "/version").ok().stdout == "1\n"

    done = h("auto-update", "--tls-verify=false")
    assert done.returncode == 0, done.stderr
    assert _rows(done.stdout) == [["web.service", f"{first[:12]} (web)", ref, "registry", "true"]]
    assert "no systemd manager running" in done.stderr
    second = h("inspect", "web", "--format", "{{.Id}}").ok().stdout.strip()
    assert second != first
    assert h("exec", "web", "cat", "/version").ok().stdout == "2\n"
    assert "KEEP=me" in h("exec", "web", "env").ok().stdout  # recreated from its create options
    labels = json.loads(h("inspect", "web", "--format", "{{json .Config.Labels}}").ok().stdout)
    assert labels["PODMAN_SYSTEMD_UNIT"] == "web.service" and labels["io.containers.autoupdate"] == "registry"
    assert h("exec", "plain", "cat", "/version").ok().stdout == "1\n"

    _push(registry, busybox_image, "3", ["sh", "-c", "exit 3"])  # broken: its command fails
    back = h("auto-update", "--tls-verify=false", "--format", "{{.ContainerName}} {{.Updated}}")
    assert back.returncode == 0, back.stderr
    assert back.stdout == "web rolled back\n"
    assert h("exec", "web", "cat", "/version").ok().stdout == "2\n"
    assert h("inspect", "web", "--format", "{{.State.Status}}").ok().stdout.strip() == "running"

    failed = h("auto-update", "--tls-verify=false", "--rollback=false", "--format", "json")
    assert failed.returncode == 125
    assert [r["Updated"] for r in json.loads(failed.stdout)] == ["failed"]
    assert "restarting unit web.service during auto-update failed" in failed.stderr


def test_auto_update_local_and_errors(hull, busybox_image):
    h = hull
    h.load(busybox_image)
    h("tag", "localhost/busybox:latest", "localhost/mine:1").ok()
    h.extra_env["PODMAN_SYSTEMD_UNIT"] = "mine.service"
    h("run", "-d", "--name", "mine", "--label", "io.containers.autoupdate=local", "localhost/mine:1",
      "sleep", "1000").ok()
    del h.extra_env["PODMAN_SYSTEMD_UNIT"]
    assert h("auto-update", "--format", "{{.Updated}}").ok().stdout == "false\n"
    h("commit", "mine", "localhost/mine:1").ok()  # a newer local image under the same name
    new_id = h("image", "inspect", "localhost/mine:1", "--format", "{{.Id}}").ok().stdout.strip()
    assert h("auto-update", "--format", "{{.Unit}} {{.Policy}} {{.Updated}}").ok().stdout \
        == "mine.service local true\n"
    assert h("inspect", "mine", "--format", "{{.Image}}").ok().stdout.strip() == new_id

    h("run", "-d", "--name", "nounit", "--label", "io.containers.autoupdate=registry", "busybox",
      "sleep", "1000").ok()
    err = h("auto-update").assert_error(125, "no PODMAN_SYSTEMD_UNIT label found")
    assert "nounit" in err or h("inspect", "nounit", "--format", "{{.Id}}").ok().stdout.strip() in err
