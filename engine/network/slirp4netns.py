"""slirp4netns(1): the other rootless helper, run as Podman's slirp4netns mode.

`slirp4netns --configure --mtu=65520 --disable-host-loopback --netns-type=path
--ready-fd N --api-socket S PATH tap0` in its own session; it reports readiness on
the pipe and stays in the foreground (we do not wait for it: it is killed by pid
at teardown).  Published ports go through its API socket (add_hostfwd) to the
guest address 10.0.2.100.  Options (slirp4netns:a=b,...) as Podman: mtu, cidr,
allow_host_loopback, enable_ipv6, outbound_addr, outbound_addr6.
"""

from __future__ import annotations

import ipaddress
import json
import os
import socket
from pathlib import Path

from engine.errors import HullError, InvalidArgument

BINARY = "slirp4netns"
DEFAULT_CIDR = "10.0.2.0/24"


def available() -> str | None:
    from shutil import which

    return which(BINARY)


def parse_options(text: str) -> dict[str, str]:
    known = ("mtu", "cidr", "allow_host_loopback", "enable_ipv6", "outbound_addr", "outbound_addr6",
             "port_handler")
    out: dict[str, str] = {}
    for item in (w for w in text.split(",") if w):
        key, sep, value = item.partition("=")
        if not sep or key not in known:
            raise InvalidArgument(f"unknown option for slirp4netns: {item}")
        out[key] = value
    return out


def addresses(options: dict[str, str]) -> dict[str, str]:
    """guest, gateway (the host), DNS of the slirp network."""
    net = ipaddress.ip_network(options.get("cidr") or DEFAULT_CIDR, strict=False)
    return {"ip": str(net.network_address + 100), "gateway": str(net.network_address + 2),
            "dns": str(net.network_address + 3), "prefix": str(net.prefixlen)}


def start(netns: str, options: dict[str, str], api_socket: Path, log_path: Path) -> int:
    binary = available()
    if binary is None:
        raise HullError('could not find slirp4netns, the network namespace can\'t be configured: '
                        'exec: "slirp4netns": executable file not found in $PATH')
    ready_r, ready_w = os.pipe()
    argv = [binary, "--configure", f"--mtu={options.get('mtu') or 65520}", "--netns-type=path",
            f"--ready-fd={ready_w}", f"--api-socket={api_socket}"]
    if options.get("allow_host_loopback") != "true":
        argv.append("--disable-host-loopback")
    if options.get("cidr"):
        argv.append(f"--cidr={options['cidr']}")
    if options.get("enable_ipv6") == "true":
        argv.append("--enable-ipv6")
    for key in ("outbound_addr", "outbound_addr6"):
        if options.get(key):
            argv.append(f"--{key.replace('_', '-')}={options[key]}")
    argv += [netns, "tap0"]
    try:
        api_socket.unlink()
    except FileNotFoundError:
        pass
    try:
        pid = _spawn_detached(argv, log_path, ready_w)
    finally:
        os.close(ready_w)
    try:
        with os.fdopen(ready_r, "rb") as ready:
            got = ready.read(1)
    except OSError:
        got = b""
    if got != b"1":
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        detail = _tail(log_path)
        raise HullError(f"failed to start slirp4netns: {detail}" if detail else "failed to start slirp4netns")
    return pid


def _spawn_detached(argv: list[str], log_path: Path, keep_fd: int) -> int:
    """Start argv as a grandchild in its own session (not our child: nobody would reap
    it, and it must outlive this process); returns its pid."""
    report_r, report_w = os.pipe()
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    middle = os.fork()
    if middle == 0:
        try:
            os.close(report_r)
            os.setsid()
            pid = os.fork()
            if pid == 0:
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(log, 1)
                os.dup2(log, 2)
                os.set_inheritable(keep_fd, True)
                os.execv(argv[0], argv)
            os.write(report_w, str(pid).encode())
        finally:
            os._exit(0)
    os.close(report_w)
    os.close(log)
    with os.fdopen(report_r, "rb") as f:
        text = f.read()
    os.waitpid(middle, 0)
    if not text:
        raise HullError("failed to start slirp4netns")
    return int(text)


def add_hostfwd(api_socket: Path, proto: str, host_addr: str, host_port: int, guest_addr: str,
                guest_port: int) -> None:
    request = {"execute": "add_hostfwd",
               "arguments": {"proto": proto, "host_addr": host_addr or "0.0.0.0", "host_port": host_port,
                             "guest_addr": guest_addr, "guest_port": guest_port}}
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(api_socket))
        s.sendall(json.dumps(request).encode())
        s.shutdown(socket.SHUT_WR)
        reply = b""
        while chunk := s.recv(4096):
            reply += chunk
    try:
        doc = json.loads(reply or b"{}")
    except ValueError:
        doc = {"error": {"desc": reply.decode(errors="replace")}}
    if "error" in doc:
        desc = (doc["error"] or {}).get("desc") or str(doc["error"])
        raise HullError(f"cannot expose port {host_port}/{proto}: {desc}")


def _tail(path: Path) -> str:
    try:
        lines = path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""
