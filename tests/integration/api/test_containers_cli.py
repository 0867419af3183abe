"""The real docker CLI against Hull's socket: containers, root and rootless."""

from __future__ import annotations

import json

from tests.integration.api.containers_fixtures import dapi  # noqa: F401 - fixture


def test_run_prints_and_exits_with_the_commands_code(dapi):
    res = dapi.docker("run", "--rm", "busybox", "echo", "hi")
    assert (res.returncode, res.stdout) == (0, "hi\n"), res.stderr
    res = dapi.docker("run", "--rm", "busybox", "sh", "-c", "echo oops >&2; exit 3")
    assert res.returncode == 3 and res.stderr == "oops\n" and res.stdout == "", res
    assert dapi.docker("ps", "-aq").ok().stdout == ""  # --rm removed both


def test_detached_lifecycle(dapi, tmp_path):
    d = dapi.docker
    cid = d("run", "-d", "--name", "web", "busybox", "sh", "-c",
            "echo started; trap 'exit 0' TERM; while true; do sleep 0.2; done").ok().stdout.strip()
    assert len(cid) == 64
    ps = d("ps", "--format", "{{.ID}} {{.Names}} {{.State}}").ok().stdout.split()
    assert ps == [cid[:12], "web", "running"]
    assert d("logs", "web").ok().stdout == "started\n"
    doc = json.loads(d("inspect", "web").ok().stdout)[0]
    assert doc["Id"] == cid and doc["Name"] == "/web" and doc["State"]["Running"] is True
    assert doc["Config"]["Cmd"][0] == "sh"
    d("rename", "web", "web2").ok()
    top = d("top", "web2").ok().stdout
    assert "sleep" in top or "sh -c" in top
    stats = d("stats", "--no-stream", "--format", "{{.Name}} {{.PIDs}}", "web2").ok().stdout.split()
    assert stats[0] == "web2" and int(stats[1]) >= 1
    d("stop", "-t", "5", "web2").ok()
    assert d("wait", "web2").ok().stdout.strip() == "0"
    assert d("inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", "web2").ok().stdout.strip() == "exited 0"
    d("rm", "-f", "web2").ok()
    res = d("inspect", "web2")
    assert res.returncode == 1 and "No such" in res.stderr


def test_exec_and_exit_code(dapi):
    d = dapi.docker
    d("run", "-d", "--name", "box", "busybox", "sleep", "300").ok()
    assert d("exec", "box", "sh", "-c", "echo in-exec; exit 5").returncode == 5
    res = d("exec", "-e", "X=42", "-w", "/tmp", "box", "sh", "-c", "echo $X $(pwd)")
    assert res.ok().stdout == "42 /tmp\n"
    assert d("exec", "-i", "box", "cat", input=b"through stdin\n").ok().stdout == "through stdin\n"
    missing = d("exec", "box", "no-such-command")
    assert missing.returncode == 127, missing
    d("rm", "-f", "box").ok()


def test_cp_both_ways(dapi):
    d = dapi.docker
    work = dapi.hull.workdir
    d("run", "-d", "--name", "cpbox", "busybox", "sleep", "300").ok()
    (work / "in.txt").write_text("hello from the host\n")
    (work / "tree").mkdir()
    (work / "tree" / "a.txt").write_text("a\n")
    d("cp", str(work / "in.txt"), "cpbox:/tmp/").ok()
    d("cp", str(work / "tree"), "cpbox:/tmp/tree").ok()
    assert d("exec", "cpbox", "cat", "/tmp/in.txt", "/tmp/tree/a.txt").ok().stdout == "hello from the host\na\n"
    d("exec", "cpbox", "sh", "-c", "mkdir /data && echo out > /data/o.txt").ok()
    d("cp", "cpbox:/data/o.txt", str(work / "o.txt")).ok()
    assert (work / "o.txt").read_text() == "out\n"
    d("cp", "cpbox:/data", str(work / "data")).ok()
    assert (work / "data" / "o.txt").read_text() == "out\n"
    res = d("cp", "cpbox:/no/such", str(work / "x"))
    assert res.returncode != 0 and "no/such" in res.stderr
    d("rm", "-f", "cpbox").ok()


def test_create_start_attach_and_missing_things(dapi):
    d = dapi.docker
    d("create", "--name", "later", "busybox", "echo", "later").ok()
    assert d("start", "-a", "later").ok().stdout == "later\n"
    res = d("start", "nosuch")
    assert res.returncode != 0 and "No such container: nosuch" in res.stderr
    res = d("run", "--name", "later", "busybox", "true")
    assert res.returncode == 125 and "already in use" in res.stderr
