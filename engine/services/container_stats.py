"""`top` and `stats`: a running container's processes and usage, from /proc and cgroups.

The container's processes are those in its init's PID namespace (compared by
the namespace's inode).  `top` takes ps-like descriptors (Podman's psgo names;
default `user pid ppid %cpu etime tty time args`): PIDs as the container sees
them (the last NSpid), users and groups named from the container's own
/etc/passwd and /etc/group (read in-root, size-limited), never the host's.
`stats` reads network counters from the init's /proc/PID/net/dev and block I/O
from the processes' /proc/PID/io.  Memory and CPU come from the container's own
cgroup (v2 memory.current / cpu.stat, v1 memory / cpuacct) - only a cgroup whose
name carries the container's ID counts as its own: a container the runtime could
not give a cgroup sits in its parent's (the user's session, the whole machine),
whose usage is not the container's.  Without one, memory is the sum of the
processes' PSS (/proc/PID/smaps_rollup; RSS where that is unreadable) and CPU the
processes' user+system time plus their reaped children's.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from engine.config import EngineConfig
from engine.errors import Conflict, InvalidArgument
from engine.services.common import enter_userns
from engine.services.container_fs import live_proc, lookup

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
DEFAULT_DESCRIPTORS = ["user", "pid", "ppid", "pcpu", "etime", "tty", "time", "args"]

# descriptor -> header (psgo's names; `%cpu` style aliases below)
HEADERS = {
    "args": "COMMAND", "comm": "COMMAND", "etime": "ELAPSED", "group": "GROUP", "hgroup": "HGROUP",
    "hpid": "HPID", "huser": "HUSER", "nice": "NI", "pcpu": "%CPU", "pgid": "PGID", "pid": "PID",
    "ppid": "PPID", "rgroup": "RGROUP", "ruser": "RUSER", "state": "STATE", "stime": "STIME",
    "time": "TIME", "tty": "TTY", "user": "USER", "vsz": "VSZ", "rss": "RSS", "uid": "UID", "gid": "GID",
}
ALIASES = {"%cpu": "pcpu", "cmd": "args", "command": "args", "ucomm": "comm", "%c": "pcpu",
           "etimes": "etime", "cputime": "time", "uname": "user", "euser": "user"}


# -- /proc reading --------------------------------------------------------------------------
@dataclass
class Proc:
    pid: int                 # host pid (in our namespace)
    ns_pid: int              # as the container sees it
    ns_ppid: int
    comm: str
    args: str
    state: str
    ppid: int
    pgid: int
    nice: int
    tty_nr: int
    utime: int               # clock ticks
    stime: int
    cutime: int              # reaped children's, clock ticks
    cstime: int
    start: int               # clock ticks after boot
    vsize: int
    rss_pages: int
    uids: tuple[int, ...]    # real, effective, saved, fs
    gids: tuple[int, ...]
    read_bytes: int = 0
    write_bytes: int = 0


def _read(path: str, limit: int = 1 << 20) -> bytes | None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return os.read(fd, limit)
    except OSError:
        return None
    finally:
        os.close(fd)


def read_proc(pid: int) -> Proc | None:
    stat = _read(f"/proc/{pid}/stat")
    status = _read(f"/proc/{pid}/status")
    if stat is None or status is None:
        return None
    try:
        head, _, rest = stat.rpartition(b")")
        comm = head.partition(b"(")[2].decode(errors="replace")
        f = rest.split()
        fields: dict[str, list[str]] = {}
        for line in status.decode(errors="replace").splitlines():
            key, _, value = line.partition(":")
            fields[key] = value.split()
        nspid = [int(x) for x in fields.get("NSpid", [str(pid)])]
        cmdline = _read(f"/proc/{pid}/cmdline") or b""
        args = " ".join(a.decode(errors="replace") for a in cmdline.rstrip(b"\0").split(b"\0")) if cmdline else f"[{comm}]"
        proc = Proc(pid=pid, ns_pid=nspid[-1], ns_ppid=0, comm=comm, args=args, state=f[0].decode(),
                    ppid=int(f[1]), pgid=int(f[2]), nice=int(f[16]), tty_nr=int(f[4]),
                    utime=int(f[11]), stime=int(f[12]), cutime=int(f[13]), cstime=int(f[14]), start=int(f[19]), vsize=int(f[20]),
                    rss_pages=int(f[21]), uids=tuple(int(x) for x in fields.get("Uid", ["0"] * 4)),
                    gids=tuple(int(x) for x in fields.get("Gid", ["0"] * 4)))
    except (IndexError, ValueError):
        return None
    io = _read(f"/proc/{pid}/io")
    if io:
        for line in io.decode().splitlines():
            key, _, value = line.partition(":")
            if key == "read_bytes":
                proc.read_bytes = int(value)
            elif key == "write_bytes":
                proc.write_bytes = int(value)
    return proc


def _ns_inode(pid: int) -> int | None:
    try:
        return os.stat(f"/proc/{pid}/ns/pid").st_ino
    except OSError:
        return None


def members(init_pid: int) -> list[Proc]:
    """The processes in the PID namespace of `init_pid`, sorted by their pid there."""
    want = _ns_inode(init_pid)
    if want is None:
        return []
    found: list[Proc] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        if pid != init_pid and _ns_inode(pid) != want:
            continue
        proc = read_proc(pid)
        if proc is None or (proc.state in ("Z", "X") and pid != init_pid):
            continue
        found.append(proc)
    by_host = {p.pid: p.ns_pid for p in found}
    for p in found:
        p.ns_ppid = by_host.get(p.ppid, 0)
    return sorted(found, key=lambda p: p.ns_pid)


def _uptime_ticks() -> float:
    data = _read("/proc/uptime") or b"0"
    return float(data.split()[0]) * CLK_TCK


# -- formatting (psgo / Go's time.Duration) ------------------------------------------------------
def go_duration(seconds: float) -> str:
    """Go's time.Duration.String(): "0s", "1.5s", "2m3.25s", "1h0m0s", "250ms"."""
    ns = int(round(seconds * 1e9))
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    ns = abs(ns)
    if ns < 1_000_000_000:
        for unit, size in (("ms", 1_000_000), ("µs", 1_000), ("ns", 1)):
            if ns >= size:
                text = f"{ns / size:.9f}".rstrip("0").rstrip(".")
                return f"{sign}{text}{unit}"
    hours, rem = divmod(ns, 3600 * 10**9)
    minutes, rem = divmod(rem, 60 * 10**9)
    secs = f"{rem / 1e9:.9f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{sign}{hours}h{minutes}m{secs}"
    if minutes:
        return f"{sign}{minutes}m{secs}"
    return sign + secs


def tty_name(tty_nr: int) -> str:
    if tty_nr == 0:
        return "?"
    major, minor = os.major(tty_nr), os.minor(tty_nr)
    if 136 <= major <= 143:
        return f"pts/{(major - 136) * 256 + minor}"
    if major == 4:
        return f"tty{minor}" if minor < 64 else f"ttyS{minor - 64}"
    return "?"


def parse_descriptors(words: list[str]) -> list[str]:
    """`pid,user` or `pid user` or `-eo pid,user` -> canonical descriptor names."""
    out: list[str] = []
    for word in words:
        if word in ("-e", "-eo", "-o", "-A", "-ef", "aux"):
            continue
        for part in word.replace(",", " ").split():
            key = ALIASES.get(part.lower(), part.lower())
            if key not in HEADERS:
                raise InvalidArgument(f"'{part}': unknown descriptor")
            out.append(key)
    return out or list(DEFAULT_DESCRIPTORS)


class Accounts:
    """uid/gid -> name from the container's /etc/passwd and /etc/group."""

    def __init__(self, root_fd: int | None) -> None:
        self.users: dict[int, str] = {}
        self.groups: dict[int, str] = {}
        if root_fd is None:
            return
        from engine.spec.users import parse_group, parse_passwd, read_root_file

        for entry in parse_passwd(read_root_file(root_fd, "/etc/passwd") or ""):
            self.users.setdefault(entry.uid, entry.name)
        for group in parse_group(read_root_file(root_fd, "/etc/group") or ""):
            self.groups.setdefault(group.gid, group.name)

    def user(self, uid: int) -> str:
        return self.users.get(uid, str(uid))

    def group(self, gid: int) -> str:
        return self.groups.get(gid, str(gid))


def _host_name(uid: int, group: bool = False) -> str:
    try:
        if group:
            import grp

            return grp.getgrgid(uid).gr_name
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (KeyError, ImportError):
        return str(uid)


def cell(desc: str, p: Proc, acc: Accounts, now_ticks: float) -> str:
    elapsed = max(0.0, (now_ticks - p.start) / CLK_TCK)
    cpu = (p.utime + p.stime) / CLK_TCK
    if desc == "pid":
        return str(p.ns_pid)
    if desc == "ppid":
        return str(p.ns_ppid)
    if desc == "hpid":
        return str(p.pid)
    if desc == "user":
        return acc.user(p.uids[1])
    if desc == "ruser":
        return acc.user(p.uids[0])
    if desc == "group":
        return acc.group(p.gids[1])
    if desc == "rgroup":
        return acc.group(p.gids[0])
    if desc == "huser":
        return _host_name(p.uids[1])
    if desc == "hgroup":
        return _host_name(p.gids[1], group=True)
    if desc == "uid":
        return str(p.uids[1])
    if desc == "gid":
        return str(p.gids[1])
    if desc == "pcpu":
        return f"{(cpu / elapsed * 100) if elapsed > 0 else 0.0:.3f}"
    if desc == "etime":
        return go_duration(elapsed)
    if desc == "time":
        return go_duration(float(int(cpu)))
    if desc == "tty":
        return tty_name(p.tty_nr)
    if desc == "args":
        return p.args
    if desc == "comm":
        return p.comm
    if desc == "nice":
        return str(p.nice)
    if desc == "pgid":
        return str(p.pgid)
    if desc == "state":
        return p.state
    if desc == "vsz":
        return str(p.vsize // 1024)
    if desc == "rss":
        return str(p.rss_pages * PAGE // 1024)
    if desc == "stime":
        boot = time.time() - _uptime_ticks() / CLK_TCK
        return time.strftime("%Y-%m-%d %H:%M:%S %z", time.localtime(boot + p.start / CLK_TCK))
    raise InvalidArgument(f"'{desc}': unknown descriptor")


def _running(cfg: EngineConfig, name: str):
    enter_userns(cfg)
    store, container = lookup(cfg, name)
    return store, container


def top(cfg: EngineConfig, name: str, descriptors: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of the container's processes."""
    descs = parse_descriptors(list(descriptors or []))
    store, container = _running(cfg, name)
    with live_proc(store, container) as live:
        if live is None:
            raise Conflict("top can only be used on running containers")
        pid, proc_fd = live
        try:
            root_fd = os.open("root", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=proc_fd)
        except OSError:
            root_fd = None
        try:
            acc = Accounts(root_fd)
        finally:
            if root_fd is not None:
                os.close(root_fd)
        procs = members(pid)
    now = _uptime_ticks()
    return [HEADERS[d] for d in descs], [[cell(d, p, acc, now) for d in descs] for p in procs]


# -- stats ---------------------------------------------------------------------------------------
@dataclass
class Stats:
    id: str
    name: str
    cpu_nano: int = 0            # total CPU time used
    cpu_percent: float = 0.0     # since the previous sample (or since start)
    avg_cpu: float = 0.0         # since start
    mem_usage: int = 0
    mem_limit: int = 0
    mem_percent: float = 0.0
    net_input: int = 0
    net_output: int = 0
    block_input: int = 0
    block_output: int = 0
    pids: int = 0
    system_nano: int = 0         # wall clock of the sample


_previous: dict[str, tuple[int, int]] = {}   # id -> (cpu_nano, system_nano): streaming CPU %


def _cgroup_dirs(pid: int) -> dict[str, str]:
    """controller ('' for v2) -> path of the process's cgroup under /sys/fs/cgroup."""
    out: dict[str, str] = {}
    data = (_read(f"/proc/{pid}/cgroup") or b"").decode()
    for line in data.splitlines():
        _, controllers, path = line.split(":", 2)
        if not controllers:
            for base in ("/sys/fs/cgroup/unified", "/sys/fs/cgroup"):
                if os.path.exists(base + path + "/cgroup.procs"):
                    out[""] = base + path
                    break
        for c in controllers.split(","):
            if c and os.path.isdir(f"/sys/fs/cgroup/{c}{path}"):
                out[c] = f"/sys/fs/cgroup/{c}{path}"
    return out


def _int_file(path: str) -> int | None:
    data = _read(path)
    if data is None:
        return None
    text = data.strip()
    if text == b"max":
        return None
    try:
        return int(text)
    except ValueError:
        return None


def _own_cgroups(pid: int, cid: str) -> dict[str, str]:
    """The cgroups of `pid` that belong to the container (their name has its ID)."""
    return {c: path for c, path in _cgroup_dirs(pid).items() if cid in os.path.basename(path.rstrip("/"))}


def _pss(pid: int) -> int | None:
    """Proportional set size in bytes: shared pages (busybox's text, libc) counted once overall."""
    data = _read(f"/proc/{pid}/smaps_rollup")
    if not data:
        return None
    for line in data.decode(errors="replace").splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) * 1024
    return None


def _memory(groups: dict[str, str], procs: list[Proc]) -> tuple[int, int]:
    total = _meminfo_total()
    usage = limit = None
    if "" in groups:
        usage = _int_file(groups[""] + "/memory.current")
        limit = _int_file(groups[""] + "/memory.max")
    if usage is None and "memory" in groups:
        usage = _int_file(groups["memory"] + "/memory.usage_in_bytes")
        limit = _int_file(groups["memory"] + "/memory.limit_in_bytes")
    if usage is None:  # no cgroup of its own: the processes' memory
        usage = 0
        for p in procs:
            pss = _pss(p.pid)
            usage += pss if pss is not None else p.rss_pages * PAGE
        limit = None
    if limit is None or limit <= 0 or limit > total:
        limit = total
    return usage, limit


def _cpu_nano(groups: dict[str, str], procs: list[Proc]) -> int:
    """CPU time used, in ns: the cgroup's (it keeps exited processes' time), else the processes'."""
    if "" in groups:
        for line in (_read(groups[""] + "/cpu.stat") or b"").decode().splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec" and value.strip().isdigit():
                return int(value) * 1000
    if "cpuacct" in groups:
        usage = _int_file(groups["cpuacct"] + "/cpuacct.usage")
        if usage is not None:
            return usage
    return sum(p.utime + p.stime + p.cutime + p.cstime for p in procs) * 10**9 // CLK_TCK


def _meminfo_total() -> int:
    for line in (_read("/proc/meminfo") or b"").decode().splitlines():
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    return 0


def _net(proc_fd: int) -> tuple[int, int]:
    try:
        fd = os.open("net/dev", os.O_RDONLY | os.O_CLOEXEC, dir_fd=proc_fd)
        try:
            data = os.read(fd, 1 << 20).decode()
        finally:
            os.close(fd)
    except OSError:
        return 0, 0
    rx = tx = 0
    for line in data.splitlines()[2:]:
        name, _, rest = line.partition(":")
        if name.strip() == "lo":
            continue
        f = rest.split()
        if len(f) >= 9:
            rx += int(f[0])
            tx += int(f[8])
    return rx, tx


def sample(store: Any, container: Any) -> Stats:
    """One sample of a container (zeros when it is not running, as Podman shows)."""
    s = Stats(id=container.id, name=container.name, system_nano=time.time_ns())
    with live_proc(store, container) as live:
        if live is None:
            return s
        pid, proc_fd = live
        procs = members(pid)
        s.net_input, s.net_output = _net(proc_fd)
    init = next((p for p in procs if p.pid == pid), None)
    s.pids = len(procs)
    groups = _own_cgroups(pid, container.id)
    s.cpu_nano = _cpu_nano(groups, procs)
    s.block_input = sum(p.read_bytes for p in procs)
    s.block_output = sum(p.write_bytes for p in procs)
    s.mem_usage, s.mem_limit = _memory(groups, procs)
    s.mem_percent = 100.0 * s.mem_usage / s.mem_limit if s.mem_limit else 0.0
    if init is not None:
        ran_ns = max(1, int((_uptime_ticks() - init.start) / CLK_TCK * 1e9))
        s.avg_cpu = 100.0 * s.cpu_nano / ran_ns
    prev = _previous.get(container.id)
    if prev is not None and s.system_nano > prev[1]:
        s.cpu_percent = 100.0 * max(0, s.cpu_nano - prev[0]) / (s.system_nano - prev[1])
    else:
        s.cpu_percent = s.avg_cpu
    _previous[container.id] = (s.cpu_nano, s.system_nano)
    return s


def stats(cfg: EngineConfig, names: list[str]) -> list[Stats]:
    """A sample of each named container, in the order given."""
    enter_userns(cfg)
    out = []
    for name in names:
        store, container = lookup(cfg, name)
        out.append(sample(store, container))
    return out
