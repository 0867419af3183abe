"""volume and secret commands through the binary (no container needs to run)."""

from __future__ import annotations

import json

from tests.integration.cli_containers.conftest import needs_monitor


def test_volume_lifecycle(hull_any):
    h = hull_any
    assert h("volume", "create", "data").ok().stdout == "data\n"
    assert h("volume", "create", "--label", "tier=db", "-o", "o=nodev", "db").ok().stdout == "db\n"
    anon = h("volume", "create").ok().stdout.strip()
    assert len(anon) == 64
    h("volume", "create", "data").assert_error(125, "already exists")
    assert h("volume", "create", "--ignore", "data").ok().stdout == "data\n"
    lines = h("volume", "ls").ok().lines
    assert lines[0].split() == ["DRIVER", "VOLUME", "NAME"]
    assert sorted(h("volume", "ls", "-q").ok().lines) == sorted([anon, "data", "db"])
    assert h("volume", "ls", "--filter", "label=tier=db", "--format", "{{.Name}} {{.Driver}}").ok().stdout == \
        "db local\n"
    doc = json.loads(h("volume", "inspect", "db").ok().stdout)
    assert doc[0]["Name"] == "db" and doc[0]["Labels"] == {"tier": "db"} and doc[0]["Scope"] == "local"
    assert doc[0]["Mountpoint"].endswith("/volumes/db/_data")
    assert h("inspect", "--type", "volume", "--format", "{{.Name}}", "data").ok().stdout == "data\n"
    assert h("inspect", "--format", "{{.Driver}}", "data").ok().stdout == "local\n"  # type all finds volumes
    assert h("volume", "exists", "data").returncode == 0
    assert h("volume", "rm", "data").ok().stdout == "data\n"
    assert h("volume", "exists", "data").returncode == 1
    assert sorted(h("volume", "prune", "-f").ok().lines) == sorted([anon, "db"])
    assert h("volume", "ls", "-q").ok().stdout == ""


def test_secret_lifecycle(hull_any):
    h = hull_any
    sid = h("secret", "create", "token", "-", input="s3cr3t-value").ok().stdout.strip()
    assert len(sid) == 25
    src = h.workdir / "secret.txt"
    src.write_text("from-file")
    src.chmod(0o644)
    sid2 = h("secret", "create", "--label", "a=b", "filed", str(src)).ok().stdout.strip()
    lines = h("secret", "ls").ok().lines
    assert lines[0].split()[:3] == ["ID", "NAME", "DRIVER"]
    assert sorted(h("secret", "ls", "--format", "{{.Name}}").ok().lines) == ["filed", "token"]
    doc = h("secret", "inspect", "token").ok().stdout
    assert "s3cr3t-value" not in doc
    assert json.loads(doc)[0]["Spec"]["Name"] == "token"
    h("secret", "create", "token", "-", input="again").assert_error(125)
    h("secret", "create", "empty", "-", input="").assert_error(125)
    assert h("secret", "rm", "token", "filed").ok().lines == [sid, sid2]
    assert h("secret", "ls", "-q").ok().stdout == ""


@needs_monitor
def test_named_volume_persists_and_secret_is_mounted(bb):
    bb("run", "--rm", "-v", "keep:/data", "busybox", "sh", "-c", "echo persisted > /data/f").ok()
    assert bb("run", "--rm", "-v", "keep:/data:ro", "busybox", "cat", "/data/f").ok().stdout == "persisted\n"
    assert bb("run", "--rm", "-v", "keep:/data:ro", "busybox", "touch", "/data/g").returncode != 0
    bb("secret", "create", "pw", "-", input="hunter2").ok()
    assert bb("run", "--rm", "--secret", "pw", "busybox", "cat", "/run/secrets/pw").ok().stdout == "hunter2"
    assert bb("run", "--rm", "--secret", "pw,type=env,target=PW", "busybox", "sh", "-c", "echo $PW").ok().stdout \
        == "hunter2\n"


def test_inspect_mounts_template_reads_every_field(bb):
    """`{{range .Mounts}}{{.Name}}` works for bind mounts too (a Go struct field is
    there even when empty); Hull's bind entries had no Name, so the template failed."""
    bb("create", "--name", "m", "-v", "vol1:/data", "-v", f"{bb.workdir}:/b:ro", "busybox", "true").ok()
    out = bb("inspect", "--format", "{{range .Mounts}}{{.Type}} {{.Destination}} {{.RW}} {{.Name}};{{end}}",
             "m").ok().stdout
    assert out == "volume /data true vol1;bind /b false ;\n"


def test_inspect_hostconfig_has_podmans_fields(bb):
    """Every field of Podman's HostConfig is there (zero when unset), so templates that
    read them render instead of failing; Hull lacked CgroupParent, Blkio*, CpuCount..."""
    import json as _json

    bb("create", "--name", "hc", "busybox", "true").ok()
    assert bb("inspect", "--format", "{{.HostConfig.CgroupParent}}|{{.HostConfig.BlkioWeight}}|"
              "{{.HostConfig.KernelMemory}}|{{.HostConfig.Isolation}}", "hc").ok().stdout == "|0|0|\n"
    host = _json.loads(bb("inspect", "hc").ok().stdout)[0]["HostConfig"]
    for key in ("BlkioDeviceReadBps", "BlkioWeightDevice", "CgroupConf", "CpuCount", "CpuPercent",
                "CpuRealtimePeriod", "CpuRealtimeRuntime", "DiskQuota", "IOMaximumBandwidth", "IOMaximumIOps"):
        assert key in host, key
