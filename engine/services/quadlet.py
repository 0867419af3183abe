"""Quadlet: .container/.pod/.volume/.network/.image/.build files -> systemd units that
run Hull, as Podman 5's quadlet generator writes them.

The source file's groups are kept ([Unit], [Service], [Install] pass through; the
Quadlet group is renamed X-<Group> so systemd ignores it) and Quadlet's own lines
are added.  Keys are Podman 5's for the flags Hull has; an unknown key is refused with
Podman's message and the file is skipped.  Differences from Podman (docs/systemd.md):
no --cgroups=split (Hull has no --cgroups), hull by absolute path, `.kube` units are
Type=oneshot + RemainAfterExit (Hull's `kube play` has no service container to wait on).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from engine.errors import InvalidArgument
from engine.services.generate_systemd import hull_executable
from engine.services.unitfile import UnitFile, parse, split_words

EXTENSIONS = (".container", ".pod", ".volume", ".network", ".kube", ".image", ".build")

# [Container] key -> run flag (one flag per value); "" = handled by hand
CONTAINER_FLAGS: dict[str, str] = {
    "AddCapability": "--cap-add", "DropCapability": "--cap-drop", "AddDevice": "--device",
    "AddHost": "--add-host", "Annotation": "--annotation", "DNS": "--dns", "DNSOption": "--dns-option",
    "DNSSearch": "--dns-search", "Entrypoint": "--entrypoint", "EnvironmentFile": "--env-file",
    "GIDMap": "--gidmap", "UIDMap": "--uidmap", "GroupAdd": "--group-add", "HealthCmd": "--health-cmd",
    "HealthInterval": "--health-interval", "HealthOnFailure": "--health-on-failure",
    "HealthRetries": "--health-retries", "HealthStartPeriod": "--health-start-period",
    "HealthTimeout": "--health-timeout", "HostName": "--hostname", "IP": "--ip", "LogDriver": "--log-driver",
    "LogOpt": "--log-opt", "Mount": "--mount", "NetworkAlias": "--network-alias", "PidsLimit": "--pids-limit",
    "PublishPort": "--publish", "ExposeHostPort": "--expose", "Pull": "--pull", "Secret": "--secret",
    "ShmSize": "--shm-size", "StopSignal": "--stop-signal", "StopTimeout": "--stop-timeout",
    "Sysctl": "--sysctl", "Timezone": "--tz", "Tmpfs": "--tmpfs", "Ulimit": "--ulimit", "UserNS": "--userns",
    "WorkingDir": "--workdir", "Memory": "--memory", "Label": "--label", "Environment": "",
    "Volume": "", "Network": "", "Pod": "", "User": "", "Group": "", "Exec": "", "Image": "",
    "ContainerName": "", "EnvironmentHost": "", "NoNewPrivileges": "", "ReadOnly": "",
    "ReadOnlyTmpfs": "", "RunInit": "", "Notify": "", "PodmanArgs": "", "GlobalArgs": "",
    "AutoUpdate": "", "ServiceName": "", "StartWithPod": "", "SecurityLabelDisable": "",
}
POD_FLAGS: dict[str, str] = {
    "AddHost": "--add-host", "DNS": "--dns", "DNSOption": "--dns-option", "DNSSearch": "--dns-search",
    "HostName": "--hostname", "Label": "--label", "PublishPort": "--publish", "Network": "",
    "PodName": "", "PodmanArgs": "", "GlobalArgs": "", "ServiceName": "", "Volume": "",
}
VOLUME_KEYS = ("VolumeName", "Driver", "Label", "Options", "Type", "Device", "Copy", "User", "Group",
               "PodmanArgs", "GlobalArgs", "ServiceName")
NETWORK_KEYS = ("NetworkName", "Driver", "Label", "Subnet", "Gateway", "IPRange", "Internal", "IPv6",
                "DNS", "DisableDNS", "Options", "PodmanArgs", "GlobalArgs", "ServiceName")
IMAGE_KEYS = ("Image", "ImageTag", "AllTags", "Arch", "AuthFile", "CertDir", "Creds", "TLSVerify",
              "OS", "Variant", "PodmanArgs", "GlobalArgs", "ServiceName")
KUBE_KEYS = ("Yaml", "ConfigMap", "LogDriver", "LogOpt", "Network", "PublishPort", "KubeDownForce",
             "SetWorkingDirectory", "PodmanArgs", "GlobalArgs", "ServiceName")
BUILD_KEYS = ("ImageTag", "File", "SetWorkingDirectory", "Label", "Annotation", "Environment", "Pull",
              "Target", "Secret", "Network", "Volume", "AuthFile", "PodmanArgs", "GlobalArgs", "ServiceName")
_GROUPS = {".container": "Container", ".pod": "Pod", ".volume": "Volume", ".network": "Network",
           ".kube": "Kube", ".image": "Image", ".build": "Build"}
_SUFFIX = {".container": "", ".pod": "-pod", ".volume": "-volume", ".network": "-network",
           ".kube": "", ".image": "-image", ".build": "-build"}


class QuadletError(InvalidArgument):
    """One source file could not be converted (the generator reports it and goes on)."""


@dataclass
class Source:
    path: str
    unit: UnitFile
    dropins: list[str] = field(default_factory=list)

    @property
    def name(self) -> str:
        return os.path.basename(self.path)

    @property
    def base(self) -> str:
        return os.path.splitext(self.name)[0]

    @property
    def ext(self) -> str:
        return os.path.splitext(self.name)[1]


# ------------------------------------------------------------------ search paths
def search_dirs(user: bool, uid: int | None = None) -> list[str]:
    """QUADLET_UNIT_DIRS, else Podman's directories (rootful or rootless)."""
    given = os.environ.get("QUADLET_UNIT_DIRS")
    if given:
        return [d for d in given.split(":") if d]
    if not user:
        return ["/run/containers/systemd", "/etc/containers/systemd", "/usr/share/containers/systemd"]
    uid = os.getuid() if uid is None else uid
    home = os.environ.get("HOME") or os.path.expanduser("~")
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(home, ".config")
    dirs = []
    if os.environ.get("XDG_RUNTIME_DIR"):
        dirs.append(os.path.join(os.environ["XDG_RUNTIME_DIR"], "containers", "systemd"))
    return dirs + [os.path.join(config, "containers", "systemd"), f"/etc/containers/systemd/users/{uid}",
                   "/etc/containers/systemd/users"]


def _walk(directory: str) -> list[str]:
    out: list[str] = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return out
    for name in names:
        path = os.path.join(directory, name)
        if os.path.isdir(path) and not name.endswith(".d"):
            if not (directory.rstrip("/") == "/etc/containers/systemd" and name == "users"):
                out += _walk(path)  # Podman reads subdirectories too (users/ is the rootless tree)
        elif os.path.splitext(name)[1] in EXTENSIONS:
            out.append(path)
    return out


def _dropin_dirs(name: str) -> list[str]:
    """foo-bar.container -> foo-bar.container.d, foo-.container.d, container.d (most specific last)."""
    base, ext = os.path.splitext(name)
    dirs = [f"{ext[1:]}.d"]
    parts = base.split("-")
    for i in range(1, len(parts)):
        dirs.append("-".join(parts[:i]) + "-" + ext + ".d")
    dirs.append(name + ".d")
    return dirs


def load_sources(dirs: list[str]) -> list[Source]:
    """Every source file (the first of a name wins), with its drop-ins merged in."""
    seen: dict[str, Source] = {}
    for d in dirs:
        for path in _walk(d):
            name = os.path.basename(path)
            if name in seen:
                continue
            with open(path, encoding="utf-8") as fh:
                seen[name] = Source(path, parse(fh.read(), path))
    for src in seen.values():
        confs: dict[str, str] = {}
        for sub in _dropin_dirs(src.name):
            for d in reversed(dirs):  # higher-priority directories override lower ones
                try:
                    names = os.listdir(os.path.join(d, sub))
                except OSError:
                    continue
                for conf in names:
                    if conf.endswith(".conf"):
                        confs[conf] = os.path.join(d, sub, conf)
        for conf in sorted(confs):
            with open(confs[conf], encoding="utf-8") as fh:
                src.unit.merge(parse(fh.read(), confs[conf]))
            src.dropins.append(confs[conf])
    return list(seen.values())


# ------------------------------------------------------------------ conversion
def service_name(src: Source) -> str:
    group = _GROUPS[src.ext]
    given = src.unit.last(group, "ServiceName")
    return (given or src.base + _SUFFIX[src.ext]) + ".service"


def _check_keys(src: Source, group: str, allowed) -> None:
    for e in src.unit.entries(group):
        if e.key not in allowed:
            where = f"{e.path or src.path}:{e.line}" if e.line else src.path
            raise QuadletError(f"unsupported key '{e.key}' in group '{group}' in {where}")


def _quote(arg: str) -> str:
    """Quadlet leaves % and $ alone (users write %h, %N...); it only quotes blanks."""
    if arg and not any(ch in arg for ch in " \t\n\"'\\;"):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _exec(args: list[str]) -> str:
    return " ".join(_quote(a) for a in args)


def _hull(src: Source, group: str) -> list[str]:
    globals_ = [w for v in src.unit.values(group, "GlobalArgs") for w in split_words(v)]
    return [hull_executable(), *globals_]


def _resource(value: str, by_name: dict[str, Source], unit: UnitFile, kind: str) -> str:
    """`foo.volume`/`foo.network`/`foo.pod`/`foo.image`/`foo.build` -> the name it makes,
    and a dependency on its unit; anything else is taken as is."""
    for ext in (".volume", ".network", ".image", ".build"):
        if value.endswith(ext) or (ext == ".volume" and value.split(":", 1)[0].endswith(ext)):
            head, colon, rest = value.partition(":") if ext == ".volume" else (value, "", "")
            other = by_name.get(head)
            if other is None:
                raise QuadletError(f"requested Quadlet {kind} {head} was not found")
            dep = service_name(other)
            unit.add("Unit", "Requires", dep)
            unit.add("Unit", "After", dep)
            return resource_name(other) + colon + rest
    return value


def resource_name(src: Source) -> str:
    """The name of the volume/network/pod/image a source file makes (systemd-NAME by default)."""
    group = _GROUPS[src.ext]
    key = {".volume": "VolumeName", ".network": "NetworkName", ".pod": "PodName"}.get(src.ext)
    if key:
        return src.unit.last(group, key) or f"systemd-{src.base}"
    if src.ext == ".image":
        return src.unit.last("Image", "ImageTag") or src.unit.last("Image", "Image")
    if src.ext == ".build":
        return src.unit.last("Build", "ImageTag")
    return src.base


def _bool(text: str) -> bool:
    return text.strip().lower() in ("1", "yes", "true", "on")


def _base_unit(src: Source, group: str) -> UnitFile:
    out = UnitFile(path=src.path)
    out.groups = {g: list(e) for g, e in src.unit.groups.items()}
    out.rename_group(group, f"X-{group}")
    out.groups.setdefault("Unit", [])
    out.groups.setdefault("Service", [])
    out.add("Unit", "SourcePath", src.path)
    out.add("Unit", "RequiresMountsFor", "%t/hull")
    return out


def convert_container(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g = "Container"
    _check_keys(src, g, CONTAINER_FLAGS)
    u = src.unit
    image = u.last(g, "Image")
    if not image:
        raise QuadletError(f"no Image or Rootfs key specified in group 'Container' in {src.path}")
    out = _base_unit(src, g)
    out.add("Unit", "Wants", "network-online.target")
    out.add("Unit", "After", "network-online.target")
    name = u.last(g, "ContainerName") or "systemd-%N"
    hull = _hull(src, g)
    args = ["run", "--name", name, "--cidfile=%t/%N.cid", "--replace", "--rm"]
    notify = u.last(g, "Notify")
    args.append("--sdnotify=" + ("healthy" if notify == "healthy" else "container" if _bool(notify) else "conmon"))
    args.append("-d")
    pod = u.last(g, "Pod")
    if pod:
        other = by_name.get(pod)
        if other is None or other.ext != ".pod":
            raise QuadletError(f"quadlet pod unit {pod} does not exist")
        psvc = service_name(other)
        out.add("Unit", "BindsTo", psvc)
        out.add("Unit", "After", psvc)
        args.append(f"--pod-id-file=%t/{psvc[:-len('.service')]}.pod-id")
    if u.last(g, "RunInit") and _bool(u.last(g, "RunInit")):
        args.append("--init")
    if u.last(g, "ReadOnly"):
        args.append(f"--read-only={'true' if _bool(u.last(g, 'ReadOnly')) else 'false'}")
    if u.last(g, "ReadOnlyTmpfs"):
        args.append(f"--read-only-tmpfs={'true' if _bool(u.last(g, 'ReadOnlyTmpfs')) else 'false'}")
    if _bool(u.last(g, "NoNewPrivileges")):
        args += ["--security-opt", "no-new-privileges"]
    if _bool(u.last(g, "SecurityLabelDisable")):
        args += ["--security-opt", "label=disable"]
    if _bool(u.last(g, "EnvironmentHost")):
        args.append("--env-host")
    user, group = u.last(g, "User"), u.last(g, "Group")
    if user or group:
        args += ["--user", user + (":" + group if group else "")]
    for value in u.values(g, "Network"):
        args += ["--network", _resource(value, by_name, out, "network")]
    for value in u.values(g, "Volume"):
        args += ["-v", _resource(value, by_name, out, "volume")]
    for value in u.values(g, "Environment"):
        for word in split_words(value):
            args += ["--env", word]
    auto = u.last(g, "AutoUpdate")
    if auto:
        args += ["--label", f"io.containers.autoupdate={auto}"]
    for key, flag in CONTAINER_FLAGS.items():
        if not flag:
            continue
        for value in u.values(g, key):
            words = split_words(value) if key in ("Label", "Annotation") else [value]
            for w in words:
                args += [flag, w]
    for value in u.values(g, "PodmanArgs"):
        args += split_words(value)
    image = _resource(image, by_name, out, "image")
    args.append(image)
    for value in u.values(g, "Exec"):
        args += split_words(value)
    svc = [("Environment", "PODMAN_SYSTEMD_UNIT=%n"), ("KillMode", "mixed"),
           ("ExecStop", _exec(hull + ["rm", "-v", "-f", "-i", "--cidfile=%t/%N.cid"])),
           ("ExecStopPost", "-" + _exec(hull + ["rm", "-v", "-f", "-i", "--cidfile=%t/%N.cid"])),
           ("Delegate", "yes"), ("Type", "notify"), ("NotifyAccess", "all"), ("SyslogIdentifier", "%N"),
           ("ExecStart", _exec(hull + args))]
    existing = {e.key for e in out.entries("Service")}
    for key, value in svc:
        if key in ("KillMode", "Delegate", "Type", "NotifyAccess", "SyslogIdentifier") and key in existing:
            continue  # the user's own [Service] setting wins (Podman: only defaults)
        out.add("Service", key, value)
    return out


def convert_pod(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g = "Pod"
    _check_keys(src, g, POD_FLAGS)
    u = src.unit
    out = _base_unit(src, g)
    out.add("Unit", "Wants", "network-online.target")
    out.add("Unit", "After", "network-online.target")
    me = service_name(src)
    members = [service_name(s) for s in by_name.values()
               if s.ext == ".container" and s.unit.last("Container", "Pod") == src.name
               and _bool(s.unit.last("Container", "StartWithPod") or "true")]
    for m in members:
        out.add("Unit", "Wants", m)
        out.add("Unit", "Before", m)
    hull = _hull(src, g)
    create = ["pod", "create", "--infra-conmon-pidfile=%t/%N.pid", "--pod-id-file=%t/%N.pod-id",
              "--exit-policy=stop", "--replace", "--name", resource_name(src)]
    for value in u.values(g, "Network"):
        create += ["--network", _resource(value, by_name, out, "network")]
    for key, flag in POD_FLAGS.items():
        for value in (u.values(g, key) if flag else []):
            create += [flag, value]
    for value in u.values(g, "PodmanArgs"):
        create += split_words(value)
    for key, value in [("Environment", "PODMAN_SYSTEMD_UNIT=%n"), ("Type", "forking"),
                       ("Restart", "on-failure"), ("PIDFile", "%t/%N.pid"),
                       ("ExecStartPre", _exec(hull + create)),
                       ("ExecStart", _exec(hull + ["pod", "start", "--pod-id-file=%t/%N.pod-id"])),
                       ("ExecStop", _exec(hull + ["pod", "stop", "--pod-id-file=%t/%N.pod-id", "--ignore",
                                                  "--time=10"])),
                       ("ExecStopPost", _exec(hull + ["pod", "rm", "--pod-id-file=%t/%N.pod-id", "--ignore",
                                                      "--force"]))]:
        out.add("Service", key, value)
    del me
    return out


def _oneshot(src: Source, g: str, keys, argv: list[str]) -> UnitFile:
    _check_keys(src, g, keys)
    out = _base_unit(src, g)
    for value in src.unit.values(g, "PodmanArgs"):
        argv = argv[:-1] + split_words(value) + argv[-1:]
    out.add("Service", "ExecStart", _exec(_hull(src, g) + argv))
    out.add("Service", "Type", "oneshot")
    out.add("Service", "RemainAfterExit", "yes")
    out.add("Service", "SyslogIdentifier", "%N")
    return out


def convert_volume(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g, u = "Volume", src.unit
    args = ["volume", "create", "--ignore"]
    if u.last(g, "Driver"):
        args += ["--driver", u.last(g, "Driver")]
    opts = []
    for key, opt in (("Type", "type"), ("Device", "device")):
        if u.last(g, key):
            opts.append(f"{opt}={u.last(g, key)}")
    if u.last(g, "Options"):
        opts.append(f"o={u.last(g, 'Options')}")
    for o in opts:
        args += ["--opt", o]
    for value in u.values(g, "Label"):
        for w in split_words(value):
            args += ["--label", w]
    return _oneshot(src, g, VOLUME_KEYS, args + [resource_name(src)])


def convert_network(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g, u = "Network", src.unit
    args = ["network", "create", "--ignore"]
    for key, flag in (("Driver", "--driver"), ("Subnet", "--subnet"), ("Gateway", "--gateway"),
                      ("IPRange", "--ip-range"), ("DNS", "--dns")):
        for value in u.values(g, key):
            args += [flag, value]
    for key, flag in (("Internal", "--internal"), ("IPv6", "--ipv6"), ("DisableDNS", "--disable-dns")):
        if _bool(u.last(g, key)):
            args.append(flag)
    for value in u.values(g, "Options"):
        args += ["--opt", value]
    for value in u.values(g, "Label"):
        for w in split_words(value):
            args += ["--label", w]
    return _oneshot(src, g, NETWORK_KEYS, args + [resource_name(src)])


def convert_image(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g, u = "Image", src.unit
    if not u.last(g, "Image"):
        raise QuadletError(f"no Image key specified in group 'Image' in {src.path}")
    args = ["pull"]
    for key, flag in (("AuthFile", "--authfile"), ("CertDir", "--cert-dir"), ("Creds", "--creds"),
                      ("Arch", "--arch"), ("OS", "--os"), ("Variant", "--variant")):
        if u.last(g, key):
            args += [flag, u.last(g, key)]
    if u.last(g, "TLSVerify"):
        args.append(f"--tls-verify={'true' if _bool(u.last(g, 'TLSVerify')) else 'false'}")
    if _bool(u.last(g, "AllTags")):
        args.append("--all-tags")
    return _oneshot(src, g, IMAGE_KEYS, args + [u.last(g, "Image")])


def convert_build(src: Source, by_name: dict[str, Source]) -> UnitFile:
    g, u = "Build", src.unit
    if not u.last(g, "ImageTag"):
        raise QuadletError(f"no ImageTag key specified in group 'Build' in {src.path}")
    args = ["build", "--tag", u.last(g, "ImageTag")]
    for key, flag in (("File", "--file"), ("Target", "--target"), ("Pull", "--pull"),
                      ("AuthFile", "--authfile"), ("Network", "--network")):
        if u.last(g, key):
            args += [flag, u.last(g, key)]
    for key, flag in (("Label", "--label"), ("Annotation", "--annotation"), ("Environment", "--env")):
        for value in u.values(g, key):
            for w in split_words(value):
                args += [flag, w]
    for value in u.values(g, "Secret"):
        args += ["--secret", value]
    for value in u.values(g, "Volume"):
        args += ["--volume", value]
    context = u.last(g, "SetWorkingDirectory")
    if not context:
        raise QuadletError("SetWorkingDirectory key must be set to the build context (file or unit)")
    if context == "unit":
        context = os.path.dirname(src.path)
    out = _oneshot(src, g, BUILD_KEYS, args + [context])
    out.add("Service", "WorkingDirectory", context)
    return out


def _abs(src: Source, path: str) -> str:
    """Relative Yaml=/ConfigMap= paths are relative to the unit file (as Podman's quadlet)."""
    return path if os.path.isabs(path) or path.startswith("%") else os.path.join(os.path.dirname(src.path), path)


def convert_kube(src: Source, by_name: dict[str, Source]) -> UnitFile:
    """`hull kube play --replace FILE` as a oneshot that stays active; `kube down` on stop.
    Podman runs `kube play --service-container=true` (Type=notify on its service
    container); Hull's play returns once the pods run, so RemainAfterExit keeps the unit up."""
    g, u = "Kube", src.unit
    _check_keys(src, g, KUBE_KEYS)
    yaml_path = u.last(g, "Yaml")
    if not yaml_path:
        raise QuadletError(f"no Yaml key specified in group 'Kube' in {src.path}")
    yaml_path = _abs(src, yaml_path)
    out = _base_unit(src, g)
    out.add("Unit", "Wants", "network-online.target")
    out.add("Unit", "After", "network-online.target")
    hull = _hull(src, g)
    play = ["kube", "play", "--replace"]
    if u.last(g, "LogDriver"):
        play += ["--log-driver", u.last(g, "LogDriver")]
    for value in u.values(g, "LogOpt"):
        play += ["--log-opt", value]
    for value in u.values(g, "Network"):
        play += ["--network", _resource(value, by_name, out, "network")]
    for value in u.values(g, "ConfigMap"):
        play += ["--configmap", _abs(src, value)]
    for value in u.values(g, "PublishPort"):
        play += ["--publish", value]
    for value in u.values(g, "PodmanArgs"):
        play += split_words(value)
    down = ["kube", "down", *(["--force"] if _bool(u.last(g, "KubeDownForce")) else []), yaml_path]
    existing = {e.key for e in out.entries("Service")}
    for key, value in [("Environment", "PODMAN_SYSTEMD_UNIT=%n"), ("Type", "oneshot"),
                       ("RemainAfterExit", "yes"), ("SyslogIdentifier", "%N"),
                       ("ExecStart", _exec(hull + play + [yaml_path])),
                       ("ExecStopPost", _exec(hull + down))]:
        if key in ("Type", "RemainAfterExit", "SyslogIdentifier") and key in existing:
            continue
        out.add("Service", key, value)
    workdir = u.last(g, "SetWorkingDirectory")
    if workdir:  # kube play --build reads the context from the working directory
        out.add("Service", "WorkingDirectory", os.path.dirname(yaml_path) if workdir == "yaml"
                else os.path.dirname(src.path) if workdir == "unit" else workdir)
    return out


CONVERTERS = {".container": convert_container, ".pod": convert_pod, ".volume": convert_volume,
              ".network": convert_network, ".image": convert_image, ".build": convert_build,
              ".kube": convert_kube}


def header(src: Source) -> str:
    return f"# Automatically generated by {hull_executable()}-quadlet\n#\n"


def convert(src: Source, by_name: dict[str, Source]) -> tuple[str, str]:
    """(service file name, text)."""
    unit = CONVERTERS[src.ext](src, by_name)
    return service_name(src), header(src) + unit.render()


def install_links(src: Source, service: str) -> list[tuple[str, str]]:
    """[Install] WantedBy=/RequiredBy=/Alias= -> (link path relative to the output dir, target)."""
    links: list[tuple[str, str]] = []
    for key, suffix in (("WantedBy", ".wants"), ("RequiredBy", ".requires"), ("UpheldBy", ".upholds")):
        for value in src.unit.values("Install", key):
            for target in split_words(value):
                links.append((os.path.join(target + suffix, service), "../" + service))
    for value in src.unit.values("Install", "Alias"):
        for alias in split_words(value):
            links.append((alias, service))
    return links
