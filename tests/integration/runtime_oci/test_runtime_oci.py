"""Real containers from the busybox image through each OCI runtime (built-in, crun,
runc), as root and rootless inside Hull's pause namespace.  The same assertions
hold for every runtime: crun and runc are the oracle for ours."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.runtime_oci.bundle import PODMAN_CAPEFF

FACTS = ("echo out; echo err >&2; hostname; echo pid=$$; test -r /proc/self/status && echo proc=yes; "
         "grep -E '^(CapEff|NoNewPrivs|Seccomp):' /proc/self/status; echo fds=$(ls /proc/self/fd); "
         "echo masked=$(cat /proc/interrupts /proc/timer_list | wc -c)/$(ls /proc/acpi | wc -l); "
         "echo x > /proc/sys/kernel/domainname || echo sysctl=refused; exit 7")


def test_exit_code_streams_and_process_facts(run_container):
    r = run_container(["sh", "-c", FACTS], config={"hostname": "box1"})
    assert r["exit"] == 7, r
    assert r["stderr"].splitlines()[0] == "err"
    assert "Read-only file system" in r["stderr"], r
    out = r["stdout"].splitlines()
    assert out[0] == "out" and "err" not in out
    assert out[1] == "box1"
    assert "pid=1" in out and "proc=yes" in out
    assert f"CapEff:\t{PODMAN_CAPEFF:016x}" in out
    assert "NoNewPrivs:\t1" in out and "Seccomp:\t2" in out
    assert "fds=0 1 2 3" in out  # ls's own directory fd is the 3
    assert "masked=0/0" in out and "sysctl=refused" in out  # this kernel has no /proc/kcore
    assert r["state_created"] == "created" and r["state_after"] == "stopped"


@pytest.mark.parametrize("seccomp", [True, False], ids=["seccomp", "no-seccomp"])
def test_default_seccomp_profile_blocks_unshare(run_container, seccomp):
    r = run_container(["unshare", "-U", "true"], config={"seccomp": seccomp})
    if seccomp:
        assert r["exit"] != 0 and "Operation not permitted" in r["stderr"], r
    else:
        assert r["exit"] == 0, r  # a user namespace needs no capability: only the filter refuses it


def test_seccomp_rule_with_its_own_errno(run_container):
    profile = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86"],
               "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18}]}
    r = run_container(["mkdir", "/tmp/x"], seccomp_profile=profile)
    assert r["exit"] != 0 and "cross-device" in r["stderr"], r


def test_symlinked_mount_destination_stays_in_the_rootfs(run_container):
    # /data in the image points at a host path: the volume must land inside the rootfs, never on the host.
    outside = Path("/tmp/outside-x")
    assert not outside.exists()
    r = run_container(["sh", "-c", "ls /data; ls /tmp/outside-x"],
                      symlinks={"/data": str(outside)},
                      config={"extra_mounts": [{"destination": "/data", "type": "bind",
                                                "source": str(run_container.base / "layers"),
                                                "options": ["rbind", "ro"]}]})
    assert not outside.exists(), r  # nothing made (so nothing mounted) at the symlink's host target
    if run_container.runtime == "crun" and "error" in r:
        # crun 1.8 resolves the destination with openat2(RESOLVE_IN_ROOT) and does not create
        # the missing target through the symlink: it refuses, which is as safe.
        assert "openat2 `data`: No such file or directory" in r["message"], r
        return
    assert r["exit"] == 0, r
    listed = r["stdout"].split()
    assert "0" in listed and "1" in listed  # the bound directory, seen through the symlink
    assert "tmp/outside-x" in r["upper"]    # the mount point was made inside the container


def test_terminal_is_the_containers_own_pty(run_container):
    r = run_container(["sh", "-c", "tty; echo on-tty"], config={"terminal": True}, tty=True)
    assert r["exit"] == 0, r
    assert r["tty"].replace("\r", "").splitlines()[:2] == ["/dev/pts/0", "on-tty"]
    assert r["stdout"] == ""


def test_user_and_read_only_root(run_container):
    r = run_container(["sh", "-c", "id -u; id -g; touch /x || echo ro"],
                      config={"user": (33, 33), "readonly_root": True})
    assert r["exit"] == 0, r
    assert r["stdout"].split() == ["33", "33", "ro"]


def test_command_not_found_is_127(run_container):
    r = run_container(["no-such-program"])
    assert r.get("code") == 127, r
    assert "not found" in r["message"]


def test_command_not_executable_is_126(run_container):
    r = run_container(["/etc/passwd"])
    assert r.get("code") == 126, r


def test_exec_joins_the_namespaces(run_container):
    r = run_container(["sleep", "30"], config={"hostname": "execbox"},
                      exec=["sh", "-c", "hostname; echo pid=$$; cat /proc/1/cmdline | tr '\\0' ' '; echo; "
                                        "grep CapEff /proc/self/status"],
                      kill=True)
    assert r["state_running"] == "running"
    e = r["exec"]
    assert e["exit"] == 0, e
    lines = e["stdout"].splitlines()
    assert lines[0] == "execbox"
    assert lines[1] != "pid=1" and lines[1].startswith("pid=")
    assert lines[2].strip() == "sleep 30"
    assert lines[3] == "CapEff:\t0000000000000020"  # CAP_KILL only, as the exec process asked
    assert r["exit"] == -9


def test_exec_of_a_missing_program(run_container):
    r = run_container(["sleep", "30"], exec=["no-such-program"], kill=True)
    assert r["exec"].get("code") == 127 or r["exec"].get("exit") == 127, r["exec"]


def test_pause_and_resume(run_builtin):
    r = run_builtin(["sleep", "30"], pause=True, exec=["true"], kill=True)
    assert r["state_paused"] == "paused"
    assert r["state_resumed"] == "running"


def test_user_namespace_from_the_spec(run_container):
    r = run_container(["sh", "-c", "cat /proc/self/uid_map; id -u; touch /tmp/f; grep CapEff /proc/self/status"],
                      userns=[1000, 2000])
    assert r.get("exit") == 0, r
    out = r["stdout"].split()
    assert out[:3] == ["0", "1000", "2000"] and out[3] == "0"
    assert r["owners"]["tmp/f"] == 1000  # root inside is 1000 outside
    assert out[-1] == f"{PODMAN_CAPEFF:016x}"


def test_limits_apply_or_warn_once_never_fail(run_builtin):
    r = run_builtin(["cat", "/proc/self/cgroup"],
                    resources={"memory": {"limit": 64 << 20}, "pids": {"limit": 100}})
    assert r.get("exit") == 0, r
    warning = "Resource limits are not supported and ignored on cgroups V1 rootless systems"
    warned = r["runtime_stderr"].count(warning)
    if warned:
        assert warned == 1
    else:  # a delegated cgroup v2: the container runs in its own cgroup
        assert "/hull-c-" in r["stdout"], r


def test_terminal_fd_from_the_caller(run_builtin):
    r = run_builtin(["sh", "-c", "test -t 0 && test -t 1 && echo tty-ok; ps -o pid,tty | tail -n +2"],
                    config={"terminal": True}, caller_pty=True)
    assert r.get("exit") == 0, r
    assert "tty-ok" in r["tty"], r


def test_sysctl_is_written_before_proc_sys_turns_read_only(run_container):
    r = run_container(["sh", "-c", "cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni; "
                                   "echo 1 > /proc/sys/kernel/shmmni || echo refused"],
                      sysctl={"net.ipv4.ip_unprivileged_port_start": "80", "kernel.shmmni": "2048"})
    assert r.get("exit") == 0, r
    assert r["stdout"].split() == ["80", "2048", "refused"]


def test_host_network_gets_a_read_only_sys(run_container):
    # Rootless, the host's netns is not ours: sysfs cannot be mounted, the host's /sys is bound read-only.
    if run_container.mode == "rootless" and run_container.runtime == "runc":
        pytest.skip("runc 1.1 has no sysfs fallback (Podman's spec binds /sys itself for rootless host network)")
    r = run_container(["sh", "-c", "test -d /sys/kernel && echo sys-ok; touch /sys/x 2>/dev/null || echo ro"],
                      config={"network_ns": False})
    assert r.get("exit") == 0, r
    assert r["stdout"].split() == ["sys-ok", "ro"]
