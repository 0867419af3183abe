"""Published ports of bridge-mode containers: one forwarder process per container.

    python -S -m engine.network.portforward --target IP [--netns PATH] [--userns PATH --mntns PATH]
        [--watch PATH] [--pidfile PATH] [--sync FD] [--udp-timeout S] PROTO,HOSTIP,HOSTPORT,CTRPORT,RANGE ...

The forwarder binds its listening sockets in the network namespace it starts in (the
host's), then, for rootless containers, setns()-joins the user namespace (when not in
it yet) and the per-user rootless netns that holds the container's bridge: every socket
it opens afterwards (the connections to the container) lives there, while the
listening sockets stay on the host.  Podman's rootlessport works the same way.  As
root the host reaches the bridge directly and no setns is needed.

It listens only on the addresses asked ("127.0.0.1" is 127.0.0.1 alone; "" is every
address, IPv4 and IPv6) and relays TCP (zero-copy: each direction is a 1 MiB pipe the
bytes are splice(2)d into from one socket and out of to the other, as Go's io.Copy in
Podman's rootlessport does; backpressure: reads stop while the pipe is full;
half-close: EOF on one side becomes shutdown(SHUT_WR) on the other once the pipe is
empty) and UDP (one upstream socket per client address,
dropped after --udp-timeout seconds idle).  A single-threaded epoll loop.

It detaches (double fork, setsid) like the monitor, so it outlives the CLI that
started it, and goes away on SIGTERM (stop_forwarder, called by teardown) or when the
--watch path (the container's netns file) disappears.  Start-up imports only the
standard library's socket/selectors (and cffi for setns), as the monitor does.
"""

from __future__ import annotations

import errno
import fcntl
import os
import selectors
import signal
import socket
import sys
import time

LIMIT = 1 << 20            # bytes queued per direction (the pipe's size) before reads pause
F_SETPIPE_SZ = 1031
SPLICE_FLAGS = 1 | 2       # SPLICE_F_MOVE | SPLICE_F_NONBLOCK
UDP_TIMEOUT = 60.0
UDP_MAX_FLOWS = 4096
CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
PIDFILE = "portforward.pid"


# ======================================================================================
# The process
# ======================================================================================
class Mapping:
    __slots__ = ("proto", "host_ip", "host_port", "ctr_port", "range")

    def __init__(self, text: str) -> None:
        proto, ip, hport, cport, rng = text.split(",")
        self.proto, self.host_ip = proto, ip
        self.host_port, self.ctr_port, self.range = int(hport), int(cport), int(rng or 1)


def _go_addr(ip: str, port: int) -> str:
    ip = ip or "0.0.0.0"
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


class StartError(Exception):
    def __init__(self, message: str, code: int = 126) -> None:
        super().__init__(message)
        self.code = code


def _listen(proto: str, ip: str, port: int) -> socket.socket:
    """A bound (and for TCP listening) non-blocking socket on ip:port.  "" binds the
    dual-stack "::" (IPv4 too), or 0.0.0.0 where the host has no IPv6."""
    kind = socket.SOCK_DGRAM if proto == "udp" else socket.SOCK_STREAM
    candidates = [(socket.AF_INET6, "::"), (socket.AF_INET, "0.0.0.0")] if not ip else \
        [(socket.AF_INET6 if ":" in ip else socket.AF_INET, ip)]
    last: OSError | None = None
    for family, addr in candidates:
        try:
            s = socket.socket(family, kind)
        except OSError as exc:
            last = exc
            continue
        try:
            if family == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0 if not ip else 1)
            if kind == socket.SOCK_STREAM:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((addr, port))
            if kind == socket.SOCK_STREAM:
                s.listen(512)
            s.setblocking(False)
            return s
        except OSError as exc:
            s.close()
            last = exc
            if exc.errno not in (errno.EAFNOSUPPORT, errno.EADDRNOTAVAIL) or ip:
                break
    exc = last or OSError(errno.EINVAL, "no address")
    where = f"listen {proto} {_go_addr(ip, port)}: bind: {os.strerror(exc.errno or 0).lower()}"
    if exc.errno == errno.EACCES and port < 1024:
        start = _unprivileged_port_start()
        raise StartError(f"cannot expose privileged port {port}, you can add 'net.ipv4.ip_unprivileged_port_start="
                         f"{port}' to /etc/sysctl.conf (currently {start}), or choose a larger port number "
                         f"(>= {start}): {where}")
    raise StartError(where)


def _unprivileged_port_start() -> str:
    try:
        with open("/proc/sys/net/ipv4/ip_unprivileged_port_start") as fh:
            return fh.read().strip()
    except OSError:
        return "1024"


def _setns(path: str, nstype: int) -> None:
    from engine.runtime.syscalls import SYSCALLS

    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        SYSCALLS.setns(fd, nstype)
    finally:
        os.close(fd)


def _same_ns(path: str, kind: str) -> bool:
    try:
        return os.stat(path).st_ino == os.stat(f"/proc/self/ns/{kind}").st_ino
    except OSError:
        return False


class TcpPair:
    """One relayed connection: `a` the client (host side), `b` the container side.
    Each direction is a pipe the bytes are spliced into and out of (zero-copy: they
    never enter this process); a2b/b2a count what waits in it."""

    __slots__ = ("a", "b", "pa", "pb", "a2b", "b2a", "a_full", "b_full", "a_eof", "b_eof", "a_shut", "b_shut",
                 "connecting", "closed")

    def __init__(self, a: socket.socket, b: socket.socket, pa: tuple[int, int], pb: tuple[int, int]) -> None:
        self.a, self.b = a, b
        self.pa, self.pb = pa, pb            # (read end, write end): a's bytes to b, b's bytes to a
        self.a2b = self.b2a = 0
        self.a_full = self.b_full = False    # the pipe took nothing more: stop reading until it drains
        self.a_eof = self.b_eof = False      # EOF read from a / from b
        self.a_shut = self.b_shut = False    # we shut down writing to a / to b
        self.connecting = True
        self.closed = False


def _pipe() -> tuple[int, int]:
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, LIMIT)
    except OSError:
        pass  # above /proc/sys/fs/pipe-max-size: the default 64 KiB pipe works, a little slower
    return r, w


class Forwarder:
    """The event loop: TCP listeners, UDP listeners and flows, TCP pairs."""

    def __init__(self, target: str, udp_timeout: float = UDP_TIMEOUT, watch: str = "") -> None:
        self.target = target
        self.family = socket.AF_INET6 if ":" in target else socket.AF_INET
        self.sel = selectors.DefaultSelector()
        self.udp_timeout = udp_timeout
        self.watch = watch
        self.flows: dict[tuple[int, object], list] = {}   # (listener fd, client) -> [sock, last, listener, client]
        self.pairs: set[TcpPair] = set()

    # -- set-up ------------------------------------------------------------------------
    def add_listener(self, sock: socket.socket, proto: str, ctr_port: int) -> None:
        self.sel.register(sock, selectors.EVENT_READ, ("tcp-listen" if proto == "tcp" else "udp-listen",
                                                       sock, ctr_port))

    # -- TCP ---------------------------------------------------------------------------
    def _accept(self, lsock: socket.socket, ctr_port: int) -> None:
        for _ in range(64):
            try:
                a, _addr = lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # ECONNABORTED, EMFILE: try again on the next event
            a.setblocking(False)
            pipes: list[tuple[int, int]] = []
            try:
                b = socket.socket(self.family, socket.SOCK_STREAM)
            except OSError:
                a.close()
                continue
            try:
                pipes = [_pipe(), _pipe()]
            except OSError:
                for fd in (fd for pipe in pipes for fd in pipe):
                    os.close(fd)
                self._reset(a)
                a.close()
                b.close()
                continue
            b.setblocking(False)
            for s in (a, b):
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = TcpPair(a, b, pipes[0], pipes[1])
            err = b.connect_ex((self.target, ctr_port))
            if err not in (0, errno.EINPROGRESS):
                self._reset(a)
                self._close_fds(pair)
                continue
            self.pairs.add(pair)
            self.sel.register(a, selectors.EVENT_READ, ("a", pair))
            self.sel.register(b, selectors.EVENT_WRITE, ("b", pair))

    @staticmethod
    def _reset(s: socket.socket) -> None:
        """Close with RST (SO_LINGER 0): the client sees the refusal as the container gave it."""
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        except OSError:
            pass

    @staticmethod
    def _close_fds(p: TcpPair) -> None:
        p.a.close()
        p.b.close()
        for fd in (*p.pa, *p.pb):
            os.close(fd)

    def _close_pair(self, p: TcpPair, reset: bool = False) -> None:
        if p.closed:
            return
        p.closed = True
        self.pairs.discard(p)
        for s in (p.a, p.b):
            try:
                self.sel.unregister(s)
            except (KeyError, ValueError):
                pass
            if reset:
                self._reset(s)
        self._close_fds(p)

    @staticmethod
    def _fill(src: socket.socket, pipe_w: int, queued: int) -> tuple[int, bool, bool]:
        """Splice what src has into the pipe: (bytes moved, EOF, pipe full)."""
        moved = 0
        while queued + moved < LIMIT:
            try:
                n = os.splice(src.fileno(), pipe_w, LIMIT - queued - moved, flags=SPLICE_FLAGS)
            except (BlockingIOError, InterruptedError):
                # no data, or no pipe slot left (a pipe holds LIMIT bytes only in full pages)
                return moved, False, queued + moved > 0
            if n == 0:
                return moved, True, False
            moved += n
        return moved, False, True

    @staticmethod
    def _drain(pipe_r: int, dst: socket.socket, queued: int) -> int:
        """Splice queued bytes on to dst; returns how many went."""
        moved = 0
        while moved < queued:
            try:
                n = os.splice(pipe_r, dst.fileno(), queued - moved, flags=SPLICE_FLAGS)
            except (BlockingIOError, InterruptedError):
                break
            moved += n
        return moved

    def _tcp_event(self, side: str, p: TcpPair, mask: int) -> None:
        if p.closed:
            return
        try:
            if p.connecting:
                if side == "b" and mask & selectors.EVENT_WRITE:
                    err = p.b.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                    if err:
                        self._close_pair(p, reset=True)
                        return
                    p.connecting = False
            # reads go on while connecting (the pipe holds them); writes wait for the connection
            for _ in range(4):  # a few rounds: a drained pipe takes more at once
                progress = False
                if not p.a_eof and not p.a_full:
                    n, eof, p.a_full = self._fill(p.a, p.pa[1], p.a2b)
                    p.a2b += n
                    p.a_eof |= eof
                    progress |= n > 0
                if not p.b_eof and not p.b_full and not p.connecting:
                    n, eof, p.b_full = self._fill(p.b, p.pb[1], p.b2a)
                    p.b2a += n
                    p.b_eof |= eof
                    progress |= n > 0
                if p.connecting:
                    break
                if p.a2b:
                    n = self._drain(p.pa[0], p.b, p.a2b)
                    p.a2b -= n
                    if n:
                        p.a_full = False
                        progress = True
                if p.b2a:
                    n = self._drain(p.pb[0], p.a, p.b2a)
                    p.b2a -= n
                    if n:
                        p.b_full = False
                        progress = True
                if not progress:
                    break
            if not p.connecting:
                if p.a_eof and not p.a2b and not p.b_shut:
                    p.b.shutdown(socket.SHUT_WR)
                    p.b_shut = True
                if p.b_eof and not p.b2a and not p.a_shut:
                    p.a.shutdown(socket.SHUT_WR)
                    p.a_shut = True
                if p.a_shut and p.b_shut:
                    self._close_pair(p)
                    return
        except OSError:
            self._close_pair(p, reset=True)
            return
        self._interest(p)

    def _interest(self, p: TcpPair) -> None:
        ea = eb = 0
        if not p.a_eof and not p.a_full:
            ea |= selectors.EVENT_READ
        if p.connecting:
            eb = selectors.EVENT_WRITE
        else:
            if not p.b_eof and not p.b_full:
                eb |= selectors.EVENT_READ
            if p.a2b:
                eb |= selectors.EVENT_WRITE
            if p.b2a:
                ea |= selectors.EVENT_WRITE
        for s, ev, side in ((p.a, ea, "a"), (p.b, eb, "b")):
            key = self.sel.get_map().get(s.fileno())
            if ev and key is None:
                self.sel.register(s, ev, (side, p))
            elif ev and key.events != ev:
                self.sel.modify(s, ev, (side, p))
            elif not ev and key is not None:
                self.sel.unregister(s)

    # -- UDP ---------------------------------------------------------------------------
    def _udp_in(self, lsock: socket.socket, ctr_port: int) -> None:
        now = time.monotonic()
        for _ in range(64):
            try:
                data, client = lsock.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            key = (lsock.fileno(), client)
            flow = self.flows.get(key)
            if flow is None:
                if len(self.flows) >= UDP_MAX_FLOWS:
                    self._drop_flow(min(self.flows, key=lambda k: self.flows[k][1]))
                try:
                    up = socket.socket(self.family, socket.SOCK_DGRAM)
                    up.setblocking(False)
                    up.connect((self.target, ctr_port))
                except OSError:
                    continue
                flow = [up, now, lsock, client]
                self.flows[key] = flow
                self.sel.register(up, selectors.EVENT_READ, ("udp-up", key))
            flow[1] = now
            try:
                flow[0].send(data)
            except OSError:
                pass  # datagrams may be lost: as the network would

    def _udp_out(self, key: tuple) -> None:
        flow = self.flows.get(key)
        if flow is None:
            return
        up, _, lsock, client = flow
        flow[1] = time.monotonic()
        for _ in range(64):
            try:
                data = up.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return  # ECONNREFUSED from an ICMP error: nothing listens there yet
            try:
                lsock.sendto(data, client)
            except OSError:
                pass

    def _drop_flow(self, key: tuple) -> None:
        flow = self.flows.pop(key, None)
        if flow is not None:
            try:
                self.sel.unregister(flow[0])
            except (KeyError, ValueError):
                pass
            flow[0].close()

    def _sweep(self) -> None:
        now = time.monotonic()
        for key in [k for k, f in self.flows.items() if now - f[1] > self.udp_timeout]:
            self._drop_flow(key)
        if self.watch and not os.path.lexists(self.watch):
            raise SystemExit(0)

    # -- loop --------------------------------------------------------------------------
    def run(self) -> None:
        tick = max(0.5, min(5.0, self.udp_timeout / 2))
        next_sweep = time.monotonic() + tick
        while True:
            for key, mask in self.sel.select(timeout=max(0.0, next_sweep - time.monotonic())):
                kind = key.data[0]
                if kind == "tcp-listen":
                    self._accept(key.data[1], key.data[2])
                elif kind == "udp-listen":
                    self._udp_in(key.data[1], key.data[2])
                elif kind == "udp-up":
                    self._udp_out(key.data[1])
                else:
                    self._tcp_event(kind, key.data[1], mask)
            if time.monotonic() >= next_sweep:
                self._sweep()
                next_sweep = time.monotonic() + tick


def _parse_argv(argv: list[str]) -> dict:
    opts: dict = {"mappings": [], "target": "", "netns": "", "userns": "", "mntns": "", "watch": "", "pidfile": "",
                  "sync": -1, "udp_timeout": UDP_TIMEOUT, "daemon": True}
    it = iter(argv)
    for arg in it:
        if arg in ("--target", "--netns", "--userns", "--mntns", "--watch", "--pidfile"):
            opts[arg[2:]] = next(it)
        elif arg == "--sync":
            opts["sync"] = int(next(it))
        elif arg == "--udp-timeout":
            opts["udp_timeout"] = float(next(it))
        elif arg == "--foreground":
            opts["daemon"] = False
        else:
            opts["mappings"].append(Mapping(arg))
    return opts


def _report(fd: int, text: str) -> None:
    if fd >= 0:
        try:
            os.write(fd, text.encode("utf-8", "replace") + b"\n")
        except OSError:
            pass
        os.close(fd)


def _daemonize() -> None:
    if os.fork() > 0:
        os._exit(0)
    os.setsid()
    if os.fork() > 0:
        os._exit(0)
    os.chdir("/")
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1):
        os.dup2(devnull, fd)
    if devnull > 2:
        os.close(devnull)


def setup(opts: dict) -> Forwarder:
    """Bind every listener here, then move into the container's namespaces."""
    fwd = Forwarder(opts["target"], opts["udp_timeout"], opts["watch"])
    for m in opts["mappings"]:
        for i in range(m.range):
            sock = _listen(m.proto, m.host_ip, m.host_port + i)
            fwd.add_listener(sock, m.proto, m.ctr_port + i)
    if opts["userns"] and not _same_ns(opts["userns"], "user"):
        # the netns file is a mount in the pause process's mount namespace: join both
        _setns(opts["userns"], CLONE_NEWUSER)
        if opts["mntns"]:
            _setns(opts["mntns"], CLONE_NEWNS)
    if opts["netns"]:
        _setns(opts["netns"], CLONE_NEWNET)
    return fwd


def main(argv: list[str]) -> int:
    opts = _parse_argv(argv)
    extra = os.environ.pop("_HULL_PF_SYSPATH", "")
    if extra:  # cffi (for setns) lives in site-packages, which -S left out
        sys.path.extend(p for p in extra.split(os.pathsep) if p not in sys.path)
    if opts["daemon"]:
        _daemonize()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        fwd = setup(opts)
    except StartError as exc:
        _report(opts["sync"], f"error {exc.code} {exc}")
        return 1
    except Exception as exc:  # noqa: BLE001 - setns and friends: one line for the caller
        _report(opts["sync"], f"error 125 port forwarder: {exc}")
        return 1
    if opts["pidfile"]:
        tmp = opts["pidfile"] + ".tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        os.replace(tmp, opts["pidfile"])
    _report(opts["sync"], f"ok {os.getpid()}")
    try:
        fwd.run()
    except KeyboardInterrupt:
        pass
    return 0


# ======================================================================================
# The engine side (CLI process): start and stop
# ======================================================================================
def _pid_path(cfg, cid: str) -> str:
    return os.path.join(str(cfg.runroot), "containers", cid, PIDFILE)


def start_forwarder(cfg, cid: str, mappings: list, target_ip: str, netns_path: str | None = None,
                    *, udp_timeout: float = UDP_TIMEOUT, timeout: float = 30.0) -> int:
    """Start the forwarder for `mappings` (engine.spec.options.PortMapping, host ports
    resolved: see ports.resolve_host_ports) relaying to `target_ip`; `netns_path` is the
    namespace holding target_ip (rootless: {runroot}/netns/rootless-netns; root: None).
    Returns the detached forwarder's pid; raises CannotInvoke (126) with Podman's words
    when a port cannot be bound.  Call it while single-threaded or not: it is a fresh
    interpreter."""
    import select
    import subprocess

    from engine import errors

    if not mappings:
        raise errors.HullError("no ports to forward")
    args = []
    for m in mappings:
        if not m.host_port:
            raise errors.HullError(f"host port for container port {m.container_port} not chosen yet")
        if m.protocol not in ("tcp", "udp"):
            raise errors.HullError(f"can't forward protocol: {m.protocol}")
        args.append(f"{m.protocol},{m.host_ip},{m.host_port},{m.container_port},{m.range or 1}")
    run_dir = os.path.join(str(cfg.runroot), "containers", cid)
    os.makedirs(run_dir, mode=0o700, exist_ok=True)
    # -P: never import from the caller's working directory (an `engine/` there is not ours)
    argv = [sys.executable, "-P", "-S", "-m", "engine.network.portforward", "--target", target_ip,
            "--pidfile", _pid_path(cfg, cid), "--udp-timeout", str(udp_timeout)]
    if netns_path:
        argv += ["--netns", str(netns_path)]
        userns, mntns = _userns_paths(cfg)
        if userns:
            argv += ["--userns", userns, "--mntns", mntns]
    watch = os.path.join(str(cfg.runroot), "netns", cid)
    if os.path.lexists(watch):
        argv += ["--watch", watch]
    r, w = os.pipe()
    argv += ["--sync", str(w)] + args
    env = dict(os.environ)
    engine_parent = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env.update(PYTHONPATH=engine_parent,
               _HULL_PF_SYSPATH=os.pathsep.join(p for p in sys.path if p and p != engine_parent))
    env.pop("PYTHONSTARTUP", None)
    try:
        err_path = os.path.join(run_dir, "portforward.err")
        with open(err_path, "ab") as err:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err,
                                    pass_fds=(w,), cwd="/", env=env, close_fds=True)
    except OSError as exc:
        os.close(r)
        os.close(w)
        raise errors.HullError(f"starting the port forwarder: {exc.strerror}") from None
    os.close(w)
    try:
        proc.wait(timeout=timeout)  # the first generation exits once it has forked
        buf = b""
        deadline = time.monotonic() + timeout
        while not buf.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                raise errors.HullError("the port forwarder did not start")
            chunk = os.read(r, 4096)
            if not chunk:
                break
            buf += chunk
    except subprocess.TimeoutExpired:
        proc.kill()
        raise errors.HullError("the port forwarder did not start") from None
    finally:
        os.close(r)
    line = buf.decode("utf-8", "replace").strip()
    if line.startswith("ok "):
        return int(line.split()[1])
    if line.startswith("error "):
        _, code, message = line.split(" ", 2)
        cls = errors.CannotInvoke if code == "126" else errors.HullError
        raise cls(message)
    raise errors.HullError("the port forwarder exited early")


def setup_for(cfg, cid: str, doc: dict) -> int | None:
    """lifecycle's bridge branch, after bridge.setup merged its part into `doc`
    (network.json): start the forwarder for doc["ports"] (host ports chosen) towards the
    container's first address, in doc["host_netns"] (rootless netns; "" as root).
    Records the pid as doc["forwarder"]; None when nothing is published."""
    from engine.network.ports import from_dicts

    mappings = from_dicts(doc.get("ports") or [])
    ips = [ip for ip in doc.get("ips") or [] if ip]
    if not mappings or not ips:
        return None
    pid = start_forwarder(cfg, cid, mappings, ips[0].split("/", 1)[0], doc.get("host_netns") or None)
    doc["forwarder"] = pid
    return pid


def teardown_for(cfg, cid: str, doc: dict | None = None) -> None:
    """lifecycle's teardown: the forwarder goes (idempotent, a recycled pid is spared)."""
    stop_forwarder(cfg, cid, (doc or {}).get("forwarder") or None)


def _userns_paths(cfg) -> tuple[str, str]:
    """Rootless: the pause process's user and mount namespaces (the forwarder joins them
    when the caller was not inside them already)."""
    if not getattr(cfg, "rootless", False):
        return "", ""
    try:
        from engine.runtime.pause import read_pause

        proc = read_pause(cfg.runroot)
        return (proc.ns_path("user"), proc.ns_path("mnt")) if proc is not None else ("", "")
    except Exception:  # noqa: BLE001 - without them the forwarder tries the netns alone
        return "", ""


def forwarder_pid(cfg, cid: str) -> int | None:
    """The running forwarder of `cid`, checked by its command line (a recycled pid is
    never taken for it)."""
    try:
        with open(_pid_path(cfg, cid)) as fh:
            pid = int(fh.read().split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            cmdline = fh.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    if b"engine.network.portforward" not in cmdline or _pid_path(cfg, cid).encode() not in cmdline:
        return None
    return pid


def stop_forwarder(cfg, cid: str, pid: int | None = None, timeout: float = 5.0) -> None:
    """SIGTERM the forwarder of `cid` (SIGKILL after `timeout`) and remove its pid file;
    idempotent."""
    found = forwarder_pid(cfg, cid)
    pid = found if pid is None or pid == found else None
    if pid:
        try:
            os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.01)
            if _alive(pid):
                from engine.network.reap import kill_and_wait

                kill_and_wait(pid)  # gone before we return: the port is closed
        except ProcessLookupError:
            pass
    for name in (PIDFILE, "portforward.err"):
        try:
            os.unlink(os.path.join(str(cfg.runroot), "containers", cid, name))
        except FileNotFoundError:
            pass


def _alive(pid: int) -> bool:
    """Alive and not a zombie (a detached forwarder is reaped by init, but a test's
    --foreground child may linger as one)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
