"""`hull --url unix://...` against a `hull system service`, root and rootless: the
commands podman --remote users rely on, with exit codes and streams as locally."""

from __future__ import annotations

import json

from tests.fixtures.cli import wait_for


def test_remote_lifecycle(remote, server, client_engine):
    version = remote("version").ok().stdout
    assert "Client:" in version and "Server:" in version and "API Version:    5.0.0" in version
    assert remote("info", "--format", "{{.Store.GraphRoot}}").ok().stdout.strip() == str(server.hull.root)
    assert "busybox" in remote("images", "--format", "{{.Repository}}").ok().stdout

    # attached: output on the right streams, the container's exit code
    res = remote("run", "--rm", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert res.returncode == 3, res._describe()
    assert res.stdout == "out\n" and res.stderr == "err\n"
    # stdin with -i
    assert remote("run", "--rm", "-i", "busybox", "tr", "a-z", "A-Z", input=b"shout\n").ok().stdout == "SHOUT\n"

    cid = remote("run", "-d", "--name", "web", "-e", "GREETING=hello", "-l", "role=web",
                 "busybox", "sleep", "300").ok().stdout.strip()
    assert len(cid) == 64
    # the server's own CLI sees it; the client's local storage does not
    assert server.hull("ps", "-q", "--no-trunc").ok().stdout.split() == [cid]
    assert client_engine("ps", "-aq").ok().stdout == ""
    ps = remote("ps", "--format", "{{.Names}} {{.Status}} {{.Labels}}").ok().stdout
    assert ps.startswith("web Up") and "role:web" in ps
    doc = json.loads(remote("inspect", "web").ok().stdout)[0]
    assert doc["Id"] == cid and doc["State"]["Status"] == "running"
    assert "GREETING=hello" in doc["Config"]["Env"]
    assert remote("container", "inspect", "--format", "{{.Config.Labels.role}}", "web").ok().stdout == "web\n"

    res = remote("exec", "web", "sh", "-c", 'echo "$GREETING"; echo oops >&2; exit 4')
    assert (res.returncode, res.stdout, res.stderr) == (4, "hello\n", "oops\n"), res._describe()
    assert remote("exec", "-i", "web", "cat", input=b"piped\n").ok().stdout == "piped\n"
    assert remote("exec", "-e", "X=1", "-w", "/tmp", "web", "sh", "-c", "echo $X $PWD").ok().stdout == "1 /tmp\n"
    res = remote("exec", "web", "nosuchcommand")  # the service reports it in the stream, as dockerd
    assert res.returncode == 127 and "executable file not found" in res.stdout + res.stderr, res._describe()

    assert remote("stop", "-t", "1", "web").ok().stdout == "web\n"
    assert remote("ps", "-a", "--format", "{{.Names}} {{.State}}").ok().stdout == "web exited\n"
    assert remote("start", "web").ok().stdout == "web\n"
    assert remote("inspect", "--format", "{{.State.Running}}", "web").ok().stdout == "true\n"
    assert remote("rm", "-f", "web").ok().stdout.strip() == cid
    assert remote("ps", "-aq").ok().stdout == ""


def test_remote_logs_follow(remote):
    remote("run", "-d", "--name", "talker", "busybox", "sh", "-c",
           "echo one; sleep 1; echo two >&2; sleep 1; echo three").ok()
    res = remote("logs", "-f", "talker").ok()  # returns when the container ends
    assert res.stdout == "one\nthree\n" and res.stderr == "two\n"
    assert remote("logs", "--tail", "1", "talker").ok().stdout == "three\n"


def test_remote_errors(remote):
    remote("rm", "nothere").assert_error(1, 'no container with name or ID "nothere" found')
    remote("exec", "nothere", "true").assert_error(125, 'no container with name or ID "nothere" found')
    remote("inspect", "nothere").assert_error(125)
    remote("run", "--pull=never", "--rm", "no-such-image-here").assert_error(125, "no-such-image-here")
    remote("build", ".").assert_error(125, "not supported with a remote connection")
    remote("system", "prune", "-f").assert_error(125, "not supported with a remote connection")


def test_remote_volumes_networks_pods(remote, server):
    assert remote("volume", "create", "--label", "k=v", "data").ok().stdout == "data\n"
    assert remote("volume", "ls", "-q").ok().stdout == "data\n"
    assert server.hull("volume", "ls", "-q").ok().stdout == "data\n"
    assert json.loads(remote("volume", "inspect", "data").ok().stdout)[0]["Labels"] == {"k": "v"}
    assert remote("volume", "rm", "data").ok().stdout == "data\n"
    remote("volume", "rm", "data").assert_error(1)
    server.hull("network", "create", "backend").ok()
    assert "backend" in remote("network", "ls", "--format", "{{.Name}}").ok().stdout.split()
    server.hull("pod", "create", "--name", "p1").ok()
    assert remote("pod", "ps", "--format", "{{.Name}} {{.Status}}").ok().stdout.split()[0] == "p1"


def test_remote_run_with_volume_and_port(remote, server):
    remote("volume", "create", "shared").ok()
    remote("run", "--rm", "-v", "shared:/data", "busybox", "sh", "-c", "echo kept > /data/f").ok()
    assert remote("run", "--rm", "-v", "shared:/data", "busybox", "cat", "/data/f").ok().stdout == "kept\n"
    remote("run", "-d", "--name", "srv", "-p", "127.0.0.1::8080", "busybox", "sleep", "60").ok()
    ports = remote("ps", "--format", "{{.Ports}}").ok().stdout
    assert "127.0.0.1:" in ports and "->8080/tcp" in ports
    wait_for(lambda: server.hull("ps", "-q").ok().stdout.strip(), what="srv running")
    remote("rm", "-f", "-t", "0", "srv").ok()


def test_connections_and_env(server, client_engine):
    h = client_engine
    conf = h.base / "config" / "containers" / "podman-connections.json"
    h("system", "connection", "add", "srv", server.url).ok()
    h("system", "connection", "add", "other", "ssh://someone@example.invalid:2222/run/hull.sock").ok()
    doc = json.loads(conf.read_text())
    assert doc["Connection"]["Default"] == "srv"
    assert doc["Connection"]["Connections"]["other"]["URI"] == "ssh://someone@example.invalid:2222/run/hull.sock"
    rows = json.loads(h("system", "connection", "ls", "--format", "json").ok().stdout)
    assert [(r["Name"], r["Default"]) for r in rows] == [("other", False), ("srv", True)]
    table = h("system", "connection", "list").ok().stdout.splitlines()
    assert table[0].split() == ["NAME", "URI", "IDENTITY", "DEFAULT", "READWRITE"]
    # --connection NAME, CONTAINER_CONNECTION and --remote (the default) all reach the service
    assert "busybox" in h("--connection", "srv", "images").ok().stdout
    h.extra_env["CONTAINER_CONNECTION"] = "srv"
    assert "busybox" in h("images").ok().stdout
    del h.extra_env["CONTAINER_CONNECTION"]
    assert "busybox" in h("--remote", "images").ok().stdout
    h.extra_env["CONTAINER_HOST"] = server.url
    assert "busybox" in h("images").ok().stdout
    del h.extra_env["CONTAINER_HOST"]
    assert "busybox" not in h("images").ok().stdout  # local again
    h("system", "connection", "default", "other").ok()
    h("system", "connection", "rename", "srv", "main").ok()
    assert h("system", "connection", "ls", "-q").ok().stdout.split() == ["main", "other"]
    h("system", "connection", "default", "nope").assert_error(125, 'connection "nope" not found')
    h("--connection", "nope", "ps").assert_error(125, 'connection "nope" not found')
    h("system", "connection", "rm", "other").ok()
    assert json.loads(conf.read_text())["Connection"]["Default"] == "main"
    h("system", "connection", "rm", "--all").ok()
    assert h("system", "connection", "ls", "-q").ok().stdout == ""
    h("system", "connection", "add", "bad", "http://x").assert_error(125, "invalid URI")
    h("--url", "unix:///nonexistent/hull.sock", "ps").assert_error(125, "unable to connect")
