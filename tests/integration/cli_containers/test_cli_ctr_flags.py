"""The `run`/`create` flags of issue 3 through the real CLI, as root and rootless: each
flag has the effect a Podman user sees inside the container or in `hull inspect`.

Scenarios are grouped so one container checks many flags (the module runs in well
under two minutes on two cores); each group prints `key=value` lines that the test
reads back.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time


from tests.integration.cli_containers.conftest import needs_monitor

pytestmark = needs_monitor

HOST_VAR = "HULL_FLAGS_FROM_HOST"


def kv(text: str) -> dict[str, str]:
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            out[key.strip()] = value.strip()
    return out


def inspect(h, name: str) -> dict:
    return json.loads(h("inspect", name).ok().stdout)[0]


def user_dir(h, name: str, mode: int = 0o755):
    """A directory owned by the runner's user (uid and gid: both mapped rootless)."""
    path = h.workdir / name
    path.mkdir()
    os.chown(path, h.user.uid, h.user.gid)
    path.chmod(mode)
    return path


def user_file(h, path, text: str):
    path.write_text(text)
    os.chown(path, h.user.uid, h.user.gid)
    path.chmod(0o644)
    return path


# ----------------------------------------------------------------------- the process

PROCESS_SCRIPT = r"""
echo "id=$(id)"
echo "pid1=$(cat /proc/1/comm)"
(sleep 0.2 &)
sleep 0.8
echo "zombies=$(ps -o stat | grep -c '^Z')"
echo "host=$(hostname)"
echo "cwd=$(pwd)"
echo "env=$FOO $FROM_FILE $HULL_FLAGS_FROM_HOST"
echo "nofile=$(ulimit -n):$(ulimit -Hn)"
echo "shm=$(df -k /dev/shm | awk 'NR==2 {print $2}')"
echo "tz=$(date +%Z)"
echo "capeff=$(grep CapEff /proc/self/status | cut -f2)"
echo "nnp=$(grep NoNewPrivs /proc/self/status | cut -f2)"
echo "hostname_file=$(wc -c < /etc/hostname)"
echo "keys_masked=$(grep -c ' /proc/keys ' /proc/self/mountinfo)"
echo "timer_list_masked=$(grep -c ' /proc/timer_list ' /proc/self/mountinfo)"
echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
echo "fuse=$(stat -c %t:%T /dev/fuse)"
echo "mynull=$(stat -c %t:%T /dev/mynull)"
echo x > /dev/mynull && echo "mynull_write=ok"
touch /rootfs-write 2>/dev/null && echo "rootfs=rw" || echo "rootfs=ro"
for d in /tmp /run /var/tmp; do touch $d/f && echo "tmpfs$d=ok"; done
"""


def test_process_flags(bb):
    """-e --env-file --env-host -w -u --group-add -h --init --ulimit --shm-size --tz
    --cap-add/--cap-drop --security-opt no-new-privileges/mask=/unmask= --sysctl
    --device --read-only (with its tmpfs /tmp /run /var/tmp)."""
    env_file = user_file(bb, bb.workdir / "env", "FROM_FILE=filed\n")
    bb.extra_env[HOST_VAR] = "hosted"
    res = bb("run", "--rm", "-e", "FOO=foo", "--env-file", env_file, "--env-host",
             "-w", "/var/www", "-u", "www-data", "--group-add", "nogroup", "--group-add", "0",
             "-h", "flaghost", "--init", "--ulimit", "nofile=512:1024", "--shm-size", "16m",
             "--tz", "Asia/Tokyo", "--cap-add", "net_admin", "--cap-drop", "CHOWN",
             "--security-opt", "no-new-privileges", "--security-opt", "mask=/etc/hostname",
             "--security-opt", "unmask=/proc/keys", "--sysctl", "net.ipv4.ip_forward=1",
             "--device", "/dev/fuse", "--device", "/dev/null:/dev/mynull:rw", "--read-only",
             "busybox", "sh", "-c", PROCESS_SCRIPT).ok()
    got = kv(res.stdout)
    assert got["id"] == "uid=33(www-data) gid=33(www-data) groups=0(root),65534(nogroup)"
    assert got["pid1"] == "podman-init"    # catatonit bound in as /run/podman-init
    assert got["zombies"] == "0"           # the orphaned sleep was reaped by init
    assert got["host"] == "flaghost"
    assert got["cwd"] == "/var/www"
    assert got["env"] == "foo filed hosted"
    assert got["nofile"] == "512:1024"
    assert got["shm"] == "16384"
    assert got["tz"] == "JST"
    # a non-root user holds only what --cap-add gave it: CAP_NET_ADMIN is bit 12
    assert int(got["capeff"], 16) == 1 << 12
    assert got["nnp"] == "1"
    assert got["hostname_file"] == "0"      # masked: /dev/null over it
    assert got["keys_masked"] == "0" and got["timer_list_masked"] == "1"
    assert got["ip_forward"] == "1"
    assert got["fuse"] == "a:e5"            # 10:229
    assert got["mynull"] == "1:3" and got["mynull_write"] == "ok"
    assert got["rootfs"] == "ro"
    assert all(got[f"tmpfs{d}"] == "ok" for d in ("/tmp", "/run", "/var/tmp"))


def test_capabilities_privileged_seccomp(bb):
    """--privileged (all capabilities this host allows, /sys rw, nothing masked) and
    --security-opt seccomp=PROFILE / unconfined; default root caps as Podman's."""
    held = int(next(l for l in open("/proc/self/status") if l.startswith("CapBnd:")).split()[1], 16)
    script = ("grep CapEff /proc/self/status | cut -f2; grep -c ' /proc/keys ' /proc/self/mountinfo; "
              "grep ' /sys ' /proc/self/mountinfo | grep -c ' rw,'")
    out = bb("run", "--rm", "--privileged", "busybox", "sh", "-c", script).ok().stdout.split()
    capeff = int(out[0], 16)
    if not bb.rootless:
        assert capeff == held
    else:
        assert capeff == (1 << (int(open("/proc/sys/kernel/cap_last_cap").read()) + 1)) - 1
    assert out[1:] == ["0", "1"]
    profile = user_file(bb, bb.workdir / "seccomp.json", json.dumps(
        {"defaultAction": "SCMP_ACT_ALLOW",
         "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]}))
    res = bb("run", "--rm", "--security-opt", f"seccomp={profile}", "busybox", "sh", "-c",
             "mkdir /tmp/d || echo refused; grep Seccomp: /proc/self/status | cut -f2")
    assert res.ok().stdout.split() == ["refused", "2"]
    out = bb("run", "--rm", "--security-opt", "seccomp=unconfined", "busybox",
             "grep", "Seccomp:", "/proc/self/status").ok().stdout
    assert out.split()[-1] == "0"


# ----------------------------------------------------------------------- mounts

MOUNT_SCRIPT = r"""
ls -ldn /u | awk '{print "u_owner=" $3 ":" $4}'
touch /u/new && echo u_write=ok
touch /ro/x 2>/dev/null && echo ro=rw || echo ro=ro
touch /rw/x && echo rw=ok
echo changed > /ov/f; echo added > /ov/g; echo "ov=$(cat /ov/f)"
echo "ovtype=$(awk '$5 == "/ov" {print $9}' /proc/self/mountinfo)"
echo data > /vol/file && echo vol=ok
echo "mtmp=$(df -k /mt | awk 'NR==2 {print $2}')"
echo "tmpfs2=$(stat -c %a /t2) $(df -k /t2 | awk 'NR==2 {print $2}')"
touch /mb/x 2>/dev/null && echo mb=rw || echo mb=ro
"""


def test_mount_flags(bb):
    """-v with ro, rw, z, Z, U, O; --mount bind/volume/tmpfs; --tmpfs; --volumes-from."""
    u = user_dir(bb, "u")
    (u / "sub").mkdir()
    os.chown(u / "sub", bb.user.uid, bb.user.gid)
    ro, rw, ov = user_dir(bb, "ro"), user_dir(bb, "rw", 0o777), user_dir(bb, "ov", 0o777)
    user_file(bb, ov / "f", "orig\n").chmod(0o666)  # the container user (33) writes it
    bb("create", "--name", "mnt", "-u", "33:33",
       "-v", f"{u}:/u:U", "-v", f"{ro}:/ro:ro,z", "-v", f"{rw}:/rw:rw,Z", "-v", f"{ov}:/ov:O",
       "--mount", "type=volume,source=flagvol,target=/vol,U=true",
       "--mount", "type=tmpfs,destination=/mt,tmpfs-size=1m",
       "--mount", f"type=bind,source={ro},target=/mb,readonly",
       "--tmpfs", "/t2:size=2m,mode=1777",
       "busybox", "sh", "-c", MOUNT_SCRIPT).ok()
    got = kv(bb("start", "-a", "mnt").ok().stdout)
    assert got["u_owner"] == "33:33" and got["u_write"] == "ok"
    # :U chowned the source (and its content) to the container user, as the host sees it
    host33 = 33 if not bb.rootless else bb.user.subuid[0] + 32
    assert (u.stat().st_uid, (u / "sub").stat().st_uid, (u / "new").stat().st_uid) == (host33,) * 3
    assert got["ro"] == "ro" and got["rw"] == "ok" and got["mb"] == "ro"
    assert got["ov"] == "changed" and got["ovtype"] == "overlay"
    assert (ov / "f").read_text() == "orig\n" and not (ov / "g").exists()  # the source is untouched
    assert got["vol"] == "ok"
    assert got["mtmp"] == "1024"
    assert got["tmpfs2"] == "1777 2048"
    # a second run of the same container starts with a clean overlay
    again = bb("start", "-a", "mnt").ok().stdout
    assert kv(again)["ov"] == "changed"
    out = bb("run", "--rm", "--volumes-from", "mnt:ro", "busybox", "sh", "-c",
             "cat /vol/file; touch /vol/y 2>/dev/null || echo vol-ro; ls /ro >/dev/null && echo has-ro").ok()
    assert out.stdout.split() == ["data", "vol-ro", "has-ro"]
    out = bb("run", "--rm", "--volumes-from", "mnt", "busybox", "sh", "-c", "touch /vol/y && echo vol-rw")
    assert out.ok().stdout == "vol-rw\n"


# ----------------------------------------------------------------------- user namespaces

def test_userns_flags(bb):
    """--userns=host, keep-id (rootless: `id -u` is the host uid), --uidmap/--gidmap,
    --userns=auto; an unknown auto option is refused in one line."""
    out = bb("run", "--rm", "--userns=host", "busybox", "id", "-u").ok().stdout
    assert out == "0\n"
    if bb.rootless:
        res = bb("run", "--rm", "--userns=keep-id", "busybox", "sh", "-c", "id -u; id -g").ok()
        assert res.stdout.split() == [str(bb.user.uid), str(bb.user.gid)]
    else:
        bb("run", "--rm", "--userns=keep-id", "busybox", "true").assert_error(125, "rootless")
    res = bb("run", "--rm", "--uidmap", "0:0:1", "--uidmap", "1:1:2000", "--gidmap", "0:0:3000",
             "busybox", "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map").ok()
    rows = [line.split() for line in res.stdout.splitlines()]
    if bb.rootless:  # split where Hull's own namespace joins the user's id to the subuids
        assert rows == [["0", "0", "1"], ["1", "1", "2000"], ["0", "0", "1"], ["1", "1", "2999"]]
    else:
        assert rows == [["0", "0", "1"], ["1", "1", "2000"], ["0", "0", "3000"]]
    # maps that leave out the storage owner: the image's files keep their owners inside
    # (tests/integration/cli_containers/test_userns_auto.py has the rest)
    host = 1 if bb.rootless else 200000  # rootless: ids of Hull's namespace
    res = bb("run", "--rm", "--network", "none", "--uidmap", f"0:{host}:5000", "busybox", "sh", "-c",
             "cat /proc/self/uid_map; stat -c %u:%g /bin/busybox").ok()
    assert res.stdout.split() == ["0", str(host), "5000", "0:0"]
    res = bb("run", "--rm", "--network", "none", "--userns=auto", "busybox", "cat", "/proc/self/uid_map").ok()
    assert res.stdout.split()[0] == "0" and res.stdout.split()[1] != "0"
    bb("run", "--rm", "--userns=auto:bogus=1", "busybox", "true").assert_error(125, "unknown option bogus")
    assert bb("ps", "-aq").ok().stdout == ""


# ----------------------------------------------------------------------- inspect, stop, limits

def test_recorded_flags_and_stop_signal(bb):
    """--annotation -l --stop-signal --stop-timeout -m --cpus --cpu-shares --pids-limit
    --restart --health-* --log-driver --log-opt in inspect; the stop signal used by
    `hull stop`; limits that cannot be applied give one warning line."""
    res = bb("create", "--name", "rec", "--annotation", "com.example.a=b", "-l", "tier=web",
             "--stop-signal", "SIGUSR1", "--stop-timeout", "7", "-m", "64m", "--cpus", "0.5",
             "--cpu-shares", "512", "--pids-limit", "50", "--restart", "on-failure:2",
             "--health-cmd", "true", "--health-interval", "30s", "--health-retries", "4",
             "--log-driver", "json-file", "--log-opt", "max-size=1m",
             "busybox", "sh", "-c", "trap 'echo got-usr1; exit 7' USR1; echo up; "
             "while :; do sleep 0.1; done").ok()
    warnings = [l for l in res.stderr.splitlines() if l.strip()]
    if bb.rootless:
        assert warnings == ["WARNING: Resource limits are not supported and ignored on cgroups V1 rootless systems"]
    else:
        assert len(warnings) <= 1  # as root only where the runtime cannot apply them
    doc = inspect(bb, "rec")
    assert doc["Config"]["Annotations"]["com.example.a"] == "b"
    assert doc["Config"]["Labels"]["tier"] == "web"
    assert doc["Config"]["StopSignal"] in ("SIGUSR1", "10", 10)
    assert doc["Config"]["StopTimeout"] == 7
    hc = doc["HostConfig"]
    assert (hc["Memory"], hc["NanoCpus"], hc["CpuShares"], hc["PidsLimit"]) == (64 << 20, 500000000, 512, 50)
    assert hc["RestartPolicy"] == {"Name": "on-failure", "MaximumRetryCount": 2}
    assert hc["LogConfig"]["Type"] == "json-file"
    assert doc["Config"]["Healthcheck"]["Test"] == ["CMD-SHELL", "true"]
    assert doc["Config"]["Healthcheck"]["Retries"] == 4
    bb("start", "rec").ok()
    deadline = time.time() + 10
    while "up" not in bb("logs", "rec").stdout and time.time() < deadline:
        time.sleep(0.1)
    bb("stop", "rec").ok()
    assert bb("inspect", "--format", "{{.State.ExitCode}}", "rec").ok().stdout == "7\n"
    assert "got-usr1" in bb("logs", "rec").ok().stdout


# ----------------------------------------------------------------------- pull, name, cidfile, attach

def test_pull_policies(bb):
    """--pull=missing/never use the local image; --pull=always goes to the registry even
    when the image is here (an unreachable one: the run fails with 125)."""
    bb("tag", "busybox", "localhost:1/flags/bb:1").ok()
    assert bb("run", "--rm", "--pull=never", "localhost:1/flags/bb:1", "echo", "n").ok().stdout == "n\n"
    assert bb("run", "--rm", "--pull=missing", "localhost:1/flags/bb:1", "echo", "m").ok().stdout == "m\n"
    bb("run", "--rm", "--pull=never", "localhost:1/flags/none:1", "true").assert_error(125, "image not known")
    res = bb("run", "--rm", "--pull=always", "localhost:1/flags/bb:1", "true")
    assert res.returncode == 125 and "localhost:1" in res.stderr
    assert bb("ps", "-aq").ok().stdout == ""


def test_name_replace_cidfile_attach_stdin(bb):
    """--name, --replace, --cidfile (an existing file or a missing directory refuse
    before anything is made), -a, -i, -d, --rm."""
    cidfile = bb.workdir / "cid"
    res = bb("run", "--name", "one", "--cidfile", cidfile, "busybox", "true").ok()
    cid = cidfile.read_text()
    assert len(cid) == 64 and res.stdout == ""
    bb("run", "--name", "one", "--cidfile", bb.workdir / "cid2", "busybox", "true").assert_error(125, "already in use")
    assert not (bb.workdir / "cid2").exists()
    bb("run", "--rm", "--cidfile", cidfile, "busybox", "true").assert_error(125, "container id file exists")
    bb("run", "--rm", "--cidfile", bb.workdir / "no" / "cid", "busybox", "true").assert_error(125, "cidfile")
    assert bb("ps", "-aq", "--no-trunc").ok().stdout == cid + "\n"
    assert bb("run", "--replace", "--name", "one", "busybox", "echo", "new").ok().stdout == "new\n"
    assert bb("ps", "-aq", "--no-trunc").ok().stdout.strip() not in ("", cid)
    script = "echo out; echo err >&2"
    res = bb("run", "--rm", "-a", "stdout", "busybox", "sh", "-c", script).ok()
    assert (res.stdout, res.stderr) == ("out\n", "")
    res = bb("run", "--rm", "-a", "stderr", "busybox", "sh", "-c", script).ok()
    assert (res.stdout, res.stderr) == ("", "err\n")
    assert bb("run", "--rm", "-i", "busybox", "cat", input="piped\n").ok().stdout == "piped\n"
    assert bb("run", "--rm", "busybox", "cat", input="ignored\n").ok().stdout == ""  # no -i: no stdin
    cid = bb("run", "-d", "--rm", "busybox", "true").ok().stdout.strip()
    assert len(cid) == 64


def _hull_pid(argv_marker: str, uid: int) -> int | None:
    """The hull CLI process whose command line holds `argv_marker`, owned by `uid`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                args = f.read().split(b"\0")
            if os.stat(f"/proc/{entry}").st_uid != uid:
                continue
        except OSError:
            continue
        if argv_marker.encode() in args and any(a.endswith(b"/hull") or a.endswith(b"hull") for a in args[:3]):
            return int(entry)
    return None


def test_sig_proxy(bb):
    """--sig-proxy (default true): a signal to the attached `hull run` reaches the container;
    with --sig-proxy=false it does not."""
    name = f"sigp-{os.getpid()}"
    proc = subprocess.Popen(bb.argv("run", "--rm", "--name", name, "busybox", "sh", "-c",
                                    "trap 'echo got-term; exit 3' TERM; echo ready; "
                                    "while :; do sleep 0.1; done"),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=bb.workdir)
    try:
        assert proc.stdout.readline() == b"ready\n"
        pid = _hull_pid(name, bb.user.uid)
        assert pid is not None
        os.kill(pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
        assert out == b"got-term\n"
        assert proc.returncode == 3
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ----------------------------------------------------------------------- bad values

BAD = [
    ["--ulimit", "nofile=abc"], ["--ulimit", "bogus=1"], ["-m", "12q"], ["--cpus", "x"],
    ["--pids-limit", "x"], ["--shm-size", "x"], ["--restart", "sometimes"],
    ["--stop-signal", "SIGFOO"], ["--stop-timeout", "x"], ["--userns", "bogus"],
    ["--uidmap", "0:x:1"], ["--pull", "sometimes"], ["--log-driver", "syslog"],
    ["--device", "/nonexistent"], ["--sysctl", "kernel.foo=1"], ["--tz", "Mars/Base"],
    ["--detach-keys", "ctrl-Q1"], ["--secret", "nosuch"], ["--security-opt", "bogus=1"],
    ["--security-opt", "seccomp=/nonexistent.json"], ["--cap-add", "NOPE"],
    ["-v", "/nonexistent:/x"], ["-v", "/tmp:/x:q"], ["--mount", "type=foo,target=/x"],
    ["--tmpfs", "/x:bogus"], ["--volumes-from", "nosuch"], ["-a", "stdin2"],
    ["--group-add", "nosuchgroup"], ["-u", "nosuchuser"], ["--env-file", "/nonexistent"],
    ["-w", "relative"], ["--annotation", "=x"], ["--health-cmd", "true", "--health-interval", "0.1s"],
]


def test_bad_values_are_one_line_125(bb):
    for flags in BAD:
        bb("run", "--rm", *flags, "busybox", "true").assert_error(125)
    assert bb("ps", "-aq").ok().stdout == ""
