"""pasta(1): rootless connectivity for a container's network namespace file.

Run as Podman 5 runs it: `--config-net` copies the host's addresses and routes into
the namespace, `--dns-forward 169.254.0.1` answers DNS there from the host's
resolvers, -t/-u forward the published ports (none otherwise), -T/-U none.  Podman 5
adds --no-map-gw; the pasta on these hosts has no --map-guest-addr, so Hull keeps the
gateway mapped: the default gateway's address reaches the host (its loopback), and
that is what `host.containers.internal` names.  pasta forks into the background once
the namespace is configured; its pid comes from --pid.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from engine.errors import HullError

BINARY = "pasta"
DNS_FORWARD = "169.254.0.1"


def available() -> str | None:
    """pasta's path on $PATH (shutil.which without shutil's import on run's path)."""
    for d in (os.environ.get("PATH") or os.defpath).split(os.pathsep):
        path = os.path.join(d or ".", BINARY)
        if os.access(path, os.X_OK) and not os.path.isdir(path):
            return path
    return None


class Spawned:
    """pasta's first process, started by `spawn`: its pid and the read end of the pipe
    its stdout and stderr go to (posix_spawn: subprocess costs ~8 ms to import)."""

    def __init__(self, pid: int, out: int) -> None:
        self.pid = pid
        self.out = out
        self.returncode: int | None = None

    def finish(self) -> str:
        """Its output once it has exited (it daemonises when the namespace is ready),
        reaped: returncode set."""
        chunks = []
        try:
            while chunk := os.read(self.out, 65536):
                chunks.append(chunk)
        finally:
            os.close(self.out)
        _, status = os.waitpid(self.pid, 0)
        self.returncode = os.waitstatus_to_exitcode(status)
        return b"".join(chunks).decode(errors="replace")

    def kill(self) -> None:
        try:
            os.kill(self.pid, 9)
        except OSError:
            pass


def port_args(ports: list[dict]) -> list[str]:
    """-t/-u [ip/]host-range:container-range for resolved ports (host_port chosen)."""
    args: list[str] = []
    for p in ports:
        n = int(p.get("range") or 1)
        addr = f"{p['host_ip']}/" if p.get("host_ip") else ""
        spec = (f"{addr}{p['host_port']}-{p['host_port'] + n - 1}:"
                f"{p['container_port']}-{p['container_port'] + n - 1}")
        for proto in (p.get("protocol") or "tcp").split(","):
            if proto not in ("tcp", "udp"):
                raise HullError(f"can't forward protocol: {proto}")
            args += ["-t" if proto == "tcp" else "-u", spec]
    return args


def build_args(netns: str, ports: list[dict], extra: list[str], pid_file: Path, rootless: bool) -> list[str]:
    # --stderr first: errors (a port in use...) found while parsing the options that follow
    # go to us, not only to a syslog that may be absent
    args = ["--config-net", "--stderr"] + list(extra)
    given = set(extra)
    if "--dns-forward" not in given:
        args += ["--dns-forward", DNS_FORWARD]
    args += port_args(ports)
    has = set(args)
    for short, long_ in (("-t", "--tcp-ports"), ("-u", "--udp-ports"), ("-T", "--tcp-ns"), ("-U", "--udp-ns")):
        if short not in has and long_ not in has:
            args += [short, "none"]
    if not rootless and "--runas" not in given:
        # as root pasta drops to nobody before opening the namespace file in our 0700 runroot
        args += ["--runas", "0:0"]
    return args + ["--quiet", "--pid", str(pid_file), "--netns", netns]


def start(netns: str, ports: list[dict], extra: list[str], pid_file: Path, rootless: bool) -> int:
    """Start pasta for `netns`; returns its pid once the namespace is configured."""
    return wait(spawn(netns, ports, extra, pid_file, rootless), ports, pid_file)


def spawn(netns: str, ports: list[dict], extra: list[str], pid_file: Path, rootless: bool) -> Spawned:
    """Start pasta without waiting: it needs 50-150 ms to configure the namespace, which
    the caller can spend on work of its own before `wait`.  In a session of its own;
    stdin /dev/null, stdout and stderr a pipe (the only fd it inherits)."""
    binary = available()
    if binary is None:
        raise HullError("could not find pasta, the network namespace can't be configured: "
                        "exec: \"pasta\": executable file not found in $PATH")
    argv = [binary] + build_args(netns, ports, extra, pid_file, rootless)
    try:
        pid_file.unlink()
    except FileNotFoundError:
        pass
    out, theirs = os.pipe()  # both close-on-exec: the child gets `theirs` only through dup2
    try:
        # SIGPIPE/SIGXFSZ back to default as subprocess does: pasta fails on an ignored one
        pid = os.posix_spawn(argv[0], argv, os.environ, setsid=True, setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
                             file_actions=[
                                 (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                                 (os.POSIX_SPAWN_DUP2, theirs, 1),
                                 (os.POSIX_SPAWN_DUP2, theirs, 2)])
    except BaseException:
        os.close(out)
        raise
    finally:
        os.close(theirs)
    return Spawned(pid, out)


def wait(proc: Spawned, ports: list[dict], pid_file: Path) -> int:
    """pasta's pid once its first process has exited (it forks into the background when
    the namespace is ready, as Podman waits for it); its error in one line otherwise."""
    stdout = proc.finish()
    output = "\n".join(ln for ln in stdout.splitlines() if not ln.startswith("Failed to send"))
    if proc.returncode != 0:
        busy = _busy_port(ports)  # this pasta does not say why it could not bind: find out
        detail = busy or "; ".join(output.splitlines()) or "no message"
        raise HullError(f"pasta failed with exit code {proc.returncode}: {detail}")
    try:
        return int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        raise HullError("pasta did not write its pid file") from None


TUNSETPERSIST = 0x400454CB


def leave_tap(pid: int) -> None:
    """Before pasta is killed: mark its tap device persistent, best effort.  Closing a
    non-persistent tap unregisters the device in the dying process (an RCU barrier:
    20-50 ms between SIGKILL and pasta's exit, which teardown waits for); a persistent
    one goes with its namespace, in the kernel's asynchronous netns cleanup, once the
    namespace file is unmounted and nothing else is in it.  pasta then exits in ~5 ms."""
    import fcntl

    from engine.runtime.syscalls import SYSCALLS

    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        fd_dir = f"/proc/{pid}/fd"
        for name in sorted(os.listdir(fd_dir), key=int):  # pasta opens its tap early: a low number
            if os.readlink(f"{fd_dir}/{name}") == "/dev/net/tun":
                tap = SYSCALLS.pidfd_getfd(pidfd, int(name))
                try:
                    fcntl.ioctl(tap, TUNSETPERSIST, 1)
                finally:
                    os.close(tap)
                return
    except (OSError, ValueError, HullError):
        return  # pasta unregisters the device itself, as always
    finally:
        os.close(pidfd)


def _busy_port(ports: list[dict]) -> str:
    import socket

    for p in ports:
        for proto in (p.get("protocol") or "tcp").split(","):
            kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
            host = p.get("host_ip") or ""
            for port in range(p["host_port"], p["host_port"] + int(p.get("range") or 1)):
                try:
                    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, kind) as s:
                        s.bind((host, port))
                except OSError as exc:
                    return f"listen {proto} {host or '0.0.0.0'}:{port}: bind: {(exc.strerror or '').lower()}"
    return ""


def split_options(text: str) -> list[str]:
    """pasta:OPTS -> argv words (Podman: comma separated, "-t,80" style)."""
    return [w for w in text.split(",") if w] if text else []
