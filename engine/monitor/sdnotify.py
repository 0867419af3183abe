"""--sdnotify: the monitor as systemd sees it (Type=notify units).

Only imported when a container was created with --sdnotify, so the monitor's usual
start-up never pays for it.  NOTIFY_SOCKET comes from the environment the monitor
inherited from the hull command systemd started.

  conmon     MAINPID=<monitor pid> and READY=1 once the container runs (Podman: conmon's
             pid; the monitor is our conmon, and the process whose end ends the unit)
  container  MAINPID=<monitor pid> at start; the container gets a socket of ours bind-
             mounted at /run/notify/notify.sock (NOTIFY_SOCKET set inside) and the monitor
             forwards what it sends (READY=1, STATUS=...; its own MAINPID= lines dropped:
             they name pids of another pid namespace)
  healthy    MAINPID at start, READY=1 when the healthcheck first passes
"""

from __future__ import annotations

import os
import socket

CONTAINER_DIR = "/run/notify"
CONTAINER_SOCKET = CONTAINER_DIR + "/notify.sock"


def add_to_spec(spec: dict, rundir: str) -> None:
    """config.json for --sdnotify=container: the proxy socket's directory bind-mounted in,
    NOTIFY_SOCKET pointing at it (the monitor binds the socket before the runtime starts)."""
    spec.setdefault("mounts", []).append({"destination": CONTAINER_DIR, "type": "bind",
                                          "source": os.path.join(rundir, "notify"),
                                          "options": ["bind", "rprivate", "nosuid", "nodev", "noexec"]})
    env = [e for e in spec["process"].get("env", []) if not e.startswith("NOTIFY_SOCKET=")]
    spec["process"]["env"] = env + [f"NOTIFY_SOCKET={CONTAINER_SOCKET}"]


def send(text: str, path: str | None = None) -> bool:
    """One datagram to systemd's socket (abstract when it starts with '@')."""
    path = path or os.environ.get("NOTIFY_SOCKET") or ""
    if not path:
        return False
    if path[0] == "@":
        path = "\0" + path[1:]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
    try:
        sock.sendto(text.encode(), path)
        return True
    except OSError:
        return False
    finally:
        sock.close()


def open_proxy(rundir: str) -> socket.socket:
    """The socket the container sends to (container mode), made fresh for each start."""
    directory = os.path.join(rundir, "notify")
    os.makedirs(directory, mode=0o755, exist_ok=True)
    os.chmod(directory, 0o755)  # the container's user (any uid in its map) must reach it
    path = os.path.join(directory, "notify.sock")
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC | socket.SOCK_NONBLOCK)
    dfd = os.open(directory, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:  # the run dir's path can be longer than sun_path's 108 bytes: bind through the fd
        sock.bind(f"/proc/self/fd/{dfd}/notify.sock")
    finally:
        os.close(dfd)
    os.chmod(path, 0o777)
    return sock


def forward(sock: socket.socket) -> None:
    """Everything the container sent since the last call, to systemd (MAINPID dropped)."""
    while True:
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return
        lines = [ln for ln in data.decode(errors="replace").splitlines()
                 if ln and not ln.startswith("MAINPID=")]
        if lines:
            send("\n".join(lines))


def on_started(mode: str, monitor_pid: int) -> None:
    """The container runs (its first start): tell systemd who to watch, and READY for conmon."""
    send(f"MAINPID={monitor_pid}\nREADY=1" if mode == "conmon" else f"MAINPID={monitor_pid}")
