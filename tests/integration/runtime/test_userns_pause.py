"""The rootless pause process, for real: run as the unprivileged user `hulltest`.

Each test gets its own HULL_ROOT/HULL_RUNROOT under /tmp, so each makes (and
at teardown kills) its own pause process.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
PYTHON = sys.executable
USER = "hulltest"


def _hulltest_uid() -> int | None:
    try:
        return pwd.getpwnam(USER).pw_uid
    except KeyError:
        return None


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or _hulltest_uid() is None or not shutil.which("runuser") or not shutil.which("newuidmap"),
    reason="needs root, the hulltest user, runuser and newuidmap",
)


class Rootless:
    """Runs Python snippets and commands as hulltest against one private store."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.root = base / "root"
        self.runroot = base / "run"
        self.uid = _hulltest_uid()

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "HOME": f"/home/{USER}", "PYTHONPATH": str(REPO),
                "HULL_ROOT": str(self.root), "HULL_RUNROOT": str(self.runroot), "LANG": "C.UTF-8"}

    def argv(self, *argv: str) -> list[str]:
        return ["runuser", "-u", USER, "--", "env", "-i", *(f"{k}={v}" for k, v in self.env().items()), *argv]

    def python(self, code: str, check: bool = True, timeout: float = 60) -> subprocess.CompletedProcess:
        result = subprocess.run(self.argv(PYTHON, "-c", textwrap.dedent(code)), cwd=self.base,
                                capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"exit {result.returncode}: {result.stderr}")
        return result

    def unshare(self, *cmd: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(self.argv(PYTHON, "-m", "engine.runtime.userns", "unshare", "--", *cmd),
                              cwd=self.base, capture_output=True, text=True, timeout=timeout)

    def pause_pid(self) -> int | None:
        try:
            return int((self.runroot / "pause.pid").read_text().split()[0])
        except (OSError, ValueError):
            return None


JOIN = """
import os
from engine.config import EngineConfig
from engine.runtime.userns import ensure_in_userns
ensure_in_userns(EngineConfig())
"""


@pytest.fixture
def rootless():
    base = Path(tempfile.mkdtemp(prefix="hull-userns-", dir="/tmp"))
    os.chmod(base, 0o777)  # hulltest creates root/ and run/ itself (they must be its own)
    r = Rootless(base)
    yield r
    pid = r.pause_pid()
    if pid:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    shutil.rmtree(base, ignore_errors=True)


def _ns_of(pid: int, kind: str) -> str:
    return os.readlink(f"/proc/{pid}/ns/{kind}")


def test_join_gives_root_with_subuid_map(rootless: Rootless):
    out = rootless.python(JOIN + """
print(open("/proc/self/uid_map").read().split())
print(open("/proc/self/gid_map").read().split())
print(os.getuid(), os.geteuid(), os.getgid(), os.environ["_HULL_USERNS_CONFIGURED"])
print(open("/proc/self/status").read().split("CapEff:")[1].split()[0])
""").stdout.splitlines()
    assert out[0] == str(["0", str(rootless.uid), "1", "1", "100000", "65536"])
    assert out[1] == str(["0", str(rootless.uid), "1", "1", "100000", "65536"])
    assert out[2] == "0 0 0 1"
    assert int(out[3], 16) & (1 << 21)  # CAP_SYS_ADMIN in the namespace


def test_pause_process_is_catatonit_detached_and_small(rootless: Rootless):
    rootless.python(JOIN)
    pid = rootless.pause_pid()
    assert pid is not None
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    assert os.path.basename(cmdline[0]) in (b"catatonit", b"sleep")
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(status.split("VmRSS:")[1].split()[0])
    assert rss_kb < 4096  # an exec'd pause program, not a forked interpreter
    assert os.getsid(pid) == pid  # its own session: no terminal signal reaches it
    fds = {fd: os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")}
    assert [fds[n] for n in ("0", "1", "2")] == ["/dev/null"] * 3
    leaked = [t for fd, t in fds.items() if fd not in "012" and not t.startswith("anon_inode:")]
    assert leaked == []  # catatonit's own signalfd only: no pipe, lock or file of ours
    assert _ns_of(pid, "user") != _ns_of(os.getpid(), "user")


def test_second_process_joins_the_same_namespace(rootless: Rootless):
    code = JOIN + "print(os.readlink('/proc/self/ns/user'), os.readlink('/proc/self/ns/mnt'))"
    first = rootless.python(code).stdout.split()
    pid = rootless.pause_pid()
    second = rootless.python(code).stdout.split()
    assert first == second
    assert first == [_ns_of(pid, "user"), _ns_of(pid, "mnt")]
    assert rootless.pause_pid() == pid


def test_racing_processes_share_one_pause_process(rootless: Rootless):
    start = time.time() + 1.5  # everyone calls ensure_in_userns at the same instant
    code = f"""
import os, time
from engine.config import EngineConfig
from engine.runtime.syscalls import SYSCALLS
from engine.runtime.userns import ensure_in_userns
SYSCALLS.preload()
time.sleep(max(0, {start} - time.time()))
ensure_in_userns(EngineConfig())
print(os.readlink('/proc/self/ns/user'))
"""
    procs = [subprocess.Popen(rootless.argv(PYTHON, "-c", code), cwd=rootless.base, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(6)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert all(p.returncode == 0 for p in procs), [o[1] for o in outs]
    namespaces = {o[0].strip() for o in outs}
    assert len(namespaces) == 1
    holders = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc")))
               if _safe_ns(pid) in namespaces and _comm(pid) in ("catatonit", "sleep")]
    assert holders == [rootless.pause_pid()]


def _safe_ns(pid: int) -> str | None:
    try:
        return _ns_of(pid, "user")
    except OSError:
        return None


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def test_chown_inside_lands_on_subuid_outside(rootless: Rootless):
    target = rootless.base / "owned"
    result = rootless.unshare("sh", "-c", f"touch {target} && chown 33:33 {target} && stat -c '%u:%g' {target}")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "33:33"
    st = target.stat()
    assert (st.st_uid, st.st_gid) == (100032, 100032)


def test_killed_pause_process_is_replaced(rootless: Rootless):
    code = JOIN + "print(os.readlink('/proc/self/ns/user'))"
    before = rootless.python(code).stdout.strip()
    old = rootless.pause_pid()
    os.kill(old, signal.SIGKILL)
    after_out = rootless.python(code + "\nprint(open('/proc/self/uid_map').read().split())").stdout.split("\n")
    new = rootless.pause_pid()
    assert new is not None and new != old
    assert after_out[0] != before and after_out[0] == _ns_of(new, "user")
    assert after_out[1] == str(["0", str(rootless.uid), "1", "1", "100000", "65536"])


def test_stale_pid_file_naming_another_process_is_ignored(rootless: Rootless):
    rootless.python(JOIN)
    pid = rootless.pause_pid()
    # Point the pid file at a live process of the same user that is not the pause process.
    decoy = subprocess.Popen(rootless.argv("sleep", "60"))
    try:
        time.sleep(0.3)
        decoy_pid = int(subprocess.run(["pgrep", "-u", USER, "-f", "^sleep 60$"], capture_output=True,
                                       text=True).stdout.split()[0])
        (rootless.runroot / "pause.pid").write_text(f"{decoy_pid} 12345\n")
        out = rootless.python(JOIN + "print(os.readlink('/proc/self/ns/user'))").stdout.strip()
        assert out != _ns_of(decoy_pid, "user")
        assert rootless.pause_pid() not in (decoy_pid, None)
    finally:
        decoy.kill()
        decoy.wait()
        os.kill(pid, signal.SIGKILL)


def test_unshare_exports_store_and_marker(rootless: Rootless):
    result = rootless.unshare("sh", "-c", "echo $HULL_ROOT $HULL_RUNROOT $_HULL_USERNS_CONFIGURED; id -u; pwd")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [str(rootless.root), str(rootless.runroot), "1", "0", str(rootless.base)]


def test_nested_unshare_stays_in_the_namespace(rootless: Rootless):
    inner = f"{PYTHON} -m engine.runtime.userns unshare -- readlink /proc/self/ns/user"
    result = rootless.unshare("sh", "-c", f"readlink /proc/self/ns/user; {inner}")
    assert result.returncode == 0, result.stderr
    outer_ns, inner_ns = result.stdout.split()
    assert outer_ns == inner_ns == _ns_of(rootless.pause_pid(), "user")


@pytest.mark.parametrize("cmd, code", [
    (["sh", "-c", "exit 7"], 7),
    (["/nonexistent/command"], 127),
    (["no-such-command-hull"], 127),
    (["/etc/hostname"], 126),
])
def test_unshare_exit_codes(rootless: Rootless, cmd, code):
    result = rootless.unshare(*cmd)
    assert result.returncode == code
    if code in (126, 127):
        assert len(result.stderr.strip().splitlines()) == 1


def test_unshare_as_root_is_refused():
    result = subprocess.run([PYTHON, "-m", "engine.runtime.userns", "unshare", "--", "true"], cwd=REPO,
                            capture_output=True, text=True)
    assert result.returncode == 125
    assert result.stderr.strip() == "Error: please use unshare with rootless"


def test_ensure_is_a_noop_as_root():
    code = JOIN + "print(os.readlink('/proc/self/ns/user'), '_HULL_USERNS_CONFIGURED' in os.environ)"
    out = subprocess.run([PYTHON, "-c", code], cwd=REPO, capture_output=True, text=True, check=True).stdout
    assert out.split() == [_ns_of(os.getpid(), "user"), "False"]


def test_single_id_map_without_subordinate_ids(rootless: Rootless):
    result = rootless.python("""
from pathlib import Path
import engine.runtime.userns as userns
from engine.runtime.idmap import user_id_maps
userns.user_id_maps = lambda: user_id_maps(subuid_file=Path("/nonexistent"), subgid_file=Path("/nonexistent"))
userns.ensure_in_userns(userns.EngineConfig())
print(open("/proc/self/uid_map").read().split(), open("/proc/self/gid_map").read().split())
""")
    assert result.stdout.split("] [")[0] == str(["0", str(rootless.uid), "1"])[:-1]
    warnings = [line for line in result.stderr.splitlines() if "warning" in line]
    assert len(warnings) == 1 and "single-id map" in warnings[0]


def test_refused_newuidmap_is_one_clear_line(rootless: Rootless):
    result = rootless.python(f"""
import sys
from pathlib import Path
import engine.runtime.userns as userns
from engine.errors import HullError
from engine.runtime.idmap import user_id_maps
Path("{rootless.base}/fake-subuid").write_text("{USER}:300000:1000\\n")
userns.user_id_maps = lambda: user_id_maps(subuid_file=Path("{rootless.base}/fake-subuid"))
try:
    userns.ensure_in_userns(userns.EngineConfig())
except HullError as exc:
    print(exc)
    sys.exit(exc.exit_code)
""", check=False)
    assert result.returncode == 125
    assert result.stdout.startswith("newuidmap failed: ")
    assert len(result.stdout.strip().splitlines()) == 1
    assert rootless.pause_pid() is None  # nothing half-made is recorded
