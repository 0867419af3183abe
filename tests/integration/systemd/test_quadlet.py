"""Quadlet: `hull-quadlet` (the systemd generator) turns unit files into services that
run Hull (golden files, systemd-analyze verify, [Install] links, drop-ins), refuses bad
files with Podman's messages, and the units it writes really run the container; `hull
quadlet install/list/print/rm`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.fixtures.cli import HULL_BIN
from tests.integration.systemd.conftest import check_golden, normalise, verify_units
from tests.integration.systemd.unitrun import NotifyListener, UnitRunner

GENERATOR = HULL_BIN.parent / "hull-quadlet"


def _write(d: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = d / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _sources(h) -> Path:
    d = h.workdir / "quadlets"
    g = f"GlobalArgs=--root {h.root} --runroot {h.runroot}\n"
    _write(d, {
        "web.container": "[Unit]\nDescription=web\n\n[Container]\nImage=localhost/busybox:latest\n"
                         "Exec=sh -c 'echo hi > /srv/out; exec sleep 1000'\nEnvironment=FOO=bar \"BAZ=a b\"\n"
                         "Volume=data.volume:/srv\nLabel=app=web\nAutoUpdate=local\n" + g +
                         "\n[Service]\nRestart=always\n\n[Install]\nWantedBy=default.target\n",
        "web.container.d/10-env.conf": "[Container]\nEnvironment=DROP=in\n",
        "container.d/50-all.conf": "[Container]\nLabel=from=dropin\n",
        "data.volume": "[Volume]\nLabel=x=y\n" + g,
        "net.network": "[Network]\nSubnet=10.89.77.0/24\n" + g,
        "app.pod": "[Pod]\nPublishPort=18082:80\n" + g,
        "member.container": "[Container]\nImage=localhost/busybox:latest\nExec=sleep 1000\nPod=app.pod\n"
                            "Network=net.network\n" + g,
    })
    for path in [d, *d.rglob("*")]:
        os.chown(path, h.user.uid, h.user.gid)
    return d


def _generate(h, src: Path, out: Path | None, *flags: str) -> subprocess.CompletedProcess:
    env = dict(h.env(), QUADLET_UNIT_DIRS=str(src))
    args = [str(GENERATOR), *(["-user"] if h.rootless else []), *flags, *([str(out)] if out else [])]
    return subprocess.run(h.user.argv(args, env), capture_output=True, text=True, timeout=60)


def test_generator_writes_units(hull_any):
    h = hull_any
    src = _sources(h)
    out = h.workdir / "generated"
    proc = _generate(h, src, out)
    assert proc.returncode == 0, proc.stderr
    names = sorted(p.name for p in out.iterdir())
    assert names == ["app-pod.service", "data-volume.service", "default.target.wants", "member.service",
                     "net-network.service", "web.service"]
    assert os.readlink(out / "default.target.wants" / "web.service") == "../web.service"
    for name in ("web.service", "member.service", "app-pod.service", "data-volume.service", "net-network.service"):
        text = normalise((out / name).read_text(), h).replace(str(src), "@SRC@")
        check_golden(f"quadlet-{name}", text)
    verify_units(sorted(out.glob("*.service")))
    dry = _generate(h, src, None, "-dryrun")
    assert dry.returncode == 0 and "---web.service---\n" in dry.stdout


def test_generator_refuses_bad_files(hull):
    h = hull
    src = h.workdir / "bad"
    _write(src, {"unknown.container": "[Container]\nImage=busybox\nFoo=bar\n",
                 "noimage.container": "[Container]\nExec=true\n",
                 "k.kube": "[Kube]\nConfigMap=cm.yaml\n",
                 "u.kube": "[Kube]\nYaml=x.yaml\nUserNS=auto\n",
                 "good.volume": "[Volume]\n"})
    out = h.workdir / "gen"
    proc = _generate(h, src, out)
    assert proc.returncode == 1
    # the file and line of the unknown key; the file and group lacking Image
    assert ("converting \"unknown.container\": unsupported key 'Foo' in group 'Container' in "
            f"{src}/unknown.container:3") in proc.stderr
    assert ('converting "noimage.container": no Image or Rootfs key specified in group \'Container\' in '
            f"{src}/noimage.container") in proc.stderr
    assert 'converting "k.kube": no Yaml key specified' in proc.stderr
    assert f"converting \"u.kube\": unsupported key 'UserNS' in group 'Kube' in {src}/u.kube" in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["good-volume.service"]  # the rest still converted
    bad_syntax = h.workdir / "syntax"
    _write(bad_syntax, {"x.container": "Image=busybox\n"})
    proc = _generate(h, bad_syntax, h.workdir / "gen2")
    assert proc.returncode == 1 and "x.container:1: expected key=value in a [group]" in proc.stderr


KUBE_YAML = """apiVersion: v1
kind: Pod
metadata:
  name: kq
spec:
  containers:
  - name: web
    image: localhost/busybox:latest
    command: ["sh", "-c", "echo $GREETING > /tmp/g; exec sleep 1000"]
    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: cm, key: greeting}
    ports:
    - containerPort: 80
      hostPort: 18093
"""
KUBE_CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  greeting: hello-from-cm\n"


def test_kube_unit(hull_any, busybox_image):
    """A .kube file: golden unit (kube play --replace with the keys' flags, kube down on
    stop), systemd-analyze verify, and run as systemd would: the pod runs with the
    ConfigMap's value and the PublishPort override; stopping removes it."""
    h = hull_any
    h.load(busybox_image)
    d = h.workdir / "kq"
    g = f"GlobalArgs=--root {h.root} --runroot {h.runroot}\n"
    _write(d, {"kq.yaml": KUBE_YAML, "cm.yaml": KUBE_CM,
               "kq.kube": "[Unit]\nDescription=kube pod\n\n[Kube]\nYaml=kq.yaml\nConfigMap=cm.yaml\n"
                          "PublishPort=18094:80\nLogDriver=k8s-file\nKubeDownForce=true\n" + g +
                          "\n[Install]\nWantedBy=default.target\n"})
    for path in [d, *d.rglob("*")]:
        os.chown(path, h.user.uid, h.user.gid)
    out = h.workdir / "kgen"
    proc = _generate(h, d, out)
    assert proc.returncode == 0, proc.stderr
    text = (out / "kq.service").read_text()
    check_golden("quadlet-kq.service", normalise(text, h).replace(str(d), "@SRC@"))
    verify_units([out / "kq.service"])
    unit = UnitRunner(h, "kq.service", text)
    unit.start()
    assert h("exec", "kq-web", "cat", "/tmp/g").ok().stdout.strip() == "hello-from-cm"
    ports = h("ps", "-a", "--format", "{{.Ports}}").ok().stdout
    assert "18094" in ports and "18093" not in ports, ports
    unit.stop()
    assert h("pod", "ps", "-q").ok().stdout.strip() == ""


def test_generated_units_run(hull_any, busybox_image):
    """The volume, pod and container units, run as systemd runs them: the volume is made,
    the container runs with it (drop-ins applied), READY=1 arrives, stop removes it."""
    h = hull_any
    h.load(busybox_image)
    src = _sources(h)
    out = h.workdir / "generated"
    assert _generate(h, src, out).returncode == 0
    listener = NotifyListener(h.workdir)
    try:
        vol = UnitRunner(h, "data-volume.service", (out / "data-volume.service").read_text())
        vol.start()
        vol.start()  # --ignore: a second start finds the volume there
        assert h("volume", "inspect", "systemd-data", "--format", "{{.Labels.x}}").ok().stdout.strip() == "y"
        web = UnitRunner(h, "web.service", (out / "web.service").read_text(), listener)
        web.start()
        listener.wait_for("READY")
        fmt = "{{.Config.Labels.app}} {{.Config.Labels.from}} {{index .Config.Labels \"io.containers.autoupdate\"}}"
        assert h("inspect", "systemd-web", "--format", fmt).ok().stdout.split() == ["web", "dropin", "local"]
        env = h("exec", "systemd-web", "env").ok().stdout
        assert "FOO=bar" in env and "BAZ=a b" in env and "DROP=in" in env
        h("exec", "systemd-web", "cat", "/srv/out").ok()
        web.stop()
        assert h("ps", "-a", "-q").ok().stdout.strip() == ""
        pod = UnitRunner(h, "app-pod.service", (out / "app-pod.service").read_text())
        pod.start()
        assert h("pod", "inspect", "systemd-app", "--format", "{{.State}}").ok().stdout.strip() == "Running"
        pod.stop()
        assert h("pod", "ps", "-q").ok().stdout.strip() == ""
    finally:
        listener.close()


def test_quadlet_commands(hull_rootless, hull):
    """install/list/print/rm: rootless into $XDG_CONFIG_HOME/containers/systemd, root into
    QUADLET_UNIT_DIRS' first directory (never /etc in a test)."""
    hull.extra_env["QUADLET_UNIT_DIRS"] = str(hull.workdir / "q")
    for h, target in ((hull_rootless, h_dir := hull_rootless.base / "config" / "containers" / "systemd"),
                      (hull, hull.workdir / "q")):
        src = h.workdir / "src"
        _write(src, {"a.container": "[Container]\nImage=busybox\n", "b.volume": "[Volume]\n"})
        for p in (src, *src.iterdir()):
            os.chown(p, h.user.uid, h.user.gid)
        got = h("quadlet", "install", src / "a.container", src / "b.volume").ok().stdout.split()
        assert got == [str(target / "a.container"), str(target / "b.volume")]
        h("quadlet", "install", src / "a.container").assert_error(125, "already exists")
        listed = h("quadlet", "list").ok().lines
        assert listed[0].split()[:4] == ["NAME", "UNIT", "NAME", "PATH"]
        assert listed[1].split()[:3] == ["a.container", "a.service", str(target / "a.container")]
        assert listed[2].split()[:2] == ["b.volume", "b-volume.service"]
        assert h("quadlet", "print", "a.container").ok().stdout == "[Container]\nImage=busybox\n"
        h("quadlet", "print", "nope.container").assert_error(125, "not found")
        assert h("quadlet", "rm", "a.container").ok().stdout == "a.container\n"
        assert not (target / "a.container").exists()
        h("quadlet", "rm", "--ignore", "a.container").ok()
        assert h("quadlet", "rm", "--all").ok().stdout == "b.volume\n"
    assert h_dir.is_dir()
