"""`hull --url ssh://USER@127.0.0.1:PORT/SOCKET` through the system's ssh client
(stream-local forwarding) to Debian's sshd: the test user's service as that user
(rootless) and root's service as root."""

from __future__ import annotations

import json


def test_remote_over_ssh(server, client_engine, sshd):
    key, config = sshd.client_files(client_engine)
    user = client_engine.user.name
    url = f"ssh://{user}@127.0.0.1:{sshd.port}{server.socket_path}"
    client_engine.extra_env["HULL_SSH_CONFIG"] = str(config)
    h = client_engine

    def remote(*args, **kw):
        return h("--url", url, "--identity", str(key), *args, **kw)

    assert "busybox" in remote("images", "--format", "{{.Repository}}").ok().stdout
    res = remote("run", "--rm", "busybox", "sh", "-c", "echo over-ssh; exit 5")
    assert (res.returncode, res.stdout) == (5, "over-ssh\n"), res._describe()
    cid = remote("run", "-d", "--name", "far", "busybox", "sleep", "120").ok().stdout.strip()
    assert server.hull("ps", "-q", "--no-trunc").ok().stdout.split() == [cid]
    assert remote("exec", "far", "echo", "inside").ok().stdout == "inside\n"
    assert json.loads(remote("inspect", "far").ok().stdout)[0]["Id"] == cid
    remote("rm", "-f", "-t", "0", "far").ok()

    # a named connection with its identity; CONTAINER_SSHKEY works too
    h("system", "connection", "add", "--identity", str(key), "lab", url).ok()
    assert h("--connection", "lab", "ps", "-aq").ok().stdout == ""
    h.extra_env.update({"CONTAINER_HOST": url, "CONTAINER_SSHKEY": str(key)})
    assert "Server:" in h("version").ok().stdout
    # a wrong socket path on the far side and an unknown key are clean errors
    h.extra_env.pop("CONTAINER_HOST")
    bad = f"ssh://{user}@127.0.0.1:{sshd.port}/nonexistent/hull.sock"
    h("--url", bad, "ps").assert_error(125, "unable to connect")
    h.extra_env.pop("CONTAINER_SSHKEY")
    stranger = f"ssh://nobody@127.0.0.1:{sshd.port}{server.socket_path}"
    h("--url", stranger, "ps").assert_error(125, "failed to connect")
