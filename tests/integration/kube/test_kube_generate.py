"""`kube generate` of a pod (two containers, a port, a named volume, a bind mount, an
env var, a healthcheck) checked field by field, against a golden file, against the
Kubernetes schema, and round-tripped through `kube play`: the pod works again and the
volume's data is still there.  Root and rootless."""

from __future__ import annotations

import os
import re
import urllib.request
from pathlib import Path

from tests.fixtures.cli import wait_for
from tests.integration.kube.conftest import check_schema, docs_of, free_port

GOLDEN = Path(__file__).parent / "golden"


def _make_pod(h, port: int) -> Path:
    bind = h.workdir / "site"
    bind.mkdir()
    (bind / "index.html").write_text("from-the-bind-mount\n")
    bind.chmod(0o755)
    (bind / "index.html").chmod(0o644)
    h("pod", "create", "--name", "web_pod", "-p", f"{port}:8080").ok()
    h("create", "--pod", "web_pod", "--name", "srv", "-e", "GREETING=hello", "-v", "kdata:/data",
      "-v", f"{bind}:/www:ro", "--health-cmd", "wget -q -O /dev/null http://127.0.0.1:8080/index.html",
      "--health-interval", "10s", "--cap-drop", "CHOWN", "busybox",
      "httpd", "-f", "-p", "8080", "-h", "/www").ok()
    h("create", "--pod", "web_pod", "--name", "cli", "busybox", "sleep", "1000").ok()
    return bind


def _normalise(text: str, bind: Path, port: int) -> str:
    text = re.sub(r'creationTimestamp: "[^"]+"', 'creationTimestamp: "TIME"', text)
    text = text.replace(str(bind), "/BIND")
    text = re.sub(r"name: [a-z0-9.-]+-host-0", "name: BIND-host-0", text)
    return text.replace(f"hostPort: {port}", "hostPort: PORT")


def test_generate_fields_golden_and_round_trip(bb):
    port = free_port()
    bind = _make_pod(bb, port)
    out = bb("kube", "generate", "web_pod").ok().stdout
    assert out == bb("generate", "kube", "web_pod").ok().stdout  # the timestamp is the pod's creation
    docs = docs_of(out)
    assert [d["kind"] for d in docs] == ["Pod"]
    pod = docs[0]
    check_schema(pod)
    assert pod["metadata"]["name"] == "webpod"  # underscores removed, as Podman
    assert pod["metadata"]["labels"] == {"app": "webpod"}
    spec = pod["spec"]
    assert spec["hostname"] == "webpod" and spec["restartPolicy"] == "Never"
    srv, cli = spec["containers"]
    assert srv["name"] == "srv" and cli["name"] == "cli"
    assert srv["image"] == "localhost/busybox:latest"
    assert srv["command"] == ["httpd", "-f", "-p", "8080", "-h", "/www"] and "args" not in srv
    assert srv["env"] == [{"name": "GREETING", "value": "hello"}]  # no PATH etc. from the image
    assert "env" not in cli
    assert srv["ports"] == [{"containerPort": 8080, "hostPort": port}]
    assert "ports" not in cli
    assert srv["livenessProbe"] == {"exec": {"command": ["/bin/sh", "-c",
                                                         "wget -q -O /dev/null http://127.0.0.1:8080/index.html"]},
                                    "periodSeconds": 10, "timeoutSeconds": 30, "failureThreshold": 3}
    assert srv["securityContext"]["capabilities"]["drop"][0] == "CAP_CHOWN"
    assert set(cli["securityContext"]["capabilities"]["drop"]) == {"CAP_MKNOD", "CAP_NET_RAW", "CAP_AUDIT_WRITE"}
    mounts = {m["mountPath"]: m for m in srv["volumeMounts"]}
    assert mounts["/data"] == {"mountPath": "/data", "name": "kdata-pvc"}
    assert mounts["/www"]["readOnly"] is True
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["kdata-pvc"] == {"name": "kdata-pvc", "persistentVolumeClaim": {"claimName": "kdata"}}
    host = vols[mounts["/www"]["name"]]["hostPath"]
    assert host == {"path": str(bind), "type": "Directory"}
    if os.environ.get("HULL_UPDATE_GOLDEN"):
        (GOLDEN / "pod.yaml").write_text(_normalise(out, bind, port))
    assert _normalise(out, bind, port) == (GOLDEN / "pod.yaml").read_text()

    # -f writes the file, and refuses to overwrite it
    target = bb.workdir / "pod.yaml"
    bb("kube", "generate", "-f", str(target), "web_pod").ok()
    assert docs_of(target.read_text())[0]["spec"] == spec
    bb("kube", "generate", "-f", str(target), "web_pod").assert_error(125, "file exists")

    # data in the named volume, then the pod goes and comes back from the YAML
    bb("pod", "start", "web_pod").ok()
    bb("exec", "srv", "sh", "-c", "echo kept > /data/proof").ok()
    bb("pod", "rm", "-f", "web_pod").ok()
    out = bb("kube", "play", str(target)).ok().stdout
    lines = out.splitlines()
    assert lines[0] == "Pod:" and len(lines[1]) == 64 and lines[2] == "Containers:"
    assert len(lines) == 6 and all(len(x) == 64 for x in lines[3:5]) and lines[5] == ""
    assert bb("pod", "inspect", "--format", "{{.Name}} {{.NumContainers}}", "webpod").ok().stdout == "webpod 3\n"
    assert bb("exec", "webpod-srv", "cat", "/data/proof").ok().stdout == "kept\n"
    assert bb("exec", "webpod-srv", "sh", "-c", "echo $GREETING").ok().stdout == "hello\n"
    # the members share localhost
    got = bb("exec", "webpod-cli", "sh", "-c",
             "for i in $(seq 50); do wget -qO- http://127.0.0.1:8080/index.html && exit 0; usleep 100000; done; "
             "exit 1").ok().stdout
    assert got == "from-the-bind-mount\n"
    # the port answers from the host through the pod's infra

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=2) as r:
                return r.read() == b"from-the-bind-mount\n"
        except OSError:
            return False

    wait_for(answers, timeout=20, what="the published port")
    doc = bb("inspect", "--format", "{{json .Config.Healthcheck}}", "webpod-srv").ok().stdout
    assert "wget -q -O /dev/null" in doc
    # down removes the pod and its containers, keeps the claim's volume
    down = bb("kube", "down", str(target)).ok().stdout
    assert down.startswith("Pods stopped:\n") and "Pods removed:\n" in down
    assert bb("pod", "ps", "-q").ok().stdout == ""
    assert bb("ps", "-aq").ok().stdout == ""
    assert bb("volume", "ls", "-q").ok().stdout == "kdata\n"


def test_generate_deployment_service_and_container(bb):
    port = free_port()
    bb("run", "-d", "--name", "solo", "-p", f"{port}:80", "--user", "1000:1000", "--read-only",
       "--memory", "64m", "--cpus", "0.5", "--restart", "always", "--cap-add", "NET_ADMIN", "-w", "/tmp",
       "busybox", "sleep", "1000").ok()
    docs = docs_of(bb("kube", "generate", "--service", "--type", "deployment", "--replicas", "3", "solo").ok().stdout)
    assert [d["kind"] for d in docs] == ["Service", "Deployment"]
    for d in docs:
        check_schema(d)
    svc, dep = docs
    assert svc["spec"]["selector"] == {"app": "solo-pod"} and svc["spec"]["type"] == "NodePort"
    assert svc["spec"]["ports"] == [{"name": "80", "port": 80, "targetPort": 80}]
    assert dep["metadata"]["name"] == "solo-pod-deployment" and dep["spec"]["replicas"] == 3
    c = dep["spec"]["template"]["spec"]["containers"][0]
    assert c["resources"]["limits"] == {"memory": "64Mi", "cpu": "500m"}
    assert c["securityContext"]["runAsUser"] == 1000 and c["securityContext"]["runAsGroup"] == 1000
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["capabilities"]["add"] == ["CAP_NET_ADMIN"]
    assert c["workingDir"] == "/tmp" and c["ports"] == [{"containerPort": 80, "hostPort": port}]
    pod = docs_of(bb("kube", "generate", "solo").ok().stdout)[0]
    check_schema(pod)
    assert pod["spec"]["restartPolicy"] == "Always"
    bb("kube", "generate", "--replicas", "2", "solo").assert_error(125, "--replicas")
    bb("kube", "generate", "--type", "job", "solo").assert_error(125, "invalid type")
    bb("kube", "generate", "nosuch").assert_error(125, 'name or ID "nosuch" not found')
    bb("rm", "-f", "solo").ok()
