"""Hull's built-in OCI runtime (see init.py for the process tree and why it forks).

State lives in {runroot}/runtime/<cid>/ (state.json, exec.fifo).  Call it from a
process without other threads (the monitor): the kernel refuses setns into a
user namespace from a threaded process, and a fork only copies the calling thread.
"""

from __future__ import annotations

import fcntl
import json
import os
import signal as _signal
import time
from pathlib import Path

from engine.errors import Conflict, ContainerNotFound, HullError, InvalidArgument
from engine.runtime.base import RuntimeState, Stdio
from engine.runtime.builtin import cgroups, sync
from engine.runtime.builtin.state import ContainerRecord, StateDir, proc_start_time, proc_state
from engine.runtime.signal_pause import namespace_pids
from engine.runtime.syscalls import PR_SET_CHILD_SUBREAPER, SYSCALLS


def _in_userns() -> bool:
    from engine.runtime.userns import in_user_namespace

    return in_user_namespace()


def load_spec(bundle: Path) -> dict:
    try:
        with open(Path(bundle) / "config.json") as f:
            spec = json.load(f)
    except FileNotFoundError:
        raise InvalidArgument(f"{bundle}/config.json: no such file or directory") from None
    except ValueError as exc:
        raise InvalidArgument(f"{bundle}/config.json: {exc}") from None
    root = (spec.get("root") or {}).get("path")
    if not root:
        raise InvalidArgument(f"{bundle}/config.json: root.path is required")
    if not os.path.isabs(root):
        spec["root"]["path"] = str(Path(bundle) / root)
    return spec


def _stdio_tuple(stdio: Stdio) -> tuple:
    return (stdio.stdin_fd, stdio.stdout_fd, stdio.stderr_fd)


class BuiltinRuntime:
    name = "builtin"

    def __init__(self, root: Path, sc=None) -> None:
        self.root = Path(root)
        self.sc = sc or SYSCALLS

    def _dir(self, cid: str) -> StateDir:
        return StateDir(self.root, cid)

    def _record(self, cid: str) -> tuple[StateDir, ContainerRecord]:
        sd = self._dir(cid)
        return sd, sd.load()

    # -- create / start ---------------------------------------------------------------
    def create(self, cid: str, bundle: Path, stdio: Stdio, pid_file: Path | None = None) -> int:
        from engine.runtime.builtin import init

        sd = self._dir(cid)
        spec = load_spec(Path(bundle))
        if (spec.get("process") or {}).get("terminal") and stdio.terminal_fd is None and stdio.on_console is None:
            raise InvalidArgument("process.terminal is set: give Stdio.terminal_fd or Stdio.on_console")
        self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            sd.path.mkdir(mode=0o700)
        except FileExistsError:
            raise Conflict(f"container with ID {cid!r} already exists") from None
        cgroup = None
        pid = 0
        try:
            os.mkfifo(sd.fifo, 0o600)
            linux = spec.get("linux") or {}
            cgroup = cgroups.create(cid, linux.get("resources"))
            self.sc.preload()
            if linux.get("seccomp"):
                self.sc.seccomp_lib  # dlopen now: never from the container's /usr/lib
                self._compile_seccomp(linux["seccomp"])
            self.sc.prctl(PR_SET_CHILD_SUBREAPER, 1)
            parent_end, child_end = sync.pair()
            # Opened here: in a user namespace of its own, init could not open our 0600 file.
            raw_fd = os.open(sd.fifo, os.O_RDWR | os.O_CLOEXEC)
            fifo_fd = fcntl.fcntl(raw_fd, fcntl.F_DUPFD_CLOEXEC, 3)  # off 0-2, which init rewires
            os.close(raw_fd)
            init_args = dict(fifo_fd=fifo_fd, stdio=_stdio_tuple(stdio), terminal_fd=stdio.terminal_fd,
                             console=stdio.on_console is not None and stdio.terminal_fd is None,
                             in_userns=_in_userns())
            if stdio.extra_fds:  # socket activation: init places them at 3.. before exec
                init_args["extra_fds"] = tuple(stdio.extra_fds)
            from engine.runtime.builtin.mounts import enter_rootfs, preopen

            pre_fds = preopen(self.sc, spec)  # a user ns that cannot walk our 0700 dirs: sources cloned now
            child = os.fork()
            if child == 0:
                parent_end.close()
                enter_rootfs(spec)
                init.intermediate(self.sc, spec, child_end, cgroup, init_args)
            child_end.close()
            os.close(fifo_fd)
            for fd in pre_fds:
                os.close(fd)
            known: list[int] = []  # init's pid as soon as it is known: killed on any failure below
            try:
                try:
                    pid = self._handshake(parent_end, spec, stdio, sd, known)
                finally:
                    _reap(child)
                rec = ContainerRecord(id=cid, pid=pid, start_time=proc_start_time(pid) or "", bundle=str(bundle),
                                      cgroup=str(cgroup or ""), created=time.time())
                sd.save(rec)
                if pid_file is not None:
                    Path(pid_file).write_text(str(pid))
                # Init waits for this before it waits on exec.fifo: a creator killed before
                # its state was saved makes init exit instead of waiting for ever.
                sync.send(parent_end, {"saved": True})
            except BaseException:
                for p in known:
                    _kill_and_reap(p)
                raise
            finally:
                parent_end.close()
            return pid
        except BaseException:
            if pid:
                _kill_and_reap(pid)
            if cgroup is not None:
                cgroups.remove(str(cgroup))
            sd.remove()
            raise

    def _compile_seccomp(self, profile: dict) -> None:
        """The BPF program, compiled (or found in the cache) here before the fork, so
        init only installs it.  In memory only: config.json is not rewritten."""
        from engine.runtime import seccomp_bpf

        profile[seccomp_bpf.COMPILED] = seccomp_bpf.program(profile, self.root / "seccomp-cache", self.sc)

    def _handshake(self, chan, spec: dict, stdio: Stdio, sd: StateDir, known: list[int]) -> int:
        """The intermediate's and init's messages until init is ready to start.  Init's
        pid goes to `known` and to the state dir's init.pid at once: a creator killed
        before state.json is saved leaves a pid that delete() kills (else a created init
        would wait on its exec.fifo for ever after the directory is gone)."""
        from engine.runtime.builtin.init import write_id_maps

        reader = sync.Reader(chan)
        pid = 0
        while True:
            msg = reader.next()
            if msg is None:
                raise HullError("container process exited during set-up")
            if "map" in msg:
                try:
                    write_id_maps(int(msg["map"]), spec)
                except BaseException:
                    sync.send(chan, {"mapped": False})  # the intermediate exits: create's reap returns
                    raise
                sync.send(chan, {"mapped": True})
            elif "pid" in msg:
                pid = int(msg["pid"])
                known.append(pid)
                sd.save_init_pid(pid)
            elif "console" in msg:
                fds, reader.fds = reader.fds, []
                if fds and stdio.on_console is not None:
                    stdio.on_console(fds[0])
            elif "error" in msg:
                sync.raise_for(msg)  # create's handler kills init (known)
            elif msg.get("ready"):
                return pid

    def start(self, cid: str) -> None:
        sd, rec = self._record(cid)
        status = sd.status(rec)
        if status != "created":
            raise Conflict(f"container {cid} is {status}: cannot start it")
        try:
            fd = os.open(sd.fifo, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:  # ENXIO: nobody waits on it any more
            raise Conflict(f"container {cid} is not waiting to start: {exc.strerror}") from None
        try:
            os.write(fd, b"0")
        finally:
            os.close(fd)
        try:
            os.unlink(sd.fifo)
        except FileNotFoundError:
            pass

    # -- state / signals ------------------------------------------------------------
    def state(self, cid: str) -> RuntimeState:
        sd, rec = self._record(cid)
        status = sd.status(rec)
        return RuntimeState(status=status, pid=rec.pid if status != "stopped" else 0, bundle=rec.bundle)

    def kill(self, cid: str, signal: int, all: bool = False) -> None:
        sd, rec = self._record(cid)
        if not rec.alive():
            raise Conflict(f"container {cid} is not running")
        pids = [rec.pid]
        if all and rec.cgroup:
            try:
                pids = [int(p) for p in (Path(rec.cgroup) / "cgroup.procs").read_text().split()] or pids
            except OSError:
                pass
        for pid in pids:
            try:
                os.kill(pid, signal)
            except ProcessLookupError:
                pass
        if signal == _signal.SIGKILL and rec.paused_by_signal:
            pass  # a stopped process dies of SIGKILL too

    def delete(self, cid: str, force: bool = False) -> None:
        sd = self._dir(cid)
        if not sd.exists():
            if sd.path.exists():
                # No state.json: a create still running elsewhere, or one whose process
                # was killed before saving it.  Its init (init.pid) goes first: removing
                # only the directory would leave it waiting on a deleted exec.fifo.
                sd.kill_unsaved_init()
                sd.remove()
                return
            raise ContainerNotFound(f"container {cid!r} does not exist")
        rec = sd.load()
        status = sd.status(rec)
        if status not in ("stopped", "created") and not force:
            raise Conflict(f"cannot delete container {cid} that is not stopped: {status}")
        if rec.alive():
            if status == "paused":
                self.resume(cid)
            try:
                os.kill(rec.pid, _signal.SIGKILL)
            except ProcessLookupError:
                pass
            _wait_gone(rec)
        cgroups.remove(rec.cgroup)
        sd.remove()

    def pause(self, cid: str) -> None:
        sd, rec = self._record(cid)
        if sd.status(rec) != "running":
            raise Conflict(f"container {cid} is not running")
        if not cgroups.freeze(rec.cgroup, True):
            # No freezer: stop the processes of the container's pid namespace by signal.
            rec.paused_by_signal = True
            sd.save(rec)
            pids = namespace_pids(rec.pid)
            for pid in pids:
                _signal_quietly(pid, _signal.SIGSTOP)
            deadline = time.monotonic() + 2
            while time.monotonic() < deadline and any(proc_state(p) not in ("T", "t", "X", "Z") for p in pids):
                time.sleep(0.005)

    def resume(self, cid: str) -> None:
        sd, rec = self._record(cid)
        if sd.status(rec) != "paused":
            raise Conflict(f"container {cid} is not paused")
        if rec.paused_by_signal:
            rec.paused_by_signal = False
            sd.save(rec)
            for pid in namespace_pids(rec.pid):
                _signal_quietly(pid, _signal.SIGCONT)
        else:
            cgroups.freeze(rec.cgroup, False)

    def update(self, cid: str, resources: dict) -> None:
        _sd, rec = self._record(cid)
        cgroups.update(rec.cgroup, resources)

    # -- exec --------------------------------------------------------------------------
    def exec(self, cid: str, process: dict, stdio: Stdio, pid_file: Path | None = None) -> int:
        from engine.runtime.builtin.exec_ import exec_child

        sd, rec = self._record(cid)
        status = sd.status(rec)
        if status != "running":
            raise Conflict(f"container {cid} is {status}: can only exec in a running container")
        spec = load_spec(Path(rec.bundle))
        self.sc.preload()
        if (spec.get("linux") or {}).get("seccomp"):
            self.sc.seccomp_lib
            self._compile_seccomp(spec["linux"]["seccomp"])
        self.sc.prctl(PR_SET_CHILD_SUBREAPER, 1)
        parent_end, child_end = sync.pair()
        child = os.fork()
        if child == 0:
            parent_end.close()
            exec_child(self.sc, rec.pid, spec, process, child_end, cgroup=rec.cgroup, stdio=_stdio_tuple(stdio),
                       terminal_fd=stdio.terminal_fd,
                       console=stdio.on_console is not None and stdio.terminal_fd is None)
        child_end.close()
        pid = 0
        error = None
        try:
            reader = sync.Reader(parent_end)
            while True:  # to EOF: the pid message may come after the grandchild's error
                msg = reader.next()
                if msg is None:
                    break
                if "pid" in msg:
                    pid = int(msg["pid"])
                elif "console" in msg:
                    fds, reader.fds = reader.fds, []
                    if fds and stdio.on_console is not None:
                        stdio.on_console(fds[0])
                elif "error" in msg:
                    error = msg
        finally:
            parent_end.close()
            _reap(child)
        if error is not None:
            # Only now, with the intermediate child reaped, is the failed process our
            # child (we are its subreaper): reap it, or it would stay a zombie in the
            # container's pid namespace and the container's init could never be reaped.
            if pid:
                _kill_and_reap(pid)
            sync.raise_for(error)
        if not pid:
            raise HullError(f"exec in container {cid}: process exited during set-up")
        if pid_file is not None:
            Path(pid_file).write_text(str(pid))
        return pid


def _signal_quietly(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _kill_and_reap(pid: int) -> None:
    try:
        os.kill(pid, _signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def _wait_gone(rec: ContainerRecord, timeout: float = 10.0) -> None:
    """Wait until the process is gone (reaped by whoever is its parent, maybe us)."""
    deadline = time.monotonic() + timeout
    while rec.alive() and time.monotonic() < deadline:
        try:
            if os.waitpid(rec.pid, os.WNOHANG)[0]:
                return
        except ChildProcessError:
            pass
        time.sleep(0.01)


__all__ = ["BuiltinRuntime", "load_spec"]
