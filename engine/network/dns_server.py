"""The per-user DNS responder (aardvark-dns style), run as `python -m engine.network.dns_server`.

One process serves every DNS-enabled network of one user.  For each records file
{dir}/<network> (JSON, written by engine/network/dns.py) it listens on UDP and TCP
`port` of each gateway address of that network.  A query is answered from the
records of the network whose socket it arrived on only:

  A/AAAA/ANY  container name, short ID (12 hex), full ID, --network-alias; the same
              under the search domain `dns.podman`; case-insensitive.  A known name
              without an address of the asked family: NOERROR with no answer.
  PTR         the container addresses of that network.
  NXDOMAIN    names under dns.podman that are not known, and names that belong to
              another network served by this process (isolation).
  anything else is forwarded to the upstream resolvers (the host's resolv.conf) with a
  timeout, over the transport the client used.

Robustness: every packet is parsed in a try; unparseable ones are dropped, responses
(QR=1) are never answered (no loops), UDP answers never exceed the client's stated
size (TC set instead), clients outside the network's subnets are ignored, and
forwards in flight are capped.  Reload on SIGHUP or when a records file changes;
exit when no network has records left.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import selectors
import signal
import socket
import struct
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from dnslib import AAAA, A, DNSRecord, PTR, QTYPE, RCODE, RR

DOMAIN = "dns.podman"
TTL = 60
FORWARD_TIMEOUT = 4.0          # per upstream attempt
MAX_FORWARDS = 64              # forwards in flight (UDP drops beyond, TCP waits)
MAX_TCP_CLIENTS = 32
TCP_IDLE = 10.0
RESCAN_INTERVAL = 1.0          # mtime poll for records changes (SIGHUP makes it immediate)
IP_FREEBIND = 15
IPV6_FREEBIND = 78


# ---------------------------------------------------------------- records
class NetworkRecords:
    """One network's records: name -> (ipv4s, ipv6s) and address -> names."""

    def __init__(self, name: str, doc: dict[str, Any]) -> None:
        self.name = name
        self.gateways: list[str] = [str(g) for g in doc.get("gateways") or []]
        self.subnets = [ipaddress.ip_network(s, strict=False) for s in doc.get("subnets") or []]
        self.names: dict[str, tuple[list[str], list[str]]] = {}
        self.reverse: dict[str, list[str]] = {}
        for cid, entry in sorted((doc.get("containers") or {}).items()):
            ips = [str(ipaddress.ip_address(a)) for a in entry.get("ips") or []]
            v4 = [a for a in ips if ":" not in a]
            v6 = [a for a in ips if ":" in a]
            labels = [entry.get("name") or ""] + list(entry.get("aliases") or []) + [cid[:12], cid]
            labels = [n.lower().rstrip(".") for n in labels if n]
            for n in dict.fromkeys(labels):
                old = self.names.get(n, ([], []))
                self.names[n] = (old[0] + v4, old[1] + v6)
            pretty = [n for n in [entry.get("name") or ""] + list(entry.get("aliases") or []) if n]
            for a in ips:
                self.reverse.setdefault(a, [])
                self.reverse[a] += [n for n in pretty if n not in self.reverse[a]]

    @property
    def empty(self) -> bool:
        return not self.names

    def allows(self, client: str) -> bool:
        if not self.subnets:
            return True
        try:
            addr = ipaddress.ip_address(client.split("%", 1)[0])
        except ValueError:
            return False
        if addr.version == 6 and addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        return any(addr in net for net in self.subnets if net.version == addr.version)


def load_records(directory: Path) -> dict[str, NetworkRecords]:
    out: dict[str, NetworkRecords] = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        if name.startswith(".") or "." in name:  # lock, pid, log, temp files
            continue
        try:
            with open(directory / name, encoding="utf-8") as fh:
                doc = json.load(fh)
            records = NetworkRecords(name, doc)
        except (OSError, ValueError, TypeError, AttributeError):
            continue
        if not records.empty:
            out[name] = records
    return out


def records_stamp(directory: Path) -> tuple:
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
        return tuple((e.name, e.stat().st_mtime_ns, e.stat().st_size) for e in entries
                     if not e.name.startswith(".") and "." not in e.name)
    except OSError:
        return ()


def read_upstreams(path: str, drop_loopback: bool) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            lines = fh.read(1 << 16).splitlines()
    except OSError:
        return out
    for line in lines:
        words = line.split()
        if len(words) >= 2 and words[0] == "nameserver":
            try:
                addr = ipaddress.ip_address(words[1].split("%", 1)[0])
            except ValueError:
                continue
            if drop_loopback and addr.is_loopback:
                continue
            out.append((str(addr), 53))
    return out


def parse_endpoint(text: str) -> tuple[str, int]:
    """IP, IP:PORT or [IPv6]:PORT."""
    if text.startswith("["):
        host, _, port = text[1:].partition("]:")
        return host.rstrip("]"), int(port or 53)
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, int(port)
    return text, 53


# ---------------------------------------------------------------- answering
def _reverse_name_to_ip(qname: str) -> str | None:
    labels = qname.lower().rstrip(".").split(".")
    if labels[-2:] == ["in-addr", "arpa"] and len(labels) == 6:
        try:
            return str(ipaddress.IPv4Address(".".join(reversed(labels[:4]))))
        except ValueError:
            return None
    if labels[-2:] == ["ip6", "arpa"] and len(labels) == 34:
        nibbles = "".join(reversed(labels[:32]))
        try:
            return str(ipaddress.IPv6Address(int(nibbles, 16)))
        except ValueError:
            return None
    return None


class Responder:
    def __init__(self, directory: Path, upstreams: list[tuple[str, int]], resolv_conf: str,
                 rootless_upstreams: list[tuple[str, int]]) -> None:
        self.directory = directory
        self.fixed_upstreams = upstreams
        self.resolv_conf = resolv_conf
        self.rootless_upstreams = rootless_upstreams
        self.networks: dict[str, NetworkRecords] = {}
        self.upstreams: list[tuple[str, int]] = []
        self.forwards = threading.BoundedSemaphore(MAX_FORWARDS)
        self.tcp_clients = threading.BoundedSemaphore(MAX_TCP_CLIENTS)
        self.pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="fwd")

    def reload(self) -> None:
        self.networks = load_records(self.directory)
        if self.fixed_upstreams:
            self.upstreams = list(self.fixed_upstreams)
        else:
            # rootless: host loopback resolvers are unreachable from the rootless netns;
            # the helper's DNS forwarder stands in for them.
            self.upstreams = self.rootless_upstreams + read_upstreams(
                self.resolv_conf, drop_loopback=bool(self.rootless_upstreams))
            if not self.upstreams:
                self.upstreams = [("8.8.8.8", 53), ("8.8.4.4", 53)]

    # -- local answers -----------------------------------------------------------------
    def local_answer(self, network: str, query: DNSRecord) -> DNSRecord | None:
        """The reply for `query` asked on `network`, or None to forward it."""
        records = self.networks.get(network)
        q = query.q
        qname = str(q.qname).lower().rstrip(".")
        reply = query.reply()  # QR, AA, RA, same id and question
        reply.header.rd = query.header.rd
        if q.qclass not in (1, 255):  # IN / ANY only
            return None
        if q.qtype == QTYPE.PTR:
            ip = _reverse_name_to_ip(qname)
            if ip is None or records is None:
                return None
            names = records.reverse.get(ip)
            if names:
                for n in names:
                    reply.add_answer(RR(q.qname, QTYPE.PTR, rdata=PTR(n + "."), ttl=TTL))
                return reply
            if any(ipaddress.ip_address(ip) in net for net in records.subnets):
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            return None
        short = qname[: -len(DOMAIN) - 1] if qname.endswith("." + DOMAIN) else qname
        found = records.names.get(short) if records else None
        if found is None:
            if qname == DOMAIN or qname.endswith("." + DOMAIN) or self._known_elsewhere(network, short):
                reply.header.rcode = RCODE.NXDOMAIN
                return reply
            return None
        v4, v6 = found
        if q.qtype in (QTYPE.A, QTYPE.ANY):
            for a in v4:
                reply.add_answer(RR(q.qname, QTYPE.A, rdata=A(a), ttl=TTL))
        if q.qtype in (QTYPE.AAAA, QTYPE.ANY):
            for a in v6:
                reply.add_answer(RR(q.qname, QTYPE.AAAA, rdata=AAAA(a), ttl=TTL))
        return reply  # other types of a known name: NOERROR, no data

    def _known_elsewhere(self, network: str, name: str) -> bool:
        return any(name in r.names for n, r in self.networks.items() if n != network)

    # -- packets -----------------------------------------------------------------------
    def handle(self, network: str, data: bytes, tcp: bool, client: str) -> bytes | None:
        """The wire reply to one query, or None to stay silent (may block to forward)."""
        answer, query = self.answer_locally(network, data, tcp, client)
        if query is not None:
            return self.forward(data, query, tcp, blocking=True)
        return answer

    def answer_locally(self, network: str, data: bytes, tcp: bool,
                       client: str) -> tuple[bytes | None, DNSRecord | None]:
        """(reply, None) when answered here, (None, query) when it must be forwarded."""
        records = self.networks.get(network)
        if records is None or not records.allows(client):
            return None, None
        try:
            query = DNSRecord.parse(data)
        except Exception:  # dnslib raises several types on garbage
            return _formerr(data), None
        if query.header.qr:
            return None, None
        if query.header.opcode != 0 or len(query.questions) != 1 or query.rr or query.auth:
            return _formerr(data), None
        try:
            reply = self.local_answer(network, query)
        except Exception:
            err = query.reply()
            err.header.rcode = RCODE.SERVFAIL
            return _fit(err, query, tcp), None
        if reply is not None:
            return _fit(reply, query, tcp), None
        return None, query

    def forward(self, data: bytes, query: DNSRecord, tcp: bool, blocking: bool) -> bytes | None:
        if not self.forwards.acquire(blocking=blocking):
            return None  # overloaded: a UDP client retries
        try:
            for host, port in self.upstreams:
                try:
                    answer = _ask_tcp(host, port, data) if tcp else _ask_udp(host, port, data)
                except OSError:
                    continue
                if answer is None or len(answer) < 12 or answer[:2] != data[:2]:
                    continue
                if not tcp and len(answer) > _udp_limit(query):
                    try:
                        parsed = DNSRecord.parse(answer)
                        return _fit(parsed, query, tcp)
                    except Exception:
                        continue
                return answer
            err = query.reply()
            err.header.rcode = RCODE.SERVFAIL
            return _fit(err, query, tcp)
        finally:
            self.forwards.release()


def _formerr(data: bytes) -> bytes | None:
    """FORMERR with the client's id for a packet whose header parses; else silence.
    The reply is a bare 12-byte header: never larger than what was sent."""
    if len(data) < 12 or data[2] & 0x80:
        return None
    flags = 0x8000 | (data[2] & 0x79) << 8 | 0x80 | RCODE.FORMERR  # QR, opcode+RD kept, RA
    return data[:2] + struct.pack("!HHHHH", flags, 0, 0, 0, 0)


def _udp_limit(query: DNSRecord) -> int:
    for rr in query.ar:
        if rr.rtype == QTYPE.OPT:
            return max(512, min(int(rr.rclass), 4096))
    return 512


def _fit(reply: DNSRecord, query: DNSRecord, tcp: bool) -> bytes:
    data = reply.pack()
    if tcp or len(data) <= _udp_limit(query):
        return data
    reply.rr, reply.auth, reply.ar = [], [], []
    reply.header.tc = 1
    return reply.pack()


def _ask_udp(host: str, port: int, data: bytes) -> bytes | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.settimeout(FORWARD_TIMEOUT)
        s.connect((host, port))
        s.send(data)
        deadline = time.monotonic() + FORWARD_TIMEOUT
        while True:
            s.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                answer = s.recv(65535)
            except TimeoutError:
                return None
            if answer[:2] == data[:2]:
                return answer
            if time.monotonic() >= deadline:
                return None


def _ask_tcp(host: str, port: int, data: bytes) -> bytes | None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.settimeout(FORWARD_TIMEOUT)
        s.connect((host, port))
        s.sendall(struct.pack("!H", len(data)) + data)
        head = _recv_exact(s, 2)
        if head is None:
            return None
        return _recv_exact(s, struct.unpack("!H", head)[0])


def _recv_exact(s: socket.socket, n: int) -> bytes | None:
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


# ---------------------------------------------------------------- sockets and loop
class Server:
    def __init__(self, responder: Responder, port: int) -> None:
        self.responder = responder
        self.port = port
        self.sel = selectors.DefaultSelector()
        self.bound: dict[tuple[str, str], list[socket.socket]] = {}  # (network, gw) -> socks
        self.hup = threading.Event()
        self.stamp: tuple = ()

    def sync(self) -> None:
        """Reload records and open/close the sockets to match them."""
        self.stamp = records_stamp(self.responder.directory)
        self.responder.reload()
        wanted = {(n, gw) for n, r in self.responder.networks.items() for gw in r.gateways}
        for key in list(self.bound):
            if key not in wanted:
                for s in self.bound.pop(key):
                    self.sel.unregister(s)
                    s.close()
        for key in sorted(wanted - set(self.bound)):
            try:
                self.bound[key] = self._open(*key)
            except OSError as exc:
                print(f"dns: cannot listen on {key[1]}:{self.port}: {exc}", file=sys.stderr, flush=True)

    def _open(self, network: str, gateway: str) -> list[socket.socket]:
        v6 = ":" in gateway
        family = socket.AF_INET6 if v6 else socket.AF_INET
        socks = []
        try:
            for kind in (socket.SOCK_DGRAM, socket.SOCK_STREAM):
                s = socket.socket(family, kind)
                socks.append(s)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                # the bridge may get its address after we start: bind anyway
                if v6:
                    s.setsockopt(socket.IPPROTO_IPV6, IPV6_FREEBIND, 1)
                    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                else:
                    s.setsockopt(socket.IPPROTO_IP, IP_FREEBIND, 1)
                s.bind((gateway, self.port))
                if kind == socket.SOCK_STREAM:
                    s.listen(16)
                s.setblocking(False)
        except OSError:
            for s in socks:
                s.close()
            raise
        for s in socks:
            self.sel.register(s, selectors.EVENT_READ, (network, s.type))
        return socks

    def run(self, lockfile: str, pidfile: str) -> None:
        last = time.monotonic()
        while True:
            if not self.responder.networks and self._may_exit(lockfile, pidfile):
                return
            for key, _ in self.sel.select(timeout=RESCAN_INTERVAL):
                network, kind = key.data
                if kind == socket.SOCK_DGRAM:
                    self._udp(key.fileobj, network)
                else:
                    self._accept(key.fileobj, network)
            now = time.monotonic()
            if self.hup.is_set() or now - last >= RESCAN_INTERVAL:
                last = now
                if self.hup.is_set() or records_stamp(self.responder.directory) != self.stamp:
                    self.hup.clear()
                    self.sync()

    def _may_exit(self, lockfile: str, pidfile: str) -> bool:
        """Idle: leave, unless a register() raced us.  Under the launcher's lock the
        records are read once more and the pid file goes with us, so a launcher either
        sees us gone (and starts a new responder) or sees us stay."""
        import fcntl

        fd = os.open(lockfile, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600) if lockfile else -1
        try:
            if fd >= 0:
                fcntl.flock(fd, fcntl.LOCK_EX)
            self.sync()
            if self.responder.networks:
                return False
            _remove_pidfile(pidfile)
            return True
        finally:
            if fd >= 0:
                os.close(fd)

    def _udp(self, s: Any, network: str) -> None:
        for _ in range(64):  # drain what is queued, but let other sockets have a turn
            try:
                data, addr = s.recvfrom(4096)
            except OSError:  # includes BlockingIOError: nothing more queued
                return
            try:
                answer, query = self.responder.answer_locally(network, data, False, addr[0])
                if query is not None:
                    # upstream round trips happen off the loop; beyond the cap, drop
                    if self.responder.forwards.acquire(blocking=False):
                        self.responder.pool.submit(self._forward_udp, s, data, query, addr)
                elif answer is not None:
                    s.sendto(answer, addr)
            except Exception as exc:  # never let one packet end the responder
                print(f"dns: udp query from {addr[0]}: {exc}", file=sys.stderr, flush=True)

    def _forward_udp(self, s: Any, data: bytes, query: DNSRecord, addr: Any) -> None:
        self.responder.forwards.release()  # taken by _udp to bound the queue; forward retakes
        try:
            answer = self.responder.forward(data, query, False, blocking=True)
            if answer is not None:
                s.sendto(answer, addr)
        except Exception as exc:
            print(f"dns: forwarding for {addr[0]}: {exc}", file=sys.stderr, flush=True)

    def _accept(self, s: Any, network: str) -> None:
        try:
            conn, addr = s.accept()
        except OSError:
            return
        if not self.responder.tcp_clients.acquire(blocking=False):
            conn.close()
            return
        threading.Thread(target=self._tcp_client, args=(conn, network, addr[0]), daemon=True).start()

    def _tcp_client(self, conn: socket.socket, network: str, client: str) -> None:
        try:
            conn.setblocking(True)
            conn.settimeout(TCP_IDLE)
            while True:
                head = _recv_exact(conn, 2)
                if head is None:
                    return
                data = _recv_exact(conn, struct.unpack("!H", head)[0])
                if data is None:
                    return
                answer = self.responder.handle(network, data, True, client)
                if answer is None:
                    return
                conn.sendall(struct.pack("!H", len(answer)) + answer)
        except (OSError, ValueError):
            pass
        finally:
            conn.close()
            self.responder.tcp_clients.release()


def _enter_netns(path: str) -> None:
    import ctypes

    clone_newnet = 0x40000000
    libc = ctypes.CDLL(None, use_errno=True)  # os.setns is 3.12+
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, clone_newnet) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {path}: {os.strerror(err)}")
    finally:
        os.close(fd)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="hull-dns")
    p.add_argument("--dir", required=True, help="records directory")
    p.add_argument("--port", type=int, default=53)
    p.add_argument("--pidfile", default="")
    p.add_argument("--lockfile", default="")
    p.add_argument("--upstream", action="append", default=[], help="IP[:PORT]; replaces resolv.conf")
    p.add_argument("--rootless-upstream", action="append", default=[],
                   help="stands in for the host's loopback resolvers")
    p.add_argument("--resolv-conf", default="/etc/resolv.conf")
    p.add_argument("--netns", default="", help="network namespace file to serve in")
    p.add_argument("--ready-fd", type=int, default=-1)
    args = p.parse_args(argv)
    if args.netns:
        _enter_netns(args.netns)
    responder = Responder(Path(args.dir), [parse_endpoint(u) for u in args.upstream], args.resolv_conf,
                          [parse_endpoint(u) for u in args.rootless_upstream])
    server = Server(responder, args.port)
    # handlers before the pid file and readiness: a register() may SIGHUP us at once
    signal.signal(signal.SIGHUP, lambda *_: server.hup.set())
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    server.sync()
    if args.pidfile:
        tmp = f"{args.pidfile}.{os.getpid()}.tmp"
        with open(tmp, "w") as fh:
            fh.write(f"{os.getpid()}\n")
        os.replace(tmp, args.pidfile)
    if args.ready_fd >= 0:
        os.write(args.ready_fd, b"1")
        os.close(args.ready_fd)
    try:
        server.run(args.lockfile, args.pidfile)
    except SystemExit:
        pass
    finally:
        _remove_pidfile(args.pidfile)
    return 0


def _remove_pidfile(pidfile: str) -> None:
    """Unlink the pid file only while it still names us."""
    if not pidfile:
        return
    try:
        with open(pidfile) as fh:
            if fh.read().strip() == str(os.getpid()):
                os.unlink(pidfile)
    except OSError:
        pass


if __name__ == "__main__":
    sys.exit(main())
