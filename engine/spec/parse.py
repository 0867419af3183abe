"""Text -> typed values for every `run`/`create` flag that has a syntax of its own.

Shared by the CLI, the REST API and the console, so the same string is accepted or
refused the same way everywhere.  Syntax and error wording follow Podman (its
pkg/specgenutil, c/common pkg/parse, go-units); each error is one line that names
the flag or the offending text, raised as InvalidArgument.
"""

from __future__ import annotations

import os
import posixpath
import re
import signal as _signal

from engine.errors import InvalidArgument
from engine.spec.options import (DeviceSpec, HealthConfig, IDMapping, MountSpec, RestartPolicy,
                                 SecretSpec, SecurityOptions, Ulimit, HEALTH_ON_FAILURE)

TYPE_CHECKING = False  # typing costs ms on every run/create
if TYPE_CHECKING:
    from typing import Iterable, Mapping

_PROPAGATIONS = ("shared", "rshared", "private", "rprivate", "slave", "rslave",
                 "unbindable", "runbindable")
ERR_OPTION_ARG = "must provide an argument for option"
ERR_NO_DEST = "must set volume destination"
ERR_BAD_MNT_OPTION = "invalid mount option"
MAX_ENV_FILE = 1 << 20


# --------------------------------------------------------------------------- sizes, numbers

_SIZE_RE = re.compile(r"^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$")
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


# Podman's specgenutil words these flags' bad sizes itself (not cobra's "invalid argument")
_SIZE_CONTEXT = {"--memory": "invalid value for memory", "--memory-reservation": "invalid value for memory",
                 "--memory-swap": "invalid value for memory", "--shm-size": "unable to translate --shm-size"}


def parse_size(text: str, flag: str = "size") -> int:
    """go-units RAMInBytes: `512m`, `1g`, `1024b`, `1.5GiB`, plain bytes; binary units."""
    m = _SIZE_RE.match(text.strip())
    number = None
    if m:
        try:
            number = float(m.group(1))
        except ValueError:
            pass
    if number is None:
        context = _SIZE_CONTEXT.get(flag, f'invalid argument "{text}" for "{flag}" flag')
        raise InvalidArgument(f"{context}: invalid size: '{text}'")
    return int(number * _UNITS[(m.group(2) or "").lower()])


def parse_cpus(text: str | float) -> float:
    """--cpus 1.5 -> 1.5 (quota/period are derived in generate)."""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise InvalidArgument(f'invalid argument "{text}" for "--cpus" flag: '
                              f'strconv.ParseFloat: parsing "{text}": invalid syntax') from None
    if value < 0 or value != value or value == float("inf"):
        raise InvalidArgument(f'invalid argument "{text}" for "--cpus" flag: range of CPUs is from 0.01 to {os.cpu_count()}.00, as there are only {os.cpu_count()} CPUs available')
    return value


def parse_int(text: str, flag: str, minimum: int | None = None) -> int:
    try:
        value = int(str(text).strip(), 10)
    except ValueError:
        raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: '
                              f'strconv.ParseInt: parsing "{text}": invalid syntax') from None
    if minimum is not None and value < minimum:
        raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: must be >= {minimum}')
    return value


# --------------------------------------------------------------------------- durations

_DUR_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0,
              "m": 60.0, "h": 3600.0}
_DUR_PART = re.compile(r"(\d*\.?\d*)([^\d.]*)")


def parse_duration(text: str, flag: str = "duration") -> float:
    """Go's time.ParseDuration (`1m30s`, `1.5h`, `300ms`, `-2s`, `0`) -> seconds."""
    orig = text
    s = text.strip()
    sign = 1.0
    if s[:1] in ("-", "+"):
        sign = -1.0 if s[0] == "-" else 1.0
        s = s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise _bad_duration(orig, flag, f'time: invalid duration "{orig}"')
    total = 0.0
    pos = 0
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        number, unit = m.group(1), m.group(2)
        if not number or number == ".":
            raise _bad_duration(orig, flag, f'time: invalid duration "{orig}"')
        if not unit:
            raise _bad_duration(orig, flag, f'time: missing unit in duration "{orig}"')
        if unit not in _DUR_UNITS:
            raise _bad_duration(orig, flag, f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(number) * _DUR_UNITS[unit]
        pos = m.end()
    return sign * total


def _bad_duration(text: str, flag: str, why: str) -> InvalidArgument:
    return InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: {why}')


# --------------------------------------------------------------------------- signals

def parse_signal(text: str | int) -> int:
    """`SIGTERM`, `term`, `15`, `RTMIN+3` -> signal number (Podman's ParseSignal)."""
    raw = str(text).strip()
    if raw.isdigit():
        num = int(raw)
        if num < 1 or num > 64:
            raise InvalidArgument(f"invalid signal number: {raw}")
        return num
    name = raw.upper()
    if name.startswith("SIG"):
        name = name[3:]
    m = re.fullmatch(r"RT(MIN|MAX)([+-]\d+)?", name)
    if m:
        base = _signal.SIGRTMIN if m.group(1) == "MIN" else _signal.SIGRTMAX
        num = int(base) + int(m.group(2) or 0)
        if _signal.SIGRTMIN <= num <= _signal.SIGRTMAX:
            return num
        raise InvalidArgument(f"invalid signal: {raw}")
    sig = getattr(_signal, "SIG" + name, None)
    if name and isinstance(sig, _signal.Signals):
        return int(sig)
    raise InvalidArgument(f"invalid signal: {raw}")


# --------------------------------------------------------------------------- ulimits

ULIMIT_NAMES = {
    "as": "RLIMIT_AS", "core": "RLIMIT_CORE", "cpu": "RLIMIT_CPU", "data": "RLIMIT_DATA",
    "fsize": "RLIMIT_FSIZE", "locks": "RLIMIT_LOCKS", "memlock": "RLIMIT_MEMLOCK",
    "msgqueue": "RLIMIT_MSGQUEUE", "nice": "RLIMIT_NICE", "nofile": "RLIMIT_NOFILE",
    "nproc": "RLIMIT_NPROC", "rss": "RLIMIT_RSS", "rtprio": "RLIMIT_RTPRIO",
    "rttime": "RLIMIT_RTTIME", "sigpending": "RLIMIT_SIGPENDING", "stack": "RLIMIT_STACK",
}


def _ulimit_value(text: str, arg: str) -> int:
    if text in ("unlimited", "-1"):
        return -1
    try:
        value = int(text, 10)
    except ValueError:
        raise InvalidArgument(f"invalid ulimit argument: {arg}") from None
    if value < 0:
        raise InvalidArgument(f"invalid ulimit argument: {arg}")
    return value


def parse_ulimit(text: str) -> Ulimit:
    """go-units ParseUlimit: `nofile=1024:2048`, `nproc=512` (soft = hard), -1/unlimited."""
    name, sep, values = text.partition("=")
    if not sep or not values:
        raise InvalidArgument(f"invalid ulimit argument: {text}")
    name = name.strip()
    if name not in ULIMIT_NAMES:
        raise InvalidArgument(f"invalid ulimit type: {name}")
    parts = values.split(":")
    if len(parts) > 2:
        raise InvalidArgument(f"too many limit value arguments - {values}, can only have up to two, `soft[:hard]`")
    soft = _ulimit_value(parts[0], text)
    hard = _ulimit_value(parts[1], text) if len(parts) == 2 else soft
    if hard != -1 and (soft == -1 or soft > hard):
        raise InvalidArgument(f"ulimit soft limit must be less than or equal to hard limit: {soft} > {hard}")
    return Ulimit(name=name, soft=soft, hard=hard)


# --------------------------------------------------------------------------- restart

def parse_restart(text: str) -> RestartPolicy:
    """`no|never|on-failure[:N]|always|unless-stopped` (Podman's ParseRestartPolicy)."""
    parts = text.split(":")
    if len(parts) > 2:
        raise InvalidArgument("invalid restart policy: may specify retries at most once")
    name = parts[0].lower()
    retries = 0
    if len(parts) == 2:
        if name != "on-failure":
            raise InvalidArgument("restart policy retries can only be specified with on-failure restart policy")
        try:
            retries = int(parts[1])
        except ValueError:
            raise InvalidArgument(f'parsing restart policy retry count: strconv.Atoi: parsing "{parts[1]}": invalid syntax') from None
        if retries < 0:
            raise InvalidArgument("must specify restart policy retry count as a number greater than 0")
    if name in ("", "no", "never"):
        return RestartPolicy("no", 0)
    if name in ("on-failure", "always", "unless-stopped"):
        return RestartPolicy(name, retries)
    raise InvalidArgument(f'invalid restart policy: "{parts[0]}"')


# --------------------------------------------------------------------------- environment

def _env_line(line: str, env: dict[str, str], host_env: Mapping[str, str], where: str) -> None:
    name, sep, value = line.partition("=")
    if not name:
        raise InvalidArgument(f'invalid variable: "{line}"{where}')
    name = name.lstrip(" \t\n")
    if any(c in name for c in " \t"):
        raise InvalidArgument(f'name "{name}" has white spaces, poorly formatted name{where}')
    if sep:
        env[name] = value
    elif name.endswith("*"):  # `FOO*`: every host variable with that prefix
        prefix = name[:-1]
        for key, val in host_env.items():
            if key.startswith(prefix):
                env[key] = val
    elif name in host_env:
        env[name] = host_env[name]


def parse_env(items: Iterable[str], host_env: Mapping[str, str] | None = None) -> dict[str, str]:
    """-e values: KEY=VAL, KEY (the host's value, dropped when unset), PREFIX* (glob)."""
    host = os.environ if host_env is None else host_env
    env: dict[str, str] = {}
    for item in items:
        _env_line(item, env, host, "")
    return env


def parse_env_text(text: str, host_env: Mapping[str, str] | None = None, source: str = "") -> dict[str, str]:
    """The body of an --env-file: one variable a line, `#` comments and blank lines skipped."""
    host = os.environ if host_env is None else host_env
    env: dict[str, str] = {}
    where = f" in {source}" if source else ""
    for raw in text.splitlines():
        line = raw.lstrip()
        if not line or line.startswith("#"):
            continue
        _env_line(line, env, host, where)
    return env


def parse_env_file(path: str, host_env: Mapping[str, str] | None = None) -> dict[str, str]:
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_ENV_FILE + 1)
    except OSError as exc:
        raise InvalidArgument(f'parsing file "{path}": open {path}: {os.strerror(exc.errno or 5).lower()}') from None
    if len(data) > MAX_ENV_FILE:
        raise InvalidArgument(f"parsing file \"{path}\": larger than {MAX_ENV_FILE} bytes")
    return parse_env_text(data.decode("utf-8", "replace"), host_env, path)


def parse_key_values(items: Iterable[str], flag: str) -> dict[str, str]:
    """-l/--label, --annotation, --log-opt: KEY=VALUE (KEY alone means an empty value)."""
    out: dict[str, str] = {}
    for item in items:
        key, _, value = item.partition("=")
        if not key:
            raise InvalidArgument(f'invalid argument "{item}" for "{flag}" flag: key cannot be empty')
        out[key] = value
    return out


# --------------------------------------------------------------------------- volumes and mounts

def _validate_ctr_dir(path: str) -> str:
    if not path.startswith("/"):
        raise InvalidArgument(f'invalid container path "{path}", must be an absolute path')
    return posixpath.normpath(path).replace("//", "/")


def _apply_volume_opts(mount: MountSpec, opts: list[str], text: str) -> None:
    """c/common ValidateVolumeOpts: each family at most once, unknown options refused."""
    seen: set[str] = set()
    families = {"rw": "rorw", "ro": "rorw", "noexec": "exec", "exec": "exec",
                "nodev": "dev", "dev": "dev", "nosuid": "suid", "suid": "suid",
                "bind": "bind", "rbind": "bind", "z": "z", "Z": "z", "O": "O", "U": "U",
                "copy": "copy", "nocopy": "copy", "idmap": "idmap"}
    families.update({p: "prop" for p in _PROPAGATIONS})
    messages = {"rorw": "1 'rw' or 'ro'", "exec": "1 'noexec' or 'exec'", "dev": "1 'nodev' or 'dev'",
                "suid": "1 'nosuid' or 'suid'", "bind": "1 '[r]bind'",
                "prop": "1 '[r]shared', '[r]private', '[r]slave' or '[r]unbindable'",
                "z": "1 'z', 'Z', or 'O'", "O": "1 'z', 'Z', or 'O'", "U": "1 'U'",
                "copy": "1 'copy' or 'nocopy'", "idmap": "1 'idmap'"}
    for opt in opts:
        base = opt.split("=", 1)[0]
        fam = families.get(base)
        if fam is None:
            raise InvalidArgument(f'invalid option type "{opt}"')
        if fam in ("z", "O"):  # z/Z and O exclude each other
            fam_key = "relabel-or-overlay"
        else:
            fam_key = fam
        if fam_key in seen:
            raise InvalidArgument(f'invalid options "{", ".join(opts)}", can only specify {messages[fam]} option')
        seen.add(fam_key)
        if base in ("ro", "rw"):
            mount.readonly = base == "ro"
        elif base in ("noexec", "exec", "nodev", "dev", "nosuid", "suid"):
            mount.options.append(base)
        elif base in ("bind", "rbind"):
            mount.recursive = base == "rbind"
        elif fam == "prop":
            mount.propagation = base
        elif base in ("z", "Z"):
            mount.relabel = base
        elif base == "O":
            mount.overlay = True
        elif base == "U":
            mount.chown = True
        elif base in ("copy", "nocopy"):
            mount.nocopy = base == "nocopy"
        elif base == "idmap":
            mount.idmap = True


def parse_volume(text: str, cwd: str | None = None) -> MountSpec:
    """-v [SRC:]DST[:OPTS]: an absolute or `.`-relative SRC is a bind mount, any other SRC
    a named volume, no SRC an anonymous volume."""
    parts = text.split(":")
    if len(parts) > 3:
        raise InvalidArgument(f"{text}: incorrect volume format, should be [host-dir:]ctr-dir[:option]")
    if len(parts) == 1:
        src, dest, opts = "", parts[0], []
    else:
        src, dest = parts[0], parts[1]
        opts = parts[2].split(",") if len(parts) == 3 else []
        if not src:
            raise InvalidArgument("host directory cannot be empty")
    if not dest:
        raise InvalidArgument(ERR_NO_DEST)
    dest = _validate_ctr_dir(dest)
    if src.startswith("/") or src.startswith("."):
        mount = MountSpec(type="bind", destination=dest,
                          source=os.path.abspath(os.path.join(cwd or os.getcwd(), src)))
    else:
        if src and not re.fullmatch(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*", src):
            raise InvalidArgument(f'"{src}" includes invalid characters for a local volume name, '
                                  'only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to '
                                  'pass a host directory, use absolute path')
        mount = MountSpec(type="volume", destination=dest, source=src)
    _apply_volume_opts(mount, [o for o in opts if o], text)
    return mount


def _bool_opt(name: str, value: str, has_value: bool) -> bool:
    if not has_value or value.lower() == "true":
        return True
    if value.lower() == "false":
        return False
    raise InvalidArgument(f'invalid value "{name}={value}"')


def parse_mount(text: str, cwd: str | None = None) -> MountSpec:
    """--mount type=bind|volume|tmpfs|devpts,src=,dst=,ro[=true],bind-propagation=,..."""
    tokens = [t for t in _split_csv(text) if t]
    mtype = ""
    rest: list[str] = []
    for tok in tokens:
        key, _, value = tok.partition("=")
        if key == "type":
            mtype = value
        else:
            rest.append(tok)
    if not mtype:
        raise InvalidArgument(f"{ERR_BAD_MNT_OPTION}: type")  # Podman needs an explicit type
    if mtype not in ("bind", "volume", "tmpfs", "devpts"):
        raise InvalidArgument(f'invalid filesystem type "{mtype}"')
    mount = MountSpec(type=mtype, destination="")
    seen: set[str] = set()

    def once(group: str, msg: str) -> None:
        if group in seen:
            raise InvalidArgument(f"cannot pass {msg} more than once: {ERR_OPTION_ARG}")
        seen.add(group)

    def only(*types: str) -> None:
        if mtype not in types:
            raise InvalidArgument(f'"{name}" option not supported for "{mtype}" mount types')

    for tok in rest:
        name, has_value, value = tok.partition("=")
        has = bool(has_value)
        if mtype == "devpts":
            if name in ("target", "dst", "destination"):
                if not has:
                    raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
                mount.destination = _validate_ctr_dir(value)
            elif name in ("uid", "gid", "mode", "ptmxmode", "newinstance", "max"):
                mount.options.append(tok)
            else:
                raise InvalidArgument(f"{name}: {ERR_BAD_MNT_OPTION}")
            continue
        if name == "bind-nonrecursive":
            only("bind")
            mount.recursive = not _bool_opt(name, value, has)
        elif name == "bind-propagation":
            only("bind")
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            if value not in _PROPAGATIONS:
                raise InvalidArgument(f'invalid value "{tok}"')
            mount.propagation = value
        elif name == "consistency":
            continue
        elif name in ("readonly", "ro", "rw"):
            once("rorw", "'readonly', 'ro', or 'rw' mnt.Options")
            flag = _bool_opt(name, value, has)
            mount.readonly = flag if name != "rw" else not flag
        elif name in ("nodev", "dev", "noexec", "exec", "nosuid", "suid"):
            fam = name[2:] if name.startswith("no") else name
            once(fam, f"'no{fam}' and '{fam}' mnt.Options")
            mount.options.append(name)
        elif name == "relabel":
            once("relabel", "'relabel' option")
            if value not in ("private", "shared"):
                raise InvalidArgument(f"relabel mount option must be 'private' or 'shared': {ERR_BAD_MNT_OPTION}")
            mount.relabel = "Z" if value == "private" else "z"
        elif name in ("z", "Z"):
            mount.relabel = name
        elif name in _PROPAGATIONS:
            mount.propagation = name
        elif name in ("src", "source"):
            only("bind", "volume")
            if "src" in seen:
                raise InvalidArgument(f'cannot pass "{name}" option more than once: {ERR_OPTION_ARG}')
            seen.add("src")
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            if not value:
                raise InvalidArgument(f"host directory cannot be empty: {ERR_OPTION_ARG}")
            mount.source = value
        elif name in ("target", "dst", "destination"):
            if "dst" in seen:
                raise InvalidArgument(f'cannot pass "{name}" option more than once: {ERR_OPTION_ARG}')
            seen.add("dst")
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            mount.destination = _validate_ctr_dir(value)
        elif name in ("subpath", "volume-subpath"):
            if mtype != "volume":
                raise InvalidArgument(f'cannot set option "{name}" on non-volume mounts')
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            mount.subpath = value
        elif name in ("tmpcopyup", "notmpcopyup"):
            only("tmpfs")
            once("tmpcopyup", "'tmpcopyup' and 'notmpcopyup' mnt.Options")
            mount.options.append(name)
        elif name == "tmpfs-mode":
            only("tmpfs")
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            mount.tmpfs_mode = _parse_mode(value, tok)
        elif name == "tmpfs-size":
            only("tmpfs")
            if not has:
                raise InvalidArgument(f"{name}: {ERR_OPTION_ARG}")
            mount.tmpfs_size = parse_size(value, "--mount")
        elif name in ("U", "chown"):
            once("U", "'U' or 'chown' option")
            if value.lower() not in ("", "true", "false"):
                raise InvalidArgument(f"'U' or 'chown' must be set to true or false, instead received \"{value}\": {ERR_OPTION_ARG}")
            mount.chown = value.lower() != "false"
        elif name == "idmap":
            mount.idmap = True
        elif name in ("volume-nocopy", "nocopy"):
            only("volume")
            mount.nocopy = _bool_opt(name, value, has)
        elif name == "volume-opt":
            only("volume")
            mount.options.append(tok)
        else:
            raise InvalidArgument(f"{name}: {ERR_BAD_MNT_OPTION}")
    if not mount.destination:
        raise InvalidArgument(ERR_NO_DEST)
    if mtype == "bind":
        if not mount.source:
            mount.source = mount.destination
        mount.source = os.path.abspath(os.path.join(cwd or os.getcwd(), mount.source))
    return mount


def _split_csv(text: str) -> list[str]:
    """Comma split honouring double quotes (Podman reads --mount as CSV)."""
    out, cur, quoted = [], [], False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _parse_mode(value: str, tok: str) -> int:
    try:
        mode = int(value, 8)
    except ValueError:
        raise InvalidArgument(f'invalid value "{tok}"') from None
    if mode < 0 or mode > 0o7777:
        raise InvalidArgument(f'invalid value "{tok}"')
    return mode


def parse_tmpfs(text: str) -> MountSpec:
    """--tmpfs /dst[:opts] with opts rw|ro, size=, mode=, nr_inodes=, [no]exec, [no]suid,
    [no]dev, [no]tmpcopyup."""
    dest, _, opts = text.partition(":")
    mount = MountSpec(type="tmpfs", destination=_validate_ctr_dir(dest), source="tmpfs")
    for opt in [o for o in opts.split(",") if o] if opts else []:
        name, _, value = opt.partition("=")
        if name in ("ro", "rw"):
            mount.readonly = name == "ro"
        elif name == "size":
            mount.tmpfs_size = parse_size(value, "--tmpfs")
        elif name == "mode":
            mount.tmpfs_mode = _parse_mode(value, opt)
        elif name in ("noexec", "exec", "nosuid", "suid", "nodev", "dev", "tmpcopyup",
                      "notmpcopyup", "nr_inodes", "nr_blocks", "uid", "gid", "noatime",
                      "relatime", "strictatime", "U"):
            if name == "U":
                mount.chown = True
            else:
                mount.options.append(opt)
        else:
            raise InvalidArgument(f"{name}: {ERR_BAD_MNT_OPTION}")
    return mount


# --------------------------------------------------------------------------- devices, idmaps

def _valid_device_mode(mode: str) -> bool:
    return bool(mode) and all(c in "rwm" for c in mode) and len(set(mode)) == len(mode)


def parse_device(text: str) -> DeviceSpec:
    """--device HOST[:CONTAINER][:PERMS] (Podman's ParseDevice)."""
    parts = text.split(":")
    if len(parts) > 3 or not parts[0]:
        raise InvalidArgument(f"invalid device specification: {text}")
    src, dst, perms = parts[0], "", "rwm"
    if len(parts) == 3:
        if not _valid_device_mode(parts[2]):
            raise InvalidArgument(f"invalid device mode: {parts[2]}")
        perms = parts[2]
    if len(parts) >= 2:
        if _valid_device_mode(parts[1]):
            perms = parts[1]
        else:
            if parts[1] and not parts[1].startswith("/"):
                raise InvalidArgument(f"invalid device mode: {parts[1]}")
            dst = parts[1]
    if not src.startswith("/"):
        raise InvalidArgument(f"{src} is not an absolute path")
    return DeviceSpec(host_path=src, container_path=dst or src, permissions=perms)


def parse_idmap(text: str, flag: str = "--uidmap") -> list[IDMapping]:
    """--uidmap/--gidmap CONTAINER:HOST:SIZE[,CONTAINER:HOST:SIZE...]."""
    out: list[IDMapping] = []
    for item in text.split(","):
        fields = item.split(":")
        if len(fields) != 3 or not all(f.isdigit() for f in fields):
            raise InvalidArgument(f'initializing ID mappings: {flag} setting is malformed '
                                  f'expected ["uint32:uint32:uint32"]: "{item}"')
        cid, hid, size = (int(f) for f in fields)
        if size == 0 or cid + size > 2**32 - 1 or hid + size > 2**32 - 1:
            raise InvalidArgument(f'initializing ID mappings: {flag} setting is malformed '
                                  f'expected ["uint32:uint32:uint32"]: "{item}"')
        out.append(IDMapping(cid, hid, size))
    return out


USERNS_MODES = ("", "host", "private", "keep-id", "auto", "nomap")


def parse_userns(text: str) -> str:
    """--userns: host, private, keep-id[:uid=N,gid=N], auto[:size=N], nomap."""
    mode, _, opts = text.partition(":")
    if mode not in USERNS_MODES or (opts and mode not in ("keep-id", "auto")):
        raise InvalidArgument(f"unrecognized namespace mode {text} passed")
    for opt in [o for o in opts.split(",") if o] if opts else []:
        key, _, value = opt.partition("=")
        allowed = {"keep-id": ("uid", "gid", "size"), "auto": ("size", "uidmapping", "gidmapping")}[mode]
        if key not in allowed or not value:
            raise InvalidArgument(f"unknown option {key} specified for --userns={mode}")
        if key in ("uid", "gid", "size") and not value.isdigit():
            raise InvalidArgument(f'invalid argument "{text}" for "--userns" flag: {key} must be a number')
    return text


# --------------------------------------------------------------------------- security, caps

CAPABILITIES = (
    "CAP_AUDIT_CONTROL", "CAP_AUDIT_READ", "CAP_AUDIT_WRITE", "CAP_BLOCK_SUSPEND", "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE", "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER", "CAP_FSETID", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_KILL", "CAP_LEASE",
    "CAP_LINUX_IMMUTABLE", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE", "CAP_MKNOD", "CAP_NET_ADMIN",
    "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_RAW", "CAP_PERFMON", "CAP_SETFCAP",
    "CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYSLOG", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
    "CAP_SYS_CHROOT", "CAP_SYS_MODULE", "CAP_SYS_NICE", "CAP_SYS_PACCT", "CAP_SYS_PTRACE",
    "CAP_SYS_RAWIO", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_WAKE_ALARM",
)


def normalize_capability(text: str) -> str:
    """`net_admin`, `CAP_NET_ADMIN`, `all` -> `CAP_NET_ADMIN` / `ALL`."""
    name = text.strip().upper()
    if name == "ALL":
        return "ALL"
    if not name.startswith("CAP_"):
        name = "CAP_" + name
    if name not in CAPABILITIES:
        raise InvalidArgument(f'"{name}": unknown capability')
    return name


def parse_capabilities(items: Iterable[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        for part in item.split(","):
            if part.strip():
                cap = normalize_capability(part)
                if cap not in out:
                    out.append(cap)
    return out


def parse_security_opts(items: Iterable[str], base: SecurityOptions | None = None) -> SecurityOptions:
    """--security-opt no-new-privileges[=bool], seccomp=unconfined|PATH, mask=P1:P2,
    unmask=ALL|P1:P2, label=disable|..., apparmor=..., proc-opts=..."""
    sec = base or SecurityOptions()
    for item in items:
        if item == "no-new-privileges":
            sec.no_new_privileges = True
            continue
        key, sep, value = item.partition("=")
        if not sep:
            key, sep, value = item.partition(":")  # Docker's deprecated `seccomp:path`
        if not sep:
            raise InvalidArgument(f'invalid --security-opt 1: "{item}"')
        if key == "no-new-privileges":
            if value.lower() not in ("true", "false"):
                raise InvalidArgument(f'invalid --security-opt 2: "{item}"')
            sec.no_new_privileges = value.lower() == "true"
        elif key == "seccomp":
            if not value:
                raise InvalidArgument(f'invalid --security-opt 2: "{item}"')
            sec.seccomp_profile = value
        elif key == "mask":
            sec.mask.extend(p for p in value.split(":") if p)
        elif key == "unmask":
            sec.unmask.extend(p for p in value.split(":") if p)
        elif key == "label":
            if value == "disable":
                sec.label_disable = True
            else:
                sec.labels.append(value)
        elif key == "apparmor":
            sec.apparmor = value
        elif key == "proc-opts":
            sec.proc_opts.extend(p for p in value.split(",") if p)
        else:
            raise InvalidArgument(f'invalid --security-opt 2: "{item}"')
    for path in sec.mask + [p for p in sec.unmask if p != "ALL"]:
        if not path.startswith("/"):
            raise InvalidArgument(f'invalid --security-opt 2: "{path}" must be an absolute path')
    return sec


# --------------------------------------------------------------------------- sysctls

_NS_SYSCTL_EXACT = ("kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                    "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
                    "kernel.domainname", "kernel.hostname")
_NS_SYSCTL_PREFIX = ("fs.mqueue.", "net.")


def parse_sysctls(items: Iterable[str], network: str = "private", uts_host: bool = False) -> dict[str, str]:
    """--sysctl KEY=VALUE: only namespaced sysctls, not for a namespace shared with the host."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key or not value:
            raise InvalidArgument(f'"{item}" is not a valid sysctl format')
        if key in _NS_SYSCTL_EXACT or key.startswith(_NS_SYSCTL_PREFIX):
            if key.startswith("net.") and network == "host":
                raise InvalidArgument(f'sysctl "{key}" not allowed with host net enabled')
            if key in ("kernel.domainname", "kernel.hostname") and uts_host:
                raise InvalidArgument(f'sysctl "{key}" not allowed with host uts enabled')
            out[key] = value
        else:
            raise InvalidArgument(f'sysctl "{key}" is not allowed')
    return out


# --------------------------------------------------------------------------- healthcheck, secrets

def parse_health_cmd(text: str) -> list[str]:
    """--health-cmd: `none` -> ["NONE"]; a JSON array -> CMD form; else CMD-SHELL."""
    import json

    if text.lower() == "none":
        return ["NONE"]
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            arr = json.loads(stripped)
        except ValueError:
            arr = None
        if isinstance(arr, list) and arr and all(isinstance(a, str) for a in arr):
            if arr[0] in ("CMD", "CMD-SHELL", "NONE"):
                return arr
            return ["CMD", *arr]
    if not stripped:
        raise InvalidArgument("must provide a non-empty command for the healthcheck")
    return ["CMD-SHELL", text]


def parse_healthcheck(cmd: str, interval: str = "30s", timeout: str = "30s",
                      start_period: str = "0s", retries: int | str = 3,
                      on_failure: str = "none") -> HealthConfig:
    """The --health-* flags together, with Podman's checks."""
    test = parse_health_cmd(cmd)
    if interval in ("disable", ""):
        ival = 0.0
    else:
        ival = parse_duration(interval, "--health-interval")
        if ival < 1:
            raise InvalidArgument("healthcheck-interval must be at least 1 second")
    tout = parse_duration(timeout, "--health-timeout")
    if tout < 1:
        raise InvalidArgument("healthcheck-timeout must be at least 1 second")
    start = parse_duration(start_period, "--health-start-period")
    if start < 0:
        raise InvalidArgument("healthcheck-start-period must be 0 seconds or greater")
    tries = parse_int(str(retries), "--health-retries")
    if tries < 1:
        raise InvalidArgument("healthcheck-retries must be greater than 0")
    if on_failure not in HEALTH_ON_FAILURE:
        raise InvalidArgument(f'invalid on-failure action "{on_failure}" for healthcheck')
    return HealthConfig(test=test, interval=ival, timeout=tout, start_period=start,
                        retries=tries, on_failure=on_failure)


def parse_secret(text: str) -> SecretSpec:
    """--secret NAME[,type=mount|env][,target=T][,uid=][,gid=][,mode=]."""
    parts = text.split(",")
    name = parts[0]
    if not name or "=" in name:
        if "=" in name and name.startswith("source="):
            name = name.split("=", 1)[1]
        else:
            raise InvalidArgument(f"{text}: secret name must be given first")
    spec = SecretSpec(name=name)
    for opt in parts[1:]:
        key, sep, value = opt.partition("=")
        if not sep:
            raise InvalidArgument(f"option {opt} must be in form option=value")
        if key == "type":
            if value not in ("mount", "env"):
                raise InvalidArgument(f"type {value} is invalid: must be 'mount' or 'env'")
            spec.type = value
        elif key == "target":
            spec.target = value
        elif key in ("uid", "gid"):
            if not value.isdigit():
                raise InvalidArgument(f"{key} {value} invalid: must be a number")
            setattr(spec, key, int(value))
        elif key == "mode":
            try:
                spec.mode = int(value, 8)
            except ValueError:
                raise InvalidArgument(f"mode {value} invalid: must be an octal number") from None
        else:
            raise InvalidArgument(f"option {opt} invalid")
    if spec.type == "env" and (spec.uid or spec.gid or spec.mode != 0o444):
        raise InvalidArgument("UID, GID, Mode options cannot be set with secret option type=env")
    if spec.type == "env" and not spec.target:
        spec.target = spec.name
    return spec


def parse_entrypoint(text: str) -> list[str]:
    """--entrypoint: "" clears it, a JSON array is taken as is, anything else is one
    argument (not split on spaces: Podman runs it as the program's path)."""
    import json

    if text == "":
        return []
    if text.lstrip().startswith("["):
        try:
            arr = json.loads(text)
        except ValueError:
            arr = None
        if isinstance(arr, list) and all(isinstance(a, str) for a in arr):
            return arr
    return [text]


# --------------------------------------------------------------------------- networks

NETWORK_MODES = ("none", "host", "private", "bridge", "pasta", "slirp4netns", "container", "ns")
DEFAULT_NETWORK = "hull"   # what `--network bridge` names (Podman: "podman")
_ATTACH_KEYS = ("alias", "ip", "ip6", "mac", "interface_name")


def _static_ip(text: str, flag: str) -> str:
    import ipaddress

    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        raise InvalidArgument(f'"{text}" is not an ip address') from None
    if ip.version != (6 if flag == "ip6" else 4):
        raise InvalidArgument(f'"{text}" is not an IPv{6 if flag == "ip6" else 4} address')
    return str(ip)


def _mac(text: str) -> str:
    from engine.network.ipam import parse_mac

    return parse_mac(text)


def _attachment_opts(text: str, name: str) -> "NetworkAttachment":
    from engine.spec.options import NetworkAttachment

    att = NetworkAttachment()
    for item in filter(None, text.split(",")):
        key, eq, value = item.partition("=")
        if not eq or key not in _ATTACH_KEYS:
            raise InvalidArgument(f"unknown bridge network option: {key}")
        if key == "alias":
            att.aliases.append(value)
        elif key == "ip":
            att.ip = _static_ip(value, "ip")
        elif key == "ip6":
            att.ip6 = _static_ip(value, "ip6")
        elif key == "mac":
            att.mac = _mac(value)
        else:
            att.interface_name = value
    return att


def parse_network(values: Iterable[str], aliases: Iterable[str] = (), ip: str = "",
                  mac: str = "", ip6: str = "") -> tuple[str, str, dict]:
    """--network (repeatable) with --network-alias/--ip/--ip6/--mac-address -> (mode, arg,
    {network name: NetworkAttachment}), as Podman's ParseNetworkFlag:

    none | host | private | bridge[:opts] (the default network) | NAME[:alias=a,ip=..,
    mac=..,interface_name=..] | NAME1,NAME2 | container:ID | ns:PATH | pasta[:opts] |
    slirp4netns[:opts].  Unset -> mode "" (the user's default network mode; --ip and
    friends then mean the default network).  Several values must all be networks."""
    from engine.spec.options import NetworkAttachment

    values = [v for v in values if v != ""]
    aliases = [a for a in aliases if a]
    mode, arg = "", ""
    networks: dict[str, NetworkAttachment] = {}
    for value in values:
        head, colon, rest = value.partition(":")
        if head in ("none", "host", "private", "container", "ns", "pasta", "slirp4netns"):
            if len(values) > 1:
                raise InvalidArgument(f"cannot set multiple networks without bridge network mode, "
                                      f"selected mode {head}: invalid argument")
            if head in ("none", "host", "private") and colon:
                raise InvalidArgument(f"network mode {head} does not take options: invalid argument")
            if head in ("container", "ns") and not rest:
                raise InvalidArgument(f"invalid {'container' if head == 'container' else 'ns'} network "
                                      f"mode: {value}: invalid argument")
            mode, arg = head, rest
            continue
        mode = "bridge"
        if head == "bridge":
            head = DEFAULT_NETWORK
        if not colon and "," in head:  # "net1,net2": Podman keeps this older form
            for name in filter(None, head.split(",")):
                networks.setdefault(name, NetworkAttachment())
            continue
        if not head:
            raise InvalidArgument(f"network name cannot be empty: {value}: invalid argument")
        if head in networks:
            raise InvalidArgument(f"network {head} is given twice: invalid argument")
        networks[head] = _attachment_opts(rest, head) if colon else NetworkAttachment()
    if aliases or ip or mac or ip6:
        if mode not in ("", "bridge"):
            raise InvalidArgument("invalid config provided: networks and static ip/mac address can only be "
                                  "used with Bridge mode networking")
        if not networks:
            networks[DEFAULT_NETWORK] = NetworkAttachment()
        if len(networks) > 1 and (ip or mac or ip6):
            raise InvalidArgument("--ip, --ip6 and --mac-address can only be set for a single network")
        for att in networks.values():
            att.aliases = att.aliases + [a for a in aliases if a not in att.aliases]
            if ip:
                att.ip = _static_ip(ip, "ip")
            if ip6:
                att.ip6 = _static_ip(ip6, "ip6")
            if mac:
                att.mac = _mac(mac)
    return mode, arg, networks
