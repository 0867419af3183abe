"""Pods through the real binary, as root and rootless: members share the infra
container's network, IPC and UTS namespaces; the pod verbs act on every member;
rm -f leaves nothing behind; Podman's errors and formats."""

from __future__ import annotations

import json
import os

from tests.fixtures.cli import wait_for


def _ns(h, ctr: str, kind: str) -> str:
    return h("exec", ctr, "readlink", f"/proc/self/ns/{kind}").ok().stdout.strip()


def _state(h, ctr: str) -> str:
    return h("inspect", "--format", "{{.State.Status}}", ctr).ok().stdout.strip()


def _pod_state(h, pod: str) -> str:
    return h("pod", "inspect", "--format", "{{.State}}", pod).ok().stdout.strip()


def _infra(h, pod: str) -> str:
    return h("pod", "inspect", "--format", "{{.InfraContainerID}}", pod).ok().stdout.strip()


def _web(h, pod: str, name: str = "web") -> None:
    h("run", "-d", "--pod", pod, "--name", name, "busybox", "sh", "-c",
      "mkdir -p /www && echo hello-from-pod > /www/index.html && "
      "exec httpd -f -p 127.0.0.1:8080 -h /www").ok()


def test_members_talk_over_localhost_and_share_hostname_and_ipc(bb):
    pod_id = bb("pod", "create", "--name", "shared").ok().stdout.strip()
    assert len(pod_id) == 64
    _web(bb, "shared")
    # wget retries until httpd listens: no sleep, no timing assert
    out = bb("run", "--rm", "--pod", "shared", "busybox", "sh", "-c",
             "for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/index.html && exit 0; usleep 100000; done; "
             "exit 1").ok().stdout
    assert out == "hello-from-pod\n"
    bb("run", "-d", "--pod", "shared", "--name", "other", "busybox", "sleep", "300").ok()
    assert bb("exec", "web", "hostname").ok().stdout.strip() == "shared"
    assert bb("exec", "other", "hostname").ok().stdout.strip() == "shared"
    for kind in ("net", "ipc", "uts"):
        assert _ns(bb, "web", kind) == _ns(bb, "other", kind), kind
    # pid is not shared by default
    assert _ns(bb, "web", "pid") != _ns(bb, "other", "pid")
    # a container outside the pod has its own namespaces
    bb("run", "-d", "--name", "outside", "busybox", "sleep", "300").ok()
    assert _ns(bb, "outside", "net") != _ns(bb, "web", "net")
    doc = json.loads(bb("inspect", "web").ok().stdout)[0]
    assert doc["Pod"] == pod_id
    assert bb("pod", "inspect", "--format", "{{.State}} {{.NumContainers}}", "shared").ok().stdout == "Running 3\n"
    bb("pod", "rm", "-f", "shared").ok()


def test_pod_ps_and_inspect_formats(bb):
    pod_id = bb("pod", "create", "--name", "listed", "--label", "tier=web").ok().stdout.strip()
    bb("create", "--pod", "listed", "--name", "member", "busybox", "true").ok()
    lines = bb("pod", "ps").ok().lines
    assert lines[0].split() == ["POD", "ID", "NAME", "STATUS", "CREATED", "INFRA", "ID", "#", "OF", "CONTAINERS"]
    row = lines[1].split()
    assert row[0] == pod_id[:12] and row[1] == "listed" and row[2] == "Created" and row[-1] == "2"
    infra = _infra(bb, "listed")
    names = bb("pod", "ps", "--ctr-names", "--ctr-status", "--format",
               "{{.Name}} {{.ContainerNames}} {{.ContainerStatuses}}").ok().stdout
    assert names == f"listed {pod_id[:12]}-infra,member created,created\n"
    assert bb("pod", "ps", "-q", "--no-trunc").ok().stdout == pod_id + "\n"
    assert bb("pod", "ps", "--filter", "label=tier=web", "-q").ok().stdout == pod_id[:12] + "\n"
    assert bb("pod", "ps", "--filter", "name=nomatch", "-q").ok().stdout == ""
    assert bb("pod", "ps", "--filter", "ctr-names=member", "-q").ok().stdout == pod_id[:12] + "\n"
    assert bb("pod", "ps", "--filter", "status=running", "-q").ok().stdout == ""
    docs = json.loads(bb("pod", "ps", "--format", "json").ok().stdout)
    assert docs[0]["Id"] == pod_id and docs[0]["InfraId"] == infra and docs[0]["Labels"] == {"tier": "web"}
    assert sorted(c["Names"] for c in docs[0]["Containers"]) == sorted([f"{pod_id[:12]}-infra", "member"])
    doc = json.loads(bb("pod", "inspect", "listed").ok().stdout)
    assert isinstance(doc, list) and doc[0]["Name"] == "listed"
    assert doc[0]["SharedNamespaces"] == ["ipc", "net", "uts"]
    assert doc[0]["ExitPolicy"] == "continue" and doc[0]["NumContainers"] == 2
    # ps knows the pod
    out = bb("ps", "-a", "--pod", "--format", "{{.Names}} {{.Pod}} {{.PodName}}").ok().lines
    assert f"member {pod_id[:12]} listed" in out
    assert sorted(bb("ps", "-a", "--filter", "pod=listed", "--format", "{{.Names}}").ok().lines) == \
        sorted(["member", f"{pod_id[:12]}-infra"])
    assert bb("pod", "exists", "listed").returncode == 0
    assert bb("pod", "exists", "nothere").returncode == 1
    bb("pod", "rm", "-f", "listed").ok()


def test_pod_top_stats_logs(bb):
    bb("pod", "create", "--name", "watched").ok()
    bb("run", "-d", "--pod", "watched", "--name", "a", "busybox", "sh", "-c", "echo from-a; exec sleep 300").ok()
    bb("run", "-d", "--pod", "watched", "--name", "b", "busybox", "sh", "-c", "echo from-b; exec sleep 300").ok()
    top = bb("pod", "top", "watched").ok().stdout
    assert "catatonit" in top and top.count("sleep 300") == 2
    stats = bb("pod", "stats", "--no-stream", "--format", "{{.Name}}", "watched").ok().lines
    pod_id = bb("pod", "inspect", "--format", "{{.Id}}", "watched").ok().stdout.strip()
    assert sorted(stats) == sorted(["a", "b", f"{pod_id[:12]}-infra"])
    wait_for(lambda: "from-b" in bb("logs", "b").stdout, what="b's output")
    wait_for(lambda: "from-a" in bb("logs", "a").stdout, what="a's output")
    lines = bb("pod", "logs", "--names", "watched").ok().lines
    assert sorted(lines) == ["a from-a", "b from-b"]
    a_id = bb("inspect", "--format", "{{.Id}}", "a").ok().stdout.strip()
    assert bb("pod", "logs", "-c", "a", "watched").ok().lines == [f"{a_id[:12]} from-a"]
    colored = bb("pod", "logs", "--color", "-c", "b", "--names", "watched").ok().stdout
    assert colored.startswith("\033[") and "b\033[0m from-b" in colored
    bb("pod", "rm", "-f", "watched").ok()


def test_stop_start_restart_kill_pause_unpause(bb):
    pod_id = bb("pod", "create", "--name", "cycle").ok().stdout.strip()
    bb("run", "-d", "--pod", "cycle", "--name", "m", "busybox", "sleep", "300").ok()
    assert _pod_state(bb, "cycle") == "Running"
    assert bb("pod", "stop", "-t", "0", "cycle").ok().stdout == pod_id + "\n"
    assert _state(bb, "m") == "exited" and _state(bb, _infra(bb, "cycle")) == "exited"
    assert _pod_state(bb, "cycle") == "Exited"
    bb("pod", "start", "cycle").ok()
    assert _state(bb, "m") == "running" and _pod_state(bb, "cycle") == "Running"
    # the restarted member still shares the (new) infra's network
    infra_pid = int(bb("inspect", "--format", "{{.State.Pid}}", _infra(bb, "cycle")).ok().stdout)
    assert _ns(bb, "m", "net") == os.readlink(f"/proc/{infra_pid}/ns/net")
    first = bb("inspect", "--format", "{{.State.StartedAt}}", "m").ok().stdout
    bb("pod", "restart", "cycle").ok()
    assert bb("inspect", "--format", "{{.State.StartedAt}}", "m").ok().stdout != first
    assert _pod_state(bb, "cycle") == "Running"
    bb("pod", "pause", "cycle").ok()
    assert _state(bb, "m") == "paused" and _pod_state(bb, "cycle") == "Paused"
    bb("pod", "unpause", "cycle").ok()
    assert _state(bb, "m") == "running"
    bb("pod", "kill", "-s", "KILL", "cycle").ok()
    wait_for(lambda: _pod_state(bb, "cycle") == "Exited", what="pod exited after kill")
    events = bb("events", "--stream=false", "--filter", "type=pod", "--format", "{{.Status}}").ok().lines
    for action in ("create", "start", "stop", "pause", "unpause", "kill"):
        assert action in events, (action, events)
    bb("pod", "rm", "cycle").ok()
    assert "remove" in bb("events", "--stream=false", "--filter", "type=pod", "--format", "{{.Status}}").ok().lines


def test_rm_force_leaves_nothing(bb):
    bb("pod", "create", "--name", "gone").ok()
    infra = _infra(bb, "gone")
    _web(bb, "gone")
    pid = int(bb("inspect", "--format", "{{.State.Pid}}", infra).ok().stdout)
    assert pid > 0
    bb("pod", "rm", "gone").assert_error(2, "running")
    bb("pod", "rm", "-f", "gone").ok()
    assert bb("ps", "-aq").ok().stdout == ""
    assert bb("pod", "ps", "-q").ok().stdout == ""
    netns_dir = bb.runroot / "netns"
    assert not netns_dir.exists() or not any(n for n in os.listdir(netns_dir) if n != "rootless-netns")
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), what="infra process gone")
    bb("pod", "rm", "gone").assert_error(1, "no pod with name or ID gone found: no such pod")


def _zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_prune_removes_stopped_pods_only(bb):
    bb("pod", "create", "--name", "idle").ok()
    bb("create", "--pod", "idle", "busybox", "true").ok()
    busy = bb("pod", "create", "--name", "busy").ok().stdout.strip()
    bb("run", "-d", "--pod", "busy", "busybox", "sleep", "300").ok()
    idle = bb("pod", "inspect", "--format", "{{.Id}}", "idle").ok().stdout.strip()
    assert bb("pod", "prune", "-f").ok().stdout == idle + "\n"
    assert bb("pod", "ps", "-q", "--no-trunc").ok().stdout == busy + "\n"
    # container prune never takes an infra container alone
    bb("pod", "stop", "-t", "0", "busy").ok()
    bb("container", "prune", "-f").ok()
    assert bb("pod", "inspect", "--format", "{{.NumContainers}}", "busy").ok().stdout == "1\n"
    bb("pod", "rm", "-f", "busy").ok()


def test_exit_policy_stop(bb):
    bb("pod", "create", "--name", "short", "--exit-policy", "stop").ok()
    bb("run", "--pod", "short", "busybox", "true").ok()
    wait_for(lambda: _pod_state(bb, "short") == "Exited", what="infra stopped after the last member")
    bb("pod", "create", "--name", "stays").ok()
    bb("run", "--pod", "stays", "busybox", "true").ok()
    assert _state(bb, _infra(bb, "stays")) == "running"
    assert _pod_state(bb, "stays") == "Degraded"
    bb("pod", "rm", "-f", "short", "stays").ok()


def test_pod_new_and_infra_false(bb):
    bb("run", "-d", "--pod", "new:fresh", "--name", "first", "busybox", "sleep", "300").ok()
    pod = json.loads(bb("pod", "inspect", "fresh").ok().stdout)[0]
    assert pod["NumContainers"] == 2 and pod["State"] == "Running"
    assert bb("exec", "first", "hostname").ok().stdout.strip() == "fresh"
    nid = bb("pod", "create", "--infra=false", "--name", "bare").ok().stdout.strip()
    doc = json.loads(bb("pod", "inspect", "bare").ok().stdout)[0]
    assert doc["InfraContainerID"] == "" and doc["NumContainers"] == 0 and not doc["SharedNamespaces"]
    bb("run", "-d", "--pod", "bare", "--name", "loner", "busybox", "sleep", "300").ok()
    assert bb("inspect", "--format", "{{.Pod}}", "loner").ok().stdout.strip() == nid
    assert _pod_state(bb, "bare") == "Running"
    bb("pod", "rm", "-f", "fresh", "bare").ok()
    assert bb("ps", "-aq").ok().stdout == ""


def test_errors(bb):
    bb("run", "--rm", "--pod", "nosuch", "busybox", "true").assert_error(
        125, "no pod with name or ID nosuch found: no such pod")
    bb("pod", "create", "--name", "strict").ok()
    bb("run", "--rm", "--pod", "strict", "--hostname", "x", "busybox", "true").assert_error(
        125, "cannot set hostname when joining the pod UTS namespace")
    bb("pod", "create", "--name", "strict").assert_error(125, "pod already exists")
    infra = _infra(bb, "strict")
    bb("rm", "-f", infra).assert_error(125, "is the infra container of pod")
    bb("pod", "inspect", "nosuch").assert_error(125, "no such pod")
    bb("pod", "create", "--share", "bogus").assert_error(125, "invalid kernel namespace to share")
    bb("pod", "create", "--exit-policy", "sometimes").assert_error(125, "invalid pod exit policy")
    assert len(bb("pod", "ps", "-q").ok().lines) == 1  # nothing half-made
    bb("pod", "rm", "-f", "strict").ok()
    assert bb("ps", "-aq").ok().stdout == ""


def test_ports_on_a_member_are_refused(bb):
    bb("pod", "create", "--name", "portless").ok()
    bb("run", "--rm", "--pod", "portless", "-p", "8080:80", "busybox", "true").assert_error(
        125, "published or exposed ports must be defined when the pod is created")
    bb("pod", "rm", "-f", "portless").ok()


def test_clone_and_pod_id_file(bb):
    idfile = bb.workdir / "pod.id"  # a directory the (rootless) user can write
    pod_id = bb("pod", "create", "--name", "orig", "--label", "k=v", "--pod-id-file", idfile).ok().stdout.strip()
    assert idfile.read_text() == pod_id
    bb("run", "-d", "--pod-id-file", idfile, "--name", "byfile", "busybox", "sleep", "300").ok()
    assert bb("inspect", "--format", "{{.Pod}}", "byfile").ok().stdout.strip() == pod_id
    clone = bb("pod", "clone", "orig").ok().stdout.strip()
    doc = json.loads(bb("pod", "inspect", clone).ok().stdout)[0]
    assert doc["Name"] == "orig-clone" and doc["Labels"] == {"k": "v"} and doc["NumContainers"] == 1
    bb("pod", "rm", "-f", "--all").ok()
    assert bb("pod", "ps", "-q").ok().stdout == "" and bb("ps", "-aq").ok().stdout == ""


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_pod_ports_belong_to_the_pod(bb):
    import urllib.request

    port = _free_port()
    bb("pod", "create", "--name", "pub", "-p", f"127.0.0.1:{port}:8080").ok()
    bb("run", "-d", "--pod", "pub", "--name", "srv", "busybox", "sh", "-c",
       "mkdir -p /www && echo published > /www/index.html && exec httpd -f -p 8080 -h /www").ok()

    def fetch() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as r:
                return r.read() == b"published\n"
        except OSError:
            return False

    wait_for(fetch, what="the pod's published port answers from the host")
    doc = json.loads(bb("pod", "inspect", "pub").ok().stdout)[0]
    assert doc["InfraConfig"]["PortBindings"] == {"8080/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(port)}]}
    infra = _infra(bb, "pub")
    assert f"127.0.0.1:{port}->8080/tcp" in bb("ps", "--filter", f"id={infra}", "--format", "{{.Ports}}").ok().stdout
    bb("pod", "rm", "-f", "pub").ok()
    assert not fetch()


def test_system_reset_takes_running_pods(bb):
    bb("pod", "create", "--name", "resetme").ok()
    bb("run", "-d", "--pod", "resetme", "busybox", "sleep", "300").ok()
    pid = int(bb("inspect", "--format", "{{.State.Pid}}", _infra(bb, "resetme")).ok().stdout)
    bb("system", "reset", "--force").ok()
    wait_for(lambda: not os.path.exists(f"/proc/{pid}") or _zombie(pid), what="infra process gone after reset")
