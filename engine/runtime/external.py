"""Any OCI runtime binary (crun, runc, a path) driven through its command line.

State lives under {runroot}/<name> (`--root`).  The container's stdio is given to
the runtime as its own 0, 1, 2 (it passes them on), so its error messages are
read from a `--log` file instead.  With a terminal, the runtime makes the pty
inside the container and sends the master over `--console-socket` (SCM_RIGHTS);
we hand it to `Stdio.on_console`.  No threads: the console socket is polled
while the runtime runs.  Host quirks: crun refuses a hybrid host whose v2
hierarchy has controllers, so it runs with `--cgroup-manager=disabled` there and
rootless (no delegated cgroup), with cgroupfs as root otherwise (limits and the
freezer work, as with runc); runc inside Hull's user namespace needs
`--rootless true`.  Where the runtime has no cgroup, pause falls back to SIGSTOP
of the container's pid namespace (as the built-in runtime does).
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from engine.errors import CannotInvoke, CommandNotFound, ContainerNotFound, HullError, InvalidArgument
from engine.runtime.base import RuntimeState, Stdio


def _in_userns() -> bool:
    from engine.runtime.userns import in_user_namespace

    return in_user_namespace()


def crun_cgroup_manager() -> str:
    """cgroupfs as root where crun accepts the host's cgroup layout, else disabled."""
    if os.geteuid() != 0 or _in_userns():
        return "disabled"
    try:
        with open("/sys/fs/cgroup/unified/cgroup.controllers") as f:
            if f.read().split():
                return "disabled"  # hybrid with v2 controllers: "cgroups in hybrid mode not supported"
    except OSError:
        pass
    return "cgroupfs"


def cgroups_usable(name: str) -> bool:
    """Whether the runtime `name` applies cgroup limits here (the caller checked rootless)."""
    if name.startswith("crun"):
        return crun_cgroup_manager() == "cgroupfs"
    return True


def _no_cgroup(text: str) -> bool:
    """The runtime's refusal to pause a container it made no cgroup for."""
    low = text.lower()
    return "without a cgroup" in low or "cgroups not configured" in low


def _children() -> set[int]:
    """Our direct children, from /proc (this kernel has no /proc/<pid>/task/<tid>/children)."""
    me = os.getpid()
    out = set()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(b")") + 2:].split()
        if int(fields[1]) == me:
            out.add(int(entry.name))
    return out


def _comm(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


def _is_child(pid: int) -> bool:
    """Whether pid is our child, alive or exited but not yet reaped (WNOWAIT: its status stays)."""
    try:
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return False
    return True


class ExternalRuntime:
    def __init__(self, name: str, path: Path, root: Path) -> None:
        self.name = name
        self.path = Path(path)
        self.root = Path(root)

    # -- plumbing ---------------------------------------------------------------------
    def _global(self) -> list[str]:
        argv = [str(self.path), "--root", str(self.root)]
        if self.name.startswith("crun"):
            argv.append(f"--cgroup-manager={crun_cgroup_manager()}")
        elif self.name.startswith("runc") and _in_userns():
            argv += ["--rootless", "true"]
        return argv

    def _log_args(self, log: Path) -> list[str]:
        if self.name.startswith("crun"):
            return [f"--log=file:{log}"]
        return ["--log", str(log), "--log-format", "json"]

    def _run(self, args: list[str], *, stdio: Stdio | None = None, console: bool = False,
             cid: str = "") -> tuple[int, str, int | None]:
        """Run one command; returns (exit code, error text, console master fd or None)."""
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, log_name = tempfile.mkstemp(prefix=".log-", dir=self.root)
        os.close(fd)
        log = Path(log_name)
        sock_path, listener = None, None
        try:
            argv = self._global() + self._log_args(log) + args[:1]
            rest = args[1:]
            if console:
                sock_path = Path(tempfile.mkdtemp(prefix=".c-", dir=self.root)) / "s"
                listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                listener.bind(str(sock_path))
                listener.listen(1)
                rest = ["--console-socket", str(sock_path)] + rest
            kw: dict = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
            if stdio is not None and not console:
                kw = {"stdin": stdio.stdin_fd if stdio.stdin_fd is not None else subprocess.DEVNULL,
                      "stdout": stdio.stdout_fd if stdio.stdout_fd is not None else subprocess.DEVNULL,
                      "stderr": stdio.stderr_fd if stdio.stderr_fd is not None else subprocess.DEVNULL}
            reserved: list[int] = []
            if stdio is not None and stdio.extra_fds:  # socket activation: --preserve-fds N
                rest = ["--preserve-fds", str(len(stdio.extra_fds))] + rest
                reserved = _reserve_low(len(stdio.extra_fds))
                from engine.monitor.listenfds import place  # imported here, never in the forked child

                kw.update(pass_fds=tuple(range(3, 3 + len(stdio.extra_fds))),
                          preexec_fn=lambda fds=tuple(stdio.extra_fds): place(fds))
            try:
                p = subprocess.Popen(argv + rest, **kw)
            except OSError as exc:
                raise HullError(f"{self.path}: {exc.strerror}") from None
            finally:
                for fd in reserved:
                    os.close(fd)
            master = None
            if listener is not None:
                master = self._receive_console(listener, p)
            p.wait()
            stderr = p.stderr.read().decode(errors="replace") if p.stderr else ""
            if p.stderr:
                p.stderr.close()
            return p.returncode, self._error_text(log) or stderr.strip(), master
        finally:
            log.unlink(missing_ok=True)
            if listener is not None:
                listener.close()
            if sock_path is not None:
                sock_path.unlink(missing_ok=True)
                sock_path.parent.rmdir()

    @staticmethod
    def _receive_console(listener: socket.socket, p: subprocess.Popen) -> int | None:
        while p.poll() is None:
            ready, _, _ = select.select([listener], [], [], 0.05)
            if not ready:
                continue
            conn, _ = listener.accept()
            with conn:
                _msg, fds, _flags, _addr = socket.recv_fds(conn, 4096, 1)
            for extra in fds[1:]:
                os.close(extra)
            return fds[0] if fds else None
        return None

    @staticmethod
    def _error_text(log: Path) -> str:
        try:
            lines = log.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        msgs = []
        for line in lines:
            try:
                doc = json.loads(line)
            except ValueError:
                msgs.append(line.strip())
                continue
            if doc.get("level") in ("error", "fatal", None):
                msgs.append(str(doc.get("msg", "")).strip())
        return msgs[-1] if msgs else ""

    def _fail(self, what: str, cid: str, text: str) -> None:
        low = text.lower()
        if "not found in $path" in low or "no such file or directory" in low and "exec" in low:
            raise CommandNotFound(f"{self.name}: {text}: OCI runtime attempted to invoke a command that was not found")
        # crun says "open executable: Operation not permitted" for a directory; Podman maps both to 126
        if ("permission denied" in low or "operation not permitted" in low) and "exec" in low:
            raise CannotInvoke(f"{self.name}: {text}: OCI permission denied")
        if "does not exist" in low or "not found" in low and "container" in low:
            raise ContainerNotFound(f"{self.name}: {what} {cid}: {text}")
        raise HullError(f"{self.name}: {what} {cid}: {text or 'failed'}")

    def _simple(self, what: str, cid: str, args: list[str]) -> None:
        code, text, _ = self._run(args, cid=cid)
        if code != 0:
            self._fail(what, cid, text)

    # -- the contract ----------------------------------------------------------------
    def create(self, cid: str, bundle: Path, stdio: Stdio, pid_file: Path | None = None) -> int:
        from engine.runtime.syscalls import PR_SET_CHILD_SUBREAPER, SYSCALLS

        if stdio.terminal_fd is not None:
            raise InvalidArgument(f"{self.name}: give Stdio.on_console for a terminal (the runtime makes the pty)")
        SYSCALLS.prctl(PR_SET_CHILD_SUBREAPER, 1)
        pid_path = Path(pid_file) if pid_file else self.root / f".{cid}.pid"
        console = stdio.on_console is not None
        before = _children()
        code, text, master = self._run(["create", "--bundle", str(bundle), "--pid-file", str(pid_path), cid],
                                       stdio=stdio, console=console, cid=cid)
        if code != 0:
            if master is not None:
                os.close(master)
            self._reap_leftovers(before, keep=0)
            self._fail("create", cid, text)
        if master is not None and stdio.on_console is not None:
            stdio.on_console(master)
        pid = int(pid_path.read_text().strip())
        if pid_file is None:
            pid_path.unlink(missing_ok=True)
        return pid

    def start(self, cid: str) -> None:
        self._simple("start", cid, ["start", cid])

    def state(self, cid: str) -> RuntimeState:
        code, text, _ = self._run(["state", cid], cid=cid)
        if code != 0:
            self._fail("state", cid, text)
        out = subprocess.run(self._global() + ["state", cid], capture_output=True, text=True)
        doc = json.loads(out.stdout)
        status = doc.get("status", "stopped")
        if status == "running" and self._signal_paused(cid).exists():
            status = "paused"
        return RuntimeState(status=status, pid=int(doc.get("pid") or 0) if status != "stopped" else 0,
                            bundle=doc.get("bundle", ""))

    def kill(self, cid: str, signal: int, all: bool = False) -> None:
        self._simple("kill", cid, ["kill"] + (["--all"] if all else []) + [cid, str(int(signal))])

    def delete(self, cid: str, force: bool = False) -> None:
        self._simple("delete", cid, ["delete"] + (["--force"] if force else []) + [cid])
        self._signal_paused(cid).unlink(missing_ok=True)

    def _signal_paused(self, cid: str) -> Path:
        """Marker of a pause done by SIGSTOP (holds the init pid): the runtime knows nothing of it."""
        return self.root / f".sigstopped-{cid}"

    def pause(self, cid: str) -> None:
        from engine.runtime.signal_pause import stop_all

        code, text, _ = self._run(["pause", cid], cid=cid)
        if code == 0:
            return
        if not _no_cgroup(text):
            self._fail("pause", cid, text)
        st = self.state(cid)
        if st.status != "running" or not st.pid:
            raise HullError(f"{self.name}: pause {cid}: container is {st.status}")
        self._signal_paused(cid).write_text(str(st.pid))
        stop_all(st.pid)

    def resume(self, cid: str) -> None:
        from engine.runtime.signal_pause import continue_all

        marker = self._signal_paused(cid)
        try:
            pid = int(marker.read_text().strip())
        except (OSError, ValueError):
            self._simple("resume", cid, ["resume", cid])
            return
        continue_all(pid)
        marker.unlink(missing_ok=True)

    def exec(self, cid: str, process: dict, stdio: Stdio, pid_file: Path | None = None) -> int:
        from engine.runtime.syscalls import PR_SET_CHILD_SUBREAPER, SYSCALLS

        if stdio.terminal_fd is not None:
            raise InvalidArgument(f"{self.name}: give Stdio.on_console for a terminal (the runtime makes the pty)")
        SYSCALLS.prctl(PR_SET_CHILD_SUBREAPER, 1)
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, proc_name = tempfile.mkstemp(prefix=".process-", dir=self.root)
        with os.fdopen(fd, "w") as f:
            json.dump(process, f)
        pid_path = Path(pid_file) if pid_file else Path(proc_name + ".pid")
        before = _children()
        pid = 0
        try:
            code, text, master = self._run(["exec", "--detach", "--process", proc_name, "--pid-file", str(pid_path), cid],
                                           stdio=stdio, console=stdio.on_console is not None, cid=cid)
            if code != 0:
                if master is not None:
                    os.close(master)
                self._fail("exec", cid, text)
            if master is not None and stdio.on_console is not None:
                stdio.on_console(master)
            try:
                pid = int(pid_path.read_text().strip())
            except (OSError, ValueError):
                raise HullError(f"{self.name}: exec {cid}: no pid file written") from None
            if not _is_child(pid):
                raise HullError(f"{self.name}: exec {cid}: process {pid} is not ours to wait for")
            return pid
        finally:
            # A failed exec leaves the runtime's forked child (already inside the container's
            # pid namespace) reparented to us as a zombie; until it is reaped the container's
            # init cannot be reaped either, so waiting for the container would hang.
            self._reap_leftovers(before, keep=pid)
            os.unlink(proc_name)
            if pid_file is None:
                pid_path.unlink(missing_ok=True)

    def _reap_leftovers(self, before: set[int], keep: int, timeout: float = 2.0) -> None:
        """Reap the runtime's own processes born since `before` (never `keep`, the user's process)."""
        prefix = self.path.name[:15]
        mine = [p for p in _children() - before - {keep} if _comm(p).startswith(prefix)]
        deadline = time.monotonic() + timeout
        while mine:
            for p in list(mine):
                try:
                    done, _ = os.waitpid(p, os.WNOHANG)
                except ChildProcessError:
                    done = p
                if done:
                    mine.remove(p)
            if not mine or time.monotonic() > deadline:
                return
            time.sleep(0.01)

    def update(self, cid: str, resources: dict) -> None:
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=".resources-", dir=self.root)
        with os.fdopen(fd, "w") as f:
            json.dump(resources, f)
        try:
            self._simple("update", cid, ["update", "--resources", name, cid])
        finally:
            os.unlink(name)


__all__ = ["ExternalRuntime"]


def _reserve_low(n: int) -> list[int]:
    """Fill the free fd numbers below 3+n with /dev/null, so the pipes Popen makes next
    (its exec-error pipe among them) land above the 3..3+n-1 the preexec hook overwrites."""
    held: list[int] = []
    while True:
        fd = os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
        if fd >= 3 + n:
            os.close(fd)
            return held
        held.append(fd)
