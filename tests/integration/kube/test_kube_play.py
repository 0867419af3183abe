"""`kube play` / `kube down` through the real binary, root and rootless: ConfigMap and
Secret reach the container as env and as files, a Deployment's replicas become pods,
--down/--replace/--build/--start=false, and bad input is one line, exit 125."""

from __future__ import annotations

import base64
import json

CONFIG_AND_SECRET = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  color: blue
  app.conf: |
    mode=fast
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
data:
  password: {pw}
stringData:
  user: admin
---
apiVersion: v1
kind: Pod
metadata:
  name: cfgpod
  labels:
    tier: test
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: busybox
    command: ["sh", "-c"]
    args: ["exec sleep 1000"]
    workingDir: /tmp
    env:
    - name: COLOR
      valueFrom:
        configMapKeyRef: {{name: settings, key: color}}
    - name: PASSWORD
      valueFrom:
        secretKeyRef: {{name: creds, key: password}}
    - name: PLAIN
      value: "42"
    - name: POD
      valueFrom:
        fieldRef: {{fieldPath: metadata.name}}
    envFrom:
    - configMapRef: {{name: settings}}
      prefix: CM_
    volumeMounts:
    - {{name: conf, mountPath: /etc/app}}
    - {{name: sec, mountPath: /run/creds}}
    - {{name: scratch, mountPath: /scratch}}
  - name: peer
    image: busybox
    command: ["sleep", "1000"]
    volumeMounts:
    - {{name: scratch, mountPath: /shared}}
  volumes:
  - name: conf
    configMap:
      name: settings
      items:
      - {{key: app.conf, path: sub/app.conf}}
  - name: sec
    secret:
      secretName: creds
  - name: scratch
    emptyDir: {{}}
"""


def _sh(h, ctr: str, cmd: str) -> str:
    return h("exec", ctr, "sh", "-c", cmd).ok().stdout


def test_configmap_and_secret_env_and_volumes(bb):
    path = bb.workdir / "cfg.yaml"
    path.write_text(CONFIG_AND_SECRET.format(pw=base64.b64encode(b"hunter2").decode()))
    out = bb("kube", "play", str(path)).ok().stdout.splitlines()
    assert out[0] == "Secret:" and out[2] == "Pod:" and out[4] == "Containers:"
    assert _sh(bb, "cfgpod-app", 'echo "$COLOR $PASSWORD $PLAIN $POD $CM_color"') == "blue hunter2 42 cfgpod blue\n"
    assert _sh(bb, "cfgpod-app", "pwd") == "/tmp\n"
    assert _sh(bb, "cfgpod-app", "cat /etc/app/sub/app.conf; ls /etc/app") == "mode=fast\nsub\n"
    assert _sh(bb, "cfgpod-app", "cat /run/creds/password; echo; cat /run/creds/user") == "hunter2\nadmin"
    # configMap and secret volumes are read-only; emptyDir is shared by the pod's containers
    assert bb("exec", "cfgpod-app", "sh", "-c", "echo x > /etc/app/new").returncode != 0
    _sh(bb, "cfgpod-app", "echo between-containers > /scratch/note")
    assert _sh(bb, "cfgpod-peer", "cat /shared/note") == "between-containers\n"
    # the Secret is a Hull secret; its data is never shown
    assert bb("secret", "ls", "--format", "{{.Name}}").ok().stdout == "creds\n"
    assert "hunter2" not in bb("secret", "inspect", "creds").ok().stdout
    labels = json.loads(bb("pod", "inspect", "cfgpod").ok().stdout)[0]["Labels"]
    assert labels == {"tier": "test"}
    assert bb("inspect", "--format", "{{.HostConfig.RestartPolicy.Name}}", "cfgpod-app").ok().stdout.strip() in ("no", "")
    down = bb("kube", "down", str(path)).ok().stdout
    assert "Pods removed:" in down and "Secrets removed:" in down and "Volumes removed:" in down
    assert bb("pod", "ps", "-q").ok().stdout == ""
    assert bb("secret", "ls", "-q").ok().stdout == ""
    assert bb("volume", "ls", "-q").ok().stdout == ""
    assert bb("ps", "-aq").ok().stdout == ""


def test_configmap_file_flag_and_stdin(bb):
    cm = bb.workdir / "cm.yaml"
    cm.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extern\ndata:\n  WHO: world\n")
    pod = ("apiVersion: v1\nkind: Pod\nmetadata:\n  name: fromflag\nspec:\n  containers:\n  - name: c\n"
           "    image: busybox\n    command: [sleep, '1000']\n    envFrom:\n    - configMapRef: {name: extern}\n")
    bb("kube", "play", "--configmap", str(cm), "-", input=pod).ok()
    assert _sh(bb, "fromflag-c", "echo $WHO") == "world\n"
    bb("kube", "down", "-", input=pod).ok()
    assert bb("pod", "ps", "-q").ok().stdout == ""


DEPLOYMENT = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: shared-claim
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Gi}}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: srv
        image: busybox
        command: [sleep, "1000"]
        securityContext:
          runAsUser: 1000
          runAsGroup: 1000
          readOnlyRootFilesystem: true
          capabilities: {drop: [NET_RAW], add: [SYS_TIME]}
        resources:
          limits: {memory: 64Mi, cpu: 250m}
        livenessProbe:
          exec: {command: [sh, -c, "true"]}
          periodSeconds: 5
        volumeMounts:
        - {name: data, mountPath: /data}
      volumes:
      - name: data
        persistentVolumeClaim: {claimName: shared-claim}
"""


def test_deployment_replicas_pvc_security_and_down(bb):
    path = bb.workdir / "dep.yaml"
    path.write_text(DEPLOYMENT)
    out = bb("kube", "play", str(path)).ok().stdout
    assert out.startswith("Volume:\nshared-claim\nPod:\n")
    assert sorted(bb("pod", "ps", "--format", "{{.Name}} {{.Status}}").ok().lines) == \
        ["web-pod-0 Running", "web-pod-1 Running"]
    doc = json.loads(bb("inspect", "web-pod-0-srv").ok().stdout)[0]
    assert doc["Config"]["User"] == "1000:1000"
    assert doc["HostConfig"]["ReadonlyRootfs"] is True
    assert doc["Config"]["Healthcheck"]["Test"] == ["CMD", "sh", "-c", "true"]
    assert doc["HostConfig"]["Memory"] == 64 * 1024 * 1024
    assert doc["HostConfig"]["RestartPolicy"]["Name"] == "always"
    assert _sh(bb, "web-pod-0-srv", "id -u; id -g") == "1000\n1000\n"
    # both replicas mount the claim's volume
    assert bb("volume", "ls", "-q").ok().stdout == "shared-claim\n"
    down = bb("kube", "down", str(path)).ok().stdout
    assert down.count("\n") == 6  # two stopped, two removed, the two headers
    assert bb("pod", "ps", "-q").ok().stdout == ""
    assert bb("volume", "ls", "-q").ok().stdout == "shared-claim\n"  # kept without --force
    bb("kube", "play", str(path)).ok()
    bb("kube", "down", "--force", str(path)).ok()
    assert bb("volume", "ls", "-q").ok().stdout == ""
    assert bb("ps", "-aq").ok().stdout == ""


SIMPLE = """\
apiVersion: v1
kind: Pod
metadata:
  name: simple
spec:
  containers:
  - name: c
    image: {image}
    command: [sleep, "1000"]
"""


def test_replace_start_false_and_play_down_flag(bb):
    path = bb.workdir / "simple.yaml"
    path.write_text(SIMPLE.format(image="busybox"))
    first = bb("kube", "play", "--start=false", str(path)).ok().stdout.splitlines()
    assert bb("pod", "ps", "--format", "{{.Status}}").ok().stdout == "Created\n"
    bb("kube", "play", str(path)).assert_error(125, "already exists")
    second = bb("kube", "play", "--replace", str(path)).ok().stdout.splitlines()
    assert first[1] != second[1] and first[3] != second[3]
    assert bb("pod", "ps", "--format", "{{.Id}} {{.Status}}").ok().stdout == f"{second[1]} Running\n"
    bb("kube", "play", "--down", str(path)).ok()
    assert bb("pod", "ps", "-q").ok().stdout == "" and bb("ps", "-aq").ok().stdout == ""


def test_build_from_context_directory(bb):
    ctx = bb.workdir / "kbuilt"
    ctx.mkdir()
    (ctx / "Containerfile").write_text("FROM busybox\nRUN echo built-by-kube-play > /built\n")
    path = bb.workdir / "build.yaml"
    path.write_text(SIMPLE.format(image="localhost/kbuilt:latest"))
    bb("kube", "play", "--build", str(path)).ok()
    assert _sh(bb, "simple-c", "cat /built") == "built-by-kube-play\n"
    bb("kube", "down", str(path)).ok()
    # --build=false: nothing is built, the missing image cannot be pulled
    bb("rmi", "localhost/kbuilt:latest").ok()
    res = bb("kube", "play", "--build=false", str(path))
    assert res.returncode == 125
    assert bb("pod", "ps", "-q").ok().stdout == ""  # nothing left behind


def test_bad_input_is_one_line(bb):
    def play(text: str, contains: str) -> None:
        bb("kube", "play", "-", input=text).assert_error(125, contains)

    play("apiVersion: v1\nkind: Foo\nmetadata:\n  name: x\n", "YAML document does not contain any supported kube kind")
    play("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n", "has no image")
    play("a: [\n", "yaml: line")
    play("apiVersion: v1\nkind: Pod\nmetadata:\n  name: ../../etc\nspec:\n  containers: []\n", "invalid")
    play("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a/b\n    image: busybox\n",
         "invalid")
    play("apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: busybox\n"
         "    volumeMounts: [{name: nope, mountPath: /x}]\n", "not defined")
    play("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ../escape: x\n---\n"
         "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: busybox\n"
         "    envFrom: [{configMapRef: {name: c}}]\n", "invalid")
    # a YAML bomb: nine levels of nine aliases
    bomb = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    prev = "a"
    for level in "bcdefghi":
        bomb += f"{level}: &{level} [" + ",".join([f"*{prev}"] * 9) + "]\n"
        prev = level
    play(bomb, "aliases are expanded")
    play("x: " + "[" * 5000 + "]" * 5000 + "\n", "nested")
    play("a: " + "b" * (9 * 1024 * 1024) + "\n", "larger than")
    bb("kube", "play", "/nonexistent.yaml").assert_error(125, "no such file")
    bb("kube", "down", "-", input="kind: Service\n").assert_error(125, "supported kube kind")
    assert bb("pod", "ps", "-q").ok().stdout == ""


def test_bad_input_names_the_file_line_and_field(bb):
    def play(name: str, text: str) -> str:
        path = bb.workdir / name
        path.write_text(text)
        return bb("kube", "play", str(path)).assert_error(125)

    pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    command: [sleep]\n"
    job = "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: j\n"
    assert play("job.yaml", job) == (f"Error: {bb.workdir}/job.yaml: YAML document does not contain any supported "
                                     "kube kind (line 2: kind Job; supported: Pod, Deployment, ConfigMap, Secret, "
                                     "PersistentVolumeClaim)")
    assert play("noimage.yaml", pod) == f"Error: {bb.workdir}/noimage.yaml:7: pod p: container c has no image " \
                                        "(field image is required)"
    dep = ("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    spec:\n"
           "      containers:\n      - name: ok\n        image: busybox\n      - name: bad\n        image: busybox\n"
           "        ports:\n        - containerPort: http\n")
    assert play("dep.yaml", job + "---\n" + dep) == (f"Error: {bb.workdir}/dep.yaml:14: spec.containers[1].ports[0]"
                                                   ".containerPort: expected an integer")
    bb("kube", "play", "-", input=pod).assert_error(125, "stdin:7: pod p: container c has no image")
    assert bb("pod", "ps", "-q").ok().stdout == "" and bb("ps", "-aq").ok().stdout == ""
