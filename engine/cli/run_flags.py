"""The flag set `hull run` and `hull create` share, and argv -> ContainerOptions.

Podman stops parsing flags at the image (cobra's SetInterspersed(false)):
everything after it is the container's command, `hull run busybox ls -la`
passes `-la` to ls.  `split_argv` finds the image by walking the flags with
the parser's own table (which flags take a value), so short clusters (`-it`,
`-dit`, `-eFOO=1`) and `--flag=value` forms are understood; argparse then
parses only the part before the image.  Values are turned into typed options
by engine/spec/parse.py; this module only collects them.
"""

from __future__ import annotations

import argparse
import os

from engine.cli.parser import HullParser
from engine.errors import InvalidArgument

TYPE_CHECKING = False  # typing costs ms on every run/create
if TYPE_CHECKING:
    from typing import Any, Sequence

USAGE = "{prog} [options] IMAGE [COMMAND [ARG...]]"


def _list(p: HullParser, *names: str, help: str, metavar: str = "stringArray", dest: str | None = None) -> None:
    kw: dict[str, Any] = {"dest": dest} if dest else {}
    p.add_argument(*names, action="append", default=[], metavar=metavar, help=help, **kw)


def _value(p: HullParser, *names: str, help: str, metavar: str = "string", dest: str | None = None,
           type: Any = None, default: Any = None) -> None:
    kw: dict[str, Any] = {"dest": dest} if dest else {}
    if type is not None:
        kw["type"] = type
    p.add_argument(*names, metavar=metavar, help=help, default=default, **kw)


def _int(flag: str):
    def conv(text: str) -> int:
        try:
            return int(text, 10)
        except ValueError:
            raise InvalidArgument(f'invalid argument "{text}" for "{flag}" flag: strconv.ParseInt: '
                                  f'parsing "{text}": invalid syntax') from None
    return conv


def build(p: HullParser, run: bool = True) -> None:
    """All run/create flags, Podman's names, Docker's aliases and short forms."""
    p.add_argument("--help", action="help", help="help for this command")
    _list(p, "--add-host", help="Add a custom host-to-IP mapping (host:ip)")
    _list(p, "--annotation", help="Add annotations to container (key=value)")
    _value(p, "--arch", help="use ARCH instead of the architecture of the machine for choosing images")
    _list(p, "-a", "--attach", dest="attach", help="Attach to STDIN, STDOUT or STDERR")
    _list(p, "--cap-add", dest="cap_add", help="Add capabilities to the container")
    _list(p, "--cap-drop", dest="cap_drop", help="Drop capabilities from the container")
    _value(p, "--cgroupns", help="cgroup namespace to use")
    _value(p, "--cidfile", help="Write the container ID to the file")
    _value(p, "--conmon-pidfile", help="Path to the file that will receive the PID of conmon")
    _value(p, "--cpu-period", help="Limit the CPU CFS (Completely Fair Scheduler) period", metavar="uint")
    _value(p, "--cpu-quota", help="Limit the CPU CFS (Completely Fair Scheduler) quota", metavar="int")
    _value(p, "-c", "--cpu-shares", dest="cpu_shares", help="CPU shares (relative weight)", metavar="uint")
    _value(p, "--cpus", help="Number of CPUs. The default is 0.000 which means no limit", metavar="float")
    _value(p, "--cpuset-cpus", help="CPUs in which to allow execution (0-3, 0,1)")
    _value(p, "--cpuset-mems", help="Memory nodes (MEMs) in which to allow execution (0-3, 0,1)")
    if run:
        p.add_bool("-d", "--detach", help="Run container in background and print container ID")
    _value(p, "--detach-keys", help='Override the key sequence for detaching a container. Format is a '
           'single character [a-Z] or a comma separated sequence of `ctrl-<value>`, where `<value>` is '
           'one of: `a-cf`, `@`, `^`, `[`, `\\\\`, `]`, `^` or `_` (default "ctrl-p,ctrl-q")')
    _list(p, "--device", help="Add a host device to the container")
    _list(p, "--dns", help="Set custom DNS servers")
    _list(p, "--dns-option", "--dns-opt", dest="dns_option", help="Set custom DNS options")
    _list(p, "--dns-search", help="Set custom DNS search domains")
    _value(p, "--entrypoint", help="Overwrite the default ENTRYPOINT of the image")
    _list(p, "-e", "--env", dest="env", help="Set environment variables in container")
    _list(p, "--env-file", help="Read in a file of environment variables")
    p.add_bool("--env-host", help="Use all current host environment variables in container")
    _list(p, "--expose", help="Expose a port or a range of ports")
    _list(p, "--gidmap", help="GID map to use for the user namespace")
    _list(p, "--group-add", help="Add additional groups to the primary container process. 'keep-groups' "
          "allows container processes to use supplementary groups.")
    _value(p, "--health-cmd", help="set a healthcheck command for the container ('none' disables the "
           "existing healthcheck)")
    _value(p, "--health-interval", help='set an interval for the healthcheck (a value of disable results '
           'in no automatic timer setup) (default "30s")')
    _value(p, "--health-on-failure", help="action to take once the container turns unhealthy (default \"none\")")
    _value(p, "--health-retries", help="the number of retries allowed before a healthcheck is considered "
           "to be unhealthy (default 3)", metavar="uint", type=_int("health-retries"))
    _value(p, "--health-start-period", help='the initialization time needed for a container to bootstrap '
           '(default "0s")')
    _value(p, "--health-timeout", help='the maximum time allowed to complete the healthcheck before an '
           'interval is considered failed (default "30s")')
    _value(p, "-h", "--hostname", dest="hostname", help="Set container hostname")
    p.add_bool("--init", help="Run an init binary inside the container that forwards signals and reaps "
               "processes")
    _value(p, "--init-path", help="Path to the container-init binary")
    p.add_bool("-i", "--interactive", help="Keep STDIN open even if not attached")
    _value(p, "--ip", help="Specify a static IPv4 address for the container")
    _value(p, "--ip6", help="Specify a static IPv6 address for the container")
    _value(p, "--ipc", help="IPC namespace to use")
    _list(p, "-l", "--label", dest="label", help="Set metadata on container")
    _list(p, "--label-file", help="Read in a line delimited file of labels")
    _value(p, "--log-driver", help='Logging driver for the container (default "k8s-file")')
    _list(p, "--log-opt", help="Logging driver options")
    _value(p, "--mac-address", help="Container MAC address (e.g. 92:d0:c6:0a:29:33)")
    _value(p, "-m", "--memory", dest="memory", help="Memory limit (format: <number>[<unit>], where unit = "
           "b (bytes), k (kibibytes), m (mebibytes), or g (gibibytes))")
    _value(p, "--memory-reservation", help="Memory soft limit (format: <number>[<unit>])")
    _value(p, "--memory-swap", help="Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    _list(p, "--mount", help="Attach a filesystem mount to the container")
    _value(p, "--name", help="Assign a name to the container")
    _list(p, "--network", "--net", dest="network", help="Connect a container to a network")
    _list(p, "--network-alias", help="Add network-scoped alias for the container")
    p.add_bool("--no-healthcheck", help="Disable healthchecks on container")
    p.add_bool("--no-hosts", help="Do not create /etc/hosts within the container, instead use the version "
               "from the image")
    p.add_bool("--oom-kill-disable", help="Disable OOM Killer")
    _value(p, "--oom-score-adj", help="Tune the host's OOM preferences (-1000 to 1000)", metavar="int",
           type=_int("oom-score-adj"))
    _value(p, "--os", help="use OS instead of the running OS for choosing images")
    _value(p, "--pid", help="PID namespace to use")
    _value(p, "--pids-limit", help="Tune container pids limit (set -1 for unlimited)", metavar="int",
           type=_int("pids-limit"))
    _value(p, "--platform", help="Specify the platform for selecting the image.  (Conflicts with --arch "
           "and --os)")
    _value(p, "--pod", help='Run container in an existing pod')
    _value(p, "--pod-id-file", help="Read the pod ID from the file")
    _list(p, "--requires", dest="requires", help="Add one or more requirement containers that must be started "
          "before this container will start")
    p.add_bool("--privileged", help="Give extended privileges to container")
    _list(p, "-p", "--publish", dest="publish", help="Publish a container's port, or a range of ports, "
          "to the host")
    p.add_bool("-P", "--publish-all", dest="publish_all", help="Publish all exposed ports to random ports "
               "on the host interface")
    _value(p, "--pull", help='Pull image policy ("always"|"missing"|"never"|"newer") (default "missing")')
    p.add_bool("-q", "--quiet", help="Suppress output information when pulling images")
    p.add_bool("--read-only", help="Make containers root filesystem read-only")
    p.add_bool("--read-only-tmpfs", default=True, help="When running --read-only containers mount "
               "read-write tmpfs on /dev, /dev/shm, /run, /tmp and /var/tmp (default true)")
    p.add_bool("--replace", help="If a container with the same name exists, replace it")
    _value(p, "--restart", help='Restart policy to apply when a container exits ("always"|"no"|"never"|'
           '"on-failure"|"unless-stopped")')
    p.add_bool("--rm", help="Remove container and any anonymous unnamed volume associated with the "
               "container after exit")
    _list(p, "--secret", help="Add secret to container")
    _list(p, "--security-opt", help="Security Options")
    _value(p, "--sdnotify", help='control sd-notify behavior ("container"|"conmon"|"healthy"|"ignore")')
    _value(p, "--shm-size", help="Size of /dev/shm (format: <number>[<unit>], where unit = b (bytes), "
           "k (kibibytes), m (mebibytes), or g (gibibytes))")
    if run:
        p.add_bool("--sig-proxy", default=True, help="Proxy received signals to the process (default true)")
    _value(p, "--stop-signal", help="Signal to stop a container. Default is SIGTERM")
    _value(p, "--stop-timeout", help="Timeout (in seconds) that containers stopped by user command have to "
           "exit. If exceeded, the container will be forcibly stopped via SIGKILL. (default 10)",
           metavar="uint", type=_int("stop-timeout"))
    _list(p, "--sysctl", help="Sysctl options")
    _list(p, "--tmpfs", help="Mount a temporary filesystem (tmpfs) into a container")
    p.add_bool("-t", "--tty", help="Allocate a pseudo-TTY for container")
    _value(p, "--tz", "--timezone", dest="timezone", help="Set timezone in container")
    _list(p, "--uidmap", help="UID map to use for the user namespace")
    _list(p, "--ulimit", help="Ulimit options")
    _list(p, "--unsetenv", help="Unset environment default variables in container")
    p.add_bool("--unsetenv-all", help="Unset all default environment variables in container")
    _value(p, "-u", "--user", dest="user", help="Username or UID (format: <name|uid>[:<group|gid>])")
    _value(p, "--userns", help="User namespace to use")
    _value(p, "--uts", help="UTS namespace to use")
    _value(p, "--variant", help="Use VARIANT instead of the running architecture variant for choosing "
           "images")
    _list(p, "-v", "--volume", dest="volume", help="Bind mount a volume into the container")
    _list(p, "--volumes-from", help="Mount volumes from the specified container(s)")
    _value(p, "-w", "--workdir", dest="workdir", help="Working directory inside the container")


# ---------------------------------------------------------------- argv split
def split_argv(parser: argparse.ArgumentParser, argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """(flags before the image, image, the command after it)."""
    takes: dict[str, bool] = {}
    for action in parser._actions:  # argparse keeps its table here; it is stable API in practice
        for opt in action.option_strings:
            takes[opt] = action.nargs != 0
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            flags = args[:i]
            rest = args[i + 1:]
            return flags, (rest[0] if rest else None), rest[1:]
        if not arg.startswith("-") or arg == "-":
            return args[:i], arg, args[i + 1:]
        if arg.startswith("--"):
            name = arg.partition("=")[0]
            if "=" not in arg and takes.get(name, False):
                i += 1  # the value is the next word
        else:
            i += _short_cluster_extra(arg, takes)
        i += 1
    return args, None, []


def _short_cluster_extra(arg: str, takes: dict[str, bool]) -> int:
    """How many following words a short-flag cluster like `-dit` or `-e` consumes."""
    for j, ch in enumerate(arg[1:], start=1):
        flag = "-" + ch
        if flag not in takes:
            return 0  # unknown: argparse reports it
        if takes[flag]:
            return 0 if j < len(arg) - 1 else 1
    return 0


def parse_run_argv(parser: HullParser, argv: Sequence[str]) -> tuple[argparse.Namespace, str, list[str]]:
    flags, image, command = split_argv(parser, argv)
    ns = parser.parse_args(flags)
    ns.create_command = [*parser.prog.split(), *argv]  # CreateCommand (generate systemd --new)
    if image is None:
        raise InvalidArgument("requires at least 1 arg(s), only received 0")
    return ns, image, command


# ---------------------------------------------------------------- -> options
def parse_attach(values: Sequence[str]) -> list[str]:
    streams: list[str] = []
    for value in values:
        for part in value.split(","):
            s = part.strip().lower()
            if s not in ("stdin", "stdout", "stderr"):
                raise InvalidArgument(f'invalid stream "{part}" for --attach - must be one of stdin, stdout, '
                                      'or stderr')
            if s not in streams:
                streams.append(s)
    return streams


def parse_entrypoint(text: str | None) -> list[str] | None:
    """None keeps the image's; "" clears it; a JSON array is taken as is; else one word."""
    if text is None:
        return None
    if text == "":
        return []
    if text.startswith("["):
        import json

        try:
            value = json.loads(text)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return [text]


def read_label_files(paths: Sequence[str]) -> list[str]:
    """--label-file: one KEY=VALUE a line, `#` comments and blank lines skipped."""
    items: list[str] = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                lines = fh.read(1 << 20).splitlines()
        except OSError as exc:
            raise InvalidArgument(f"open {path}: {(exc.strerror or str(exc)).lower()}") from None
        items += [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
    return items


# Flags Hull parses but cannot honour yet: an error when given, never silently dropped.
_UNSUPPORTED = ("cgroupns", "platform", "arch", "os", "variant")


def to_options(ns: argparse.Namespace, image: str, command: list[str], *, detach: bool | None = None) -> Any:
    """The parsed namespace -> engine.spec.options.ContainerOptions."""
    from engine.spec import parse
    from engine.spec.options import ContainerOptions, Resources

    for key in _UNSUPPORTED:
        if getattr(ns, key, None) not in (None, False, []):
            raise InvalidArgument(f"--{key.replace('_', '-')} is not supported yet")
    if ns.health_cmd is not None and ns.no_healthcheck:
        raise InvalidArgument("cannot specify both --no-healthcheck and --health-cmd")
    network, network_arg, networks = parse.parse_network(ns.network, ns.network_alias, ns.ip or "",
                                                         ns.mac_address or "", ns.ip6 or "")
    opts = ContainerOptions(
        image=image,
        name=ns.name or "",
        command=list(command),
        entrypoint=parse_entrypoint(ns.entrypoint),
        env=parse.parse_env(ns.env),
        env_file={k: v for path in ns.env_file for k, v in parse.parse_env_file(path).items()},
        env_host=ns.env_host,
        unset_env=list(ns.unsetenv),
        unset_env_all=ns.unsetenv_all,
        workdir=ns.workdir or "",
        user=ns.user or "",
        group_add=list(ns.group_add),
        hostname=ns.hostname or "",
        init=ns.init,
        init_path=ns.init_path or "",
        tty=ns.tty,
        interactive=ns.interactive,
        detach=bool(getattr(ns, "detach", False) if detach is None else detach),
        rm=ns.rm,
        attach=parse_attach(ns.attach),
        sig_proxy=getattr(ns, "sig_proxy", True),
        mounts=[parse.parse_volume(v) for v in ns.volume] + [parse.parse_mount(m) for m in ns.mount]
        + [parse.parse_tmpfs(t) for t in ns.tmpfs],
        volumes_from=list(ns.volumes_from),
        read_only=ns.read_only,
        read_only_tmpfs=ns.read_only_tmpfs,
        cap_add=parse.parse_capabilities(ns.cap_add),
        cap_drop=parse.parse_capabilities(ns.cap_drop),
        privileged=ns.privileged,
        security=parse.parse_security_opts(ns.security_opt),
        ulimits=[parse.parse_ulimit(u) for u in ns.ulimit],
        resources=Resources(
            memory=parse.parse_size(ns.memory, "--memory") if ns.memory else None,
            memory_reservation=parse.parse_size(ns.memory_reservation, "--memory-reservation")
            if ns.memory_reservation else None,
            memory_swap=_swap(ns.memory_swap, parse),
            cpus=parse.parse_cpus(ns.cpus) if ns.cpus else None,
            cpu_shares=parse.parse_int(ns.cpu_shares, "--cpu-shares", 0) if ns.cpu_shares else None,
            cpu_period=parse.parse_int(ns.cpu_period, "--cpu-period", 0) if ns.cpu_period else None,
            cpu_quota=parse.parse_int(ns.cpu_quota, "--cpu-quota") if ns.cpu_quota else None,
            cpuset_cpus=ns.cpuset_cpus or "",
            cpuset_mems=ns.cpuset_mems or "",
            pids_limit=ns.pids_limit,
            oom_kill_disable=ns.oom_kill_disable,
        ),
        shm_size=parse.parse_size(ns.shm_size, "--shm-size") if ns.shm_size else None,
        oom_score_adj=ns.oom_score_adj,
        healthcheck=_healthcheck(ns, parse),
        no_healthcheck=ns.no_healthcheck,
        labels=parse.parse_key_values(read_label_files(ns.label_file) + list(ns.label), "--label"),
        annotations=parse.parse_key_values(ns.annotation, "--annotation"),
        stop_signal=parse.parse_signal(ns.stop_signal) if ns.stop_signal else None,
        stop_timeout=ns.stop_timeout,
        userns=parse.parse_userns(ns.userns) if ns.userns else "",
        uidmap=[m for text in ns.uidmap for m in parse.parse_idmap(text, "--uidmap")],
        gidmap=[m for text in ns.gidmap for m in parse.parse_idmap(text, "--gidmap")],
        replace=ns.replace,
        cidfile=ns.cidfile or "",
        log_opts=parse.parse_key_values(ns.log_opt, "--log-opt"),
        devices=[parse.parse_device(d) for d in ns.device],
        sysctls=parse.parse_sysctls(ns.sysctl, network),
        timezone=ns.timezone or "",
        secrets=[parse.parse_secret(s) for s in ns.secret],
        network=network,
        network_arg=network_arg,
        networks=networks,
        dns=_dns_servers(ns.dns),
        dns_search=list(ns.dns_search),
        dns_options=list(ns.dns_option),
        add_hosts=_add_hosts(ns.add_host),
        no_hosts=ns.no_hosts,
        ipc=_namespace_mode(ns.ipc, "ipc"),
        uts=_namespace_mode(ns.uts, "uts"),
        pid=_namespace_mode(ns.pid, "pid"),
    )
    opts.requires = [name for value in ns.requires for name in value.split(",") if name]
    if ns.pod or ns.pod_id_file:  # joined (or made, new:NAME) by the create service
        opts.pod = ns.pod or _read_pod_id_file(ns.pod_id_file)
    if ns.publish or ns.publish_all or ns.expose:  # -p/-P/--expose (engine/network/ports.py)
        from engine.network import ports

        opts.publish = [m for text in ns.publish for m in ports.parse_publish(text)]
        opts.expose = [e for text in ns.expose for e in ports.parse_expose(text)]
        opts.publish_all = bool(ns.publish_all)
    if ns.sdnotify or ns.conmon_pidfile:
        if ns.sdnotify and ns.sdnotify not in ("container", "conmon", "healthy", "ignore"):
            raise InvalidArgument(f'invalid argument "{ns.sdnotify}" for "--sdnotify" flag: '
                                  'must be one of "container", "conmon", "healthy" or "ignore"')
        opts.sdnotify = "" if ns.sdnotify == "ignore" else (ns.sdnotify or "")
        opts.conmon_pidfile = os.path.abspath(ns.conmon_pidfile) if ns.conmon_pidfile else ""
    opts.create_command = list(getattr(ns, "create_command", None) or [])
    if os.environ.get("PODMAN_SYSTEMD_UNIT"):  # run by a unit: auto-update restarts that unit (as Podman)
        opts.labels.setdefault("PODMAN_SYSTEMD_UNIT", os.environ["PODMAN_SYSTEMD_UNIT"])
    if ns.restart:
        opts.restart = parse.parse_restart(ns.restart)
    if ns.pull:
        if ns.pull not in ("always", "missing", "never", "newer"):
            raise InvalidArgument(f'invalid pull policy "{ns.pull}"')
        opts.pull = ns.pull
    if ns.log_driver:
        if ns.log_driver not in ("k8s-file", "json-file", "none", "passthrough"):
            raise InvalidArgument(f'invalid log driver: {ns.log_driver}')
        opts.log_driver = ns.log_driver
    if ns.detach_keys is not None:
        from engine.cli.terminal import parse_detach_keys

        parse_detach_keys(ns.detach_keys)  # refuse a bad sequence before anything is created
        opts.detach_keys = ns.detach_keys
    if opts.rm and opts.restart.name not in ("no", ""):
        raise InvalidArgument('the --rm option conflicts with --restart, when the restartPolicy is not "" and "no"')
    return opts


def _read_pod_id_file(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError as exc:
        raise InvalidArgument(f"reading pod ID file: {(exc.strerror or str(exc)).lower()}") from None


def _namespace_mode(text: str | None, kind: str) -> str:
    """--ipc/--uts/--pid: host, private, container:X, ns:PATH ("" = private)."""
    text = text or ""
    head, colon, rest = text.partition(":")
    if text in ("", "private") or (kind == "ipc" and text in ("shareable", "none")):
        return ""
    if text == "host" or (head in ("container", "ns") and colon and rest):
        return text
    raise InvalidArgument(f"unrecognized namespace mode {text} passed")


def _dns_servers(values: list[str]) -> list[str]:
    import ipaddress

    for v in values:
        try:
            ipaddress.ip_address(v.split("%", 1)[0])
        except ValueError:
            raise InvalidArgument(f"{v} is not an ip address") from None
    return list(values)


def _add_hosts(values: list[str]) -> list[str]:
    """--add-host checked now (host-gateway is resolved when the files are written)."""
    from engine.network.hostsfiles import parse_add_host

    for v in values:
        parse_add_host(v)
    return list(values)


def _swap(text: str | None, parse: Any) -> int | None:
    if not text:
        return None
    if text.strip() == "-1":
        return -1
    return parse.parse_size(text, "--memory-swap")


def _healthcheck(ns: argparse.Namespace, parse: Any) -> Any:
    """None keeps the image's healthcheck; --health-cmd none disables it."""
    tuning = {"interval": ns.health_interval, "timeout": ns.health_timeout,
              "start_period": ns.health_start_period, "retries": ns.health_retries,
              "on_failure": ns.health_on_failure}
    if ns.health_cmd is None:
        return None
    given = {k: v for k, v in tuning.items() if v is not None}
    return parse.parse_healthcheck(ns.health_cmd, **given)
