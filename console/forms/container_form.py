"""The create/run (and recreate) form <-> engine.spec.options.ContainerOptions.

Every field is parsed by engine/spec/parse.py (and engine/network/ports.py), the
same functions the CLI's `run` flags go through, so the engine decides what is
valid and its error messages reach the page unchanged. `form_from_options` is
the way back: it pre-fills the form to recreate a container with edited
settings. Fields the form does not show are kept from the old options.
"""

from __future__ import annotations

import json
import shlex
from typing import Any, Mapping

from engine.errors import InvalidArgument
from engine.spec import parse
from engine.spec.options import ContainerOptions, RESTART_POLICIES, HEALTH_ON_FAILURE

TEXT_FIELDS = ("image", "pull", "name", "command", "entrypoint", "env", "ports", "volumes", "restart",
               "restart_retries", "pod", "network", "memory", "cpus", "health_cmd", "health_interval",
               "health_timeout", "health_start_period", "health_retries", "health_on_failure", "labels",
               "workdir", "user")
BOOL_FIELDS = ("tty", "clear_entrypoint")
PULL_POLICIES = ("missing", "always", "never", "newer")
# The choices a person picks from; anything else typed in the field goes to parse_network.
NETWORK_CHOICES = (("", "Default"), ("none", "None (loopback only)"), ("host", "Host"),
                   ("private", "Private (own namespace, no connection)"))

EMPTY_FORM: dict[str, Any] = {
    **{name: "" for name in TEXT_FIELDS}, "pull": "missing", "restart": "no",
    "health_interval": "30s", "health_timeout": "30s", "health_start_period": "0s", "health_retries": "3",
    "health_on_failure": "none", "tty": False, "clear_entrypoint": False,
}


def form_data(post: Mapping[str, Any]) -> dict[str, Any]:
    """The form's fields from a POST (QueryDict), to re-show after an error."""
    data: dict[str, Any] = {name: str(post.get(name, "")) for name in TEXT_FIELDS}
    for name in BOOL_FIELDS:
        data[name] = post.get(name) in ("on", "1", "true")
    return data


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith("#")]


def _command(text: str) -> list[str]:
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):  # a JSON array, as in a Containerfile
        try:
            arr = json.loads(text)
        except ValueError:
            arr = None
        if isinstance(arr, list) and all(isinstance(a, str) for a in arr):
            return arr
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise InvalidArgument(f"command: {exc}") from None


def options_from_form(data: Mapping[str, Any], base: ContainerOptions | None = None) -> ContainerOptions:
    """A ContainerOptions for `data` (what form_data returned); InvalidArgument when a
    field is wrong. `base`: the options of the container being recreated."""
    from engine.network import ports

    opts = ContainerOptions.from_dict(base.to_dict()) if base is not None else ContainerOptions()
    opts.image = data["image"].strip()
    if not opts.image:
        raise InvalidArgument("an image is needed: pick a local one or type a name to pull")
    if data["pull"] not in PULL_POLICIES:
        raise InvalidArgument(f'invalid pull policy "{data["pull"]}"')
    opts.pull = data["pull"]
    opts.name = data["name"].strip()
    opts.command = _command(data["command"])
    entry = data["entrypoint"].strip()
    opts.entrypoint = [] if data.get("clear_entrypoint") else (parse.parse_entrypoint(entry) if entry else None)
    opts.env = parse.parse_env_text(data["env"], host_env={}, source="the environment field")
    opts.publish = [m for line in _lines(data["ports"]) for m in ports.parse_publish(line)]
    opts.mounts = [m for m in opts.mounts if m.type not in ("bind", "volume")] + [
        parse.parse_volume(line) for line in _lines(data["volumes"])]
    restart = data["restart"] or "no"
    if restart not in RESTART_POLICIES:
        raise InvalidArgument(f'invalid restart policy: "{restart}"')
    retries = data["restart_retries"].strip()
    opts.restart = parse.parse_restart(f"{restart}:{retries}" if retries and restart == "on-failure" else restart)
    if base is not None and base.pod:
        # The old pod filled in the shared namespaces; the new pod (or none) decides again.
        opts.network, opts.network_arg, opts.networks = "", "", {}
        opts.ipc = opts.uts = opts.pid = ""
    opts.pod = data["pod"].strip()
    network = data["network"].strip()
    if not opts.pod and (base is None or base.pod or _network_text(base) != network):
        opts.network, opts.network_arg, opts.networks = parse.parse_network([network] if network else [])
    resources = opts.resources
    resources.memory = parse.parse_size(data["memory"].strip(), "--memory") if data["memory"].strip() else None
    resources.cpus = parse.parse_cpus(data["cpus"].strip()) if data["cpus"].strip() else None
    opts.healthcheck, opts.no_healthcheck = _healthcheck(data), False
    opts.labels = parse.parse_key_values(_lines(data["labels"]), "--label")
    opts.workdir = data["workdir"].strip()
    opts.user = data["user"].strip()
    opts.tty = bool(data.get("tty"))
    opts.detach = True
    opts.replace = False
    opts.cidfile = ""
    if opts.rm and opts.restart.name not in ("no", ""):
        opts.rm = False  # the form never sets --rm; a recreated --rm container keeps its policy
    return opts


def _healthcheck(data: Mapping[str, Any]) -> Any:
    cmd = data["health_cmd"].strip()
    if not cmd:
        return None  # the image's own healthcheck, if any
    on_failure = data["health_on_failure"] or "none"
    if on_failure not in HEALTH_ON_FAILURE:
        raise InvalidArgument(f'invalid on-failure action "{on_failure}" for healthcheck')
    return parse.parse_healthcheck(cmd, interval=data["health_interval"].strip() or "30s",
                                   timeout=data["health_timeout"].strip() or "30s",
                                   start_period=data["health_start_period"].strip() or "0s",
                                   retries=data["health_retries"].strip() or "3", on_failure=on_failure)


# ---------------------------------------------------------------- options -> form (recreate)
def _seconds(value: float) -> str:
    return f"{int(value)}s" if float(value).is_integer() else f"{value}s"


def _port_text(m: Any) -> str:
    """A PortMapping back in -p form: [ip:][hostPort:]containerPort[/proto]."""
    def span(start: int) -> str:
        return f"{start}-{start + m.range - 1}" if m.range > 1 else str(start)

    ctr = span(m.container_port)
    host = span(m.host_port) if m.host_port else ""
    ip = f"[{m.host_ip}]" if ":" in m.host_ip else m.host_ip
    text = f"{ip}:{host}:{ctr}" if ip else (f"{host}:{ctr}" if host else ctr)
    return text if m.protocol == "tcp" else f"{text}/{m.protocol}"


def _volume_text(m: Any) -> str:
    flags = ["ro"] if m.readonly else []
    flags += [o for o in m.options if o in ("nosuid", "noexec", "nodev", "suid", "exec", "dev")]
    if m.relabel:
        flags.append(m.relabel)
    if m.chown:
        flags.append("U")
    if m.overlay:
        flags.append("O")
    if m.propagation:
        flags.append(m.propagation)
    parts = ([m.source] if m.source else []) + [m.destination]
    return ":".join(parts) + (":" + ",".join(flags) if flags else "")


def _network_text(opts: ContainerOptions) -> str:
    if opts.network in ("", "bridge") and not opts.networks:
        return ""
    if opts.network == "bridge":
        return ",".join(opts.networks)
    return f"{opts.network}:{opts.network_arg}" if opts.network_arg else opts.network


def form_from_options(opts: ContainerOptions, pod_name: str = "") -> dict[str, Any]:
    hc = opts.healthcheck
    cmd = ""
    if hc and hc.test:
        cmd = hc.test[1] if hc.test[0] == "CMD-SHELL" and len(hc.test) == 2 else (
            "none" if hc.test[0] == "NONE" else json.dumps(hc.test))
    return {
        **EMPTY_FORM,
        "image": opts.image,
        "pull": opts.pull if opts.pull in PULL_POLICIES else "missing",
        "name": opts.name,
        "command": shlex.join(opts.command),
        "entrypoint": "" if not opts.entrypoint else (
            opts.entrypoint[0] if len(opts.entrypoint) == 1 else json.dumps(opts.entrypoint)),
        "clear_entrypoint": opts.entrypoint == [],
        "env": "\n".join(f"{k}={v}" for k, v in opts.env.items()),
        "ports": "\n".join(_port_text(m) for m in opts.publish),
        "volumes": "\n".join(_volume_text(m) for m in opts.mounts if m.type in ("bind", "volume")
                             and not m.anonymous),
        "restart": opts.restart.name or "no",
        "restart_retries": str(opts.restart.max_retries) if opts.restart.max_retries else "",
        "pod": pod_name,
        "network": "" if pod_name else _network_text(opts),
        "memory": str(opts.resources.memory) if opts.resources.memory else "",
        "cpus": f"{opts.resources.cpus:g}" if opts.resources.cpus else "",
        "health_cmd": cmd,
        "health_interval": _seconds(hc.interval) if hc else "30s",
        "health_timeout": _seconds(hc.timeout) if hc else "30s",
        "health_start_period": _seconds(hc.start_period) if hc else "0s",
        "health_retries": str(hc.retries) if hc else "3",
        "health_on_failure": hc.on_failure if hc else "none",
        "labels": "\n".join(f"{k}={v}" for k, v in opts.labels.items()),
        "workdir": opts.workdir,
        "user": opts.user,
        "tty": opts.tty,
    }
