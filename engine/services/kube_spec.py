"""A Kubernetes pod spec -> Hull's options: the pod's infra (ports, hostname, network)
and one ContainerOptions per container, for `kube play`.

Pure translation plus the reading of ConfigMaps and Secrets; nothing here creates
objects.  What the pod's volumes need on disk (configMap/secret files, emptyDir)
is described by `VolumePlan`s that kube_play.py makes real.  Every field is checked
for its type: the YAML may be hostile, and a wrong type is one line, not a traceback.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from engine.errors import InvalidArgument
from engine.services.kube_yaml import check_key, check_name, check_relpath

RESTART = {"Always": "always", "OnFailure": "on-failure", "Never": "no"}
PULL = {"Always": "always", "Never": "never", "IfNotPresent": "missing"}
KUBE_VOLUME_LABEL = "io.hull.kube.pod"   # volumes kube play made for a pod (configMap, secret, emptyDir)


# ---------------------------------------------------------------- typed access
def mapping(value: Any, where: str, required: bool = False) -> dict:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise InvalidArgument(f"{where}: expected a mapping")
    return value


def seq(value: Any, where: str) -> list:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidArgument(f"{where}: expected a list")
    return value


def text(value: Any, where: str, required: bool = False) -> str:
    if value is None:
        if required:
            raise InvalidArgument(f"{where} is required")
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise InvalidArgument(f"{where}: expected a string")
    return str(value)


def integer(value: Any, where: str, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgument(f"{where}: expected an integer")
    return value


def strings(value: Any, where: str) -> list[str]:
    return [text(v, f"{where}[{i}]", True) for i, v in enumerate(seq(value, where))]


def string_map(value: Any, where: str) -> dict[str, str]:
    return {text(k, where, True): text(v, f"{where}.{k}") for k, v in mapping(value, where).items()}


# ---------------------------------------------------------------- quantities
_BINARY = {"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}
_DECIMAL = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18, "m": 1e-3}


def parse_quantity(value: Any, where: str) -> float:
    """Kubernetes resource quantities: 64Mi, 1G, 500m, 0.5, 129e6."""
    raw = text(value, where, True).strip()
    m = re.fullmatch(r"([0-9.]+(?:[eE][-+]?[0-9]+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E|m)?", raw)
    if not m:
        raise InvalidArgument(f"{where}: quantities must match the regular expression "
                              f"'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {raw!r}")
    try:
        number = float(m.group(1))
    except ValueError:
        raise InvalidArgument(f"{where}: invalid quantity {raw!r}") from None
    suffix = m.group(2) or ""
    return number * (_BINARY.get(suffix) or _DECIMAL[suffix])


# ---------------------------------------------------------------- ConfigMaps and Secrets
class Sources:
    """ConfigMaps (from the YAML and --configmap files) and Secrets (from the YAML, else
    from Hull's secret store, where kube play keeps them) by name."""

    def __init__(self, store: Any, configmaps: dict[str, dict], secrets: dict[str, dict]) -> None:
        self.store = store
        self.configmaps = configmaps
        self.secrets = secrets

    def configmap(self, name: str, optional: bool, where: str) -> dict[str, bytes] | None:
        doc = self.configmaps.get(name)
        if doc is None:
            if optional:
                return None
            raise InvalidArgument(f"{where}: configmap {name} not found")
        return configmap_data(doc)

    def secret(self, name: str, optional: bool, where: str) -> dict[str, bytes] | None:
        doc = self.secrets.get(name)
        if doc is None and self.store is not None and self.store.secrets.exists(name):
            raw = self.store.secrets.read_data(self.store.secrets.lookup(name))
            try:
                doc = json.loads(raw)
            except ValueError:
                doc = None
            if not isinstance(doc, dict) or not ("data" in doc or "stringData" in doc):
                raise InvalidArgument(f"{where}: secret {name} was not created from a Kubernetes Secret")
        if doc is None:
            if optional:
                return None
            raise InvalidArgument(f"{where}: secret {name} not found")
        return secret_data(doc)


def configmap_data(doc: dict) -> dict[str, bytes]:
    name = doc["metadata"]["name"]
    out = {check_key(k, f"configmap {name}"): text(v, f"configmap {name}.data.{k}").encode()
           for k, v in mapping(doc.get("data"), f"configmap {name}.data").items()}
    for k, v in mapping(doc.get("binaryData"), f"configmap {name}.binaryData").items():
        out[check_key(k, f"configmap {name}")] = _b64(v, f"configmap {name}.binaryData.{k}")
    return out


def secret_data(doc: dict) -> dict[str, bytes]:
    name = (doc.get("metadata") or {}).get("name", "")
    out = {check_key(k, f"secret {name}"): _b64(v, f"secret {name}.data.{k}")
           for k, v in mapping(doc.get("data"), f"secret {name}.data").items()}
    for k, v in mapping(doc.get("stringData"), f"secret {name}.stringData").items():
        out[check_key(k, f"secret {name}")] = text(v, f"secret {name}.stringData.{k}").encode()
    return out


def _b64(value: Any, where: str) -> bytes:
    try:
        return base64.b64decode(text(value, where), validate=True)
    except (binascii.Error, ValueError):
        raise InvalidArgument(f"{where}: illegal base64 data") from None


def _utf8(data: bytes, where: str) -> str:
    try:
        return data.decode()
    except UnicodeDecodeError:
        raise InvalidArgument(f"{where}: value is not valid UTF-8") from None


# ---------------------------------------------------------------- volumes
@dataclass
class VolumePlan:
    """A volume of the pod that kube play makes: a Hull volume named `volume` (labelled
    with the pod) holding `files` (configMap, secret) or nothing (emptyDir)."""

    kind: str                     # configMap | secret | emptyDir
    volume: str
    files: dict[str, tuple[bytes, int]] = field(default_factory=dict)   # relative path -> (data, mode)


@dataclass
class PodVolume:
    kind: str                     # hostPath | pvc | plan | tmpfs
    source: str = ""              # host path, claim name or plan volume name
    host_type: str = ""
    readonly: bool = False


def _items(data: dict[str, bytes], spec: dict, where: str) -> dict[str, tuple[bytes, int]]:
    default_mode = integer(spec.get("defaultMode"), f"{where}.defaultMode", 0o644)
    items = seq(spec.get("items"), f"{where}.items")
    if not items:
        return {k: (v, default_mode) for k, v in data.items()}
    out = {}
    for i, item in enumerate(items):
        item = mapping(item, f"{where}.items[{i}]")
        key = text(item.get("key"), f"{where}.items[{i}].key", True)
        if key not in data:
            raise InvalidArgument(f"{where}: key {key} not found")
        path = check_relpath(text(item.get("path"), f"{where}.items[{i}].path", True), where)
        out[path] = (data[key], integer(item.get("mode"), f"{where}.items[{i}].mode", default_mode))
    return out


def pod_volumes(pod_name: str, spec: dict, sources: Sources) -> tuple[dict[str, PodVolume], list[VolumePlan]]:
    out: dict[str, PodVolume] = {}
    plans: list[VolumePlan] = []
    for i, v in enumerate(seq(spec.get("volumes"), "spec.volumes")):
        v = mapping(v, f"spec.volumes[{i}]")
        name = check_name(text(v.get("name"), f"spec.volumes[{i}].name", True), "volume")
        where = f"volume {name}"
        if "hostPath" in v:
            hp = mapping(v["hostPath"], where, True)
            path = text(hp.get("path"), f"{where}.hostPath.path", True)
            if not path.startswith("/"):
                raise InvalidArgument(f"{where}: hostPath path {path!r} must be absolute")
            out[name] = PodVolume("hostPath", path, text(hp.get("type"), f"{where}.hostPath.type"))
        elif "persistentVolumeClaim" in v:
            pvc = mapping(v["persistentVolumeClaim"], where, True)
            claim = check_name(text(pvc.get("claimName"), f"{where}.claimName", True), "persistentVolumeClaim")
            out[name] = PodVolume("pvc", claim, readonly=bool(pvc.get("readOnly")))
        elif "emptyDir" in v:
            ed = mapping(v["emptyDir"], where)
            if ed.get("medium") == "Memory":
                out[name] = PodVolume("tmpfs")
            else:
                vol = f"{pod_name}-{name}"
                plans.append(VolumePlan("emptyDir", vol))
                out[name] = PodVolume("plan", vol)
        elif "configMap" in v or "secret" in v:
            kind = "configMap" if "configMap" in v else "secret"
            sv = mapping(v[kind], where, True)
            ref = text(sv.get("name" if kind == "configMap" else "secretName"), f"{where}.{kind} name", True)
            optional = bool(sv.get("optional"))
            data = (sources.configmap(ref, optional, where) if kind == "configMap"
                    else sources.secret(ref, optional, where))
            vol = f"{pod_name}-{name}"
            plans.append(VolumePlan(kind, vol, _items(data or {}, sv, where)))
            out[name] = PodVolume("plan", vol, readonly=True)
        else:
            kinds = [k for k in v if k != "name"]
            raise InvalidArgument(f"{where}: volume type {kinds[0] if kinds else '(none)'} is not supported")
    return out, plans


# ---------------------------------------------------------------- containers
def _env(ctr: dict, where: str, pod_name: str, sources: Sources) -> dict[str, str]:
    env: dict[str, str] = {}
    for i, ef in enumerate(seq(ctr.get("envFrom"), f"{where}.envFrom")):
        ef = mapping(ef, f"{where}.envFrom[{i}]")
        prefix = text(ef.get("prefix"), f"{where}.envFrom[{i}].prefix")
        if "configMapRef" in ef:
            ref = mapping(ef["configMapRef"], where, True)
            data = sources.configmap(text(ref.get("name"), f"{where}.configMapRef.name", True),
                                     bool(ref.get("optional")), where)
        elif "secretRef" in ef:
            ref = mapping(ef["secretRef"], where, True)
            data = sources.secret(text(ref.get("name"), f"{where}.secretRef.name", True),
                                  bool(ref.get("optional")), where)
        else:
            raise InvalidArgument(f"{where}.envFrom[{i}]: configMapRef or secretRef is required")
        for k, v in (data or {}).items():
            env[prefix + k] = _utf8(v, f"{where} env {k}")
    for i, e in enumerate(seq(ctr.get("env"), f"{where}.env")):
        e = mapping(e, f"{where}.env[{i}]")
        name = text(e.get("name"), f"{where}.env[{i}].name", True)
        if "valueFrom" not in e:
            env[name] = text(e.get("value"), f"{where}.env {name}")
            continue
        vf = mapping(e["valueFrom"], f"{where}.env {name}.valueFrom", True)
        value: str | None
        if "configMapKeyRef" in vf or "secretKeyRef" in vf:
            kind = "configMapKeyRef" if "configMapKeyRef" in vf else "secretKeyRef"
            ref = mapping(vf[kind], where, True)
            ref_name = text(ref.get("name"), f"{where}.env {name}.{kind}.name", True)
            key = text(ref.get("key"), f"{where}.env {name}.{kind}.key", True)
            optional = bool(ref.get("optional"))
            data = (sources.configmap(ref_name, optional, f"cannot set env {name}") if kind == "configMapKeyRef"
                    else sources.secret(ref_name, optional, f"cannot set env {name}"))
            if data is None:
                continue
            if key not in data:
                if optional:
                    continue
                raise InvalidArgument(f"cannot set env {name}: key {key} not found in "
                                      f"{'configmap' if kind == 'configMapKeyRef' else 'secret'} {ref_name}")
            value = _utf8(data[key], f"{where} env {name}")
        elif "fieldRef" in vf:
            path = text(mapping(vf["fieldRef"], where, True).get("fieldPath"), f"{where}.env {name}.fieldPath", True)
            value = {"metadata.name": pod_name, "metadata.namespace": "default"}.get(path)
            if value is None:
                raise InvalidArgument(f"cannot set env {name}: fieldPath {path} is not supported")
        else:
            raise InvalidArgument(f"cannot set env {name}: only configMapKeyRef, secretKeyRef and fieldRef are "
                                  "supported in valueFrom")
        env[name] = value
    return env


def _probe(probe: dict, where: str) -> Any:
    from engine.spec.options import HealthConfig

    if "exec" in probe:
        command = strings(mapping(probe["exec"], where, True).get("command"), f"{where}.exec.command")
        if not command:
            raise InvalidArgument(f"{where}.exec.command must not be empty")
        test = ["CMD", *command]
    elif "httpGet" in probe:  # as Podman: curl inside the container
        hg = mapping(probe["httpGet"], where, True)
        host = text(hg.get("host"), where) or "localhost"
        scheme = (text(hg.get("scheme"), where) or "HTTP").lower()
        url = f"{scheme}://{host}:{text(hg.get('port'), f'{where}.httpGet.port', True)}{text(hg.get('path'), where)}"
        test = ["CMD-SHELL", f"curl -f {shlex.quote(url)} || exit 1"]
    elif "tcpSocket" in probe:
        ts = mapping(probe["tcpSocket"], where, True)
        host = text(ts.get("host"), where) or "localhost"
        test = ["CMD-SHELL", f"nc -z -v {shlex.quote(host)} {shlex.quote(text(ts.get('port'), where, True))} "
                             "|| exit 1"]
    else:
        raise InvalidArgument(f"{where}: exec, httpGet or tcpSocket is required")
    return HealthConfig(test=test, interval=float(integer(probe.get("periodSeconds"), where, 10)),
                        timeout=float(integer(probe.get("timeoutSeconds"), where, 1)),
                        start_period=float(integer(probe.get("initialDelaySeconds"), where, 0)),
                        retries=integer(probe.get("failureThreshold"), where, 3) or 3)


def _security(opts: Any, sc: dict, pod_sc: dict, where: str) -> None:
    from engine.spec.parse import parse_capabilities

    uid = integer(sc.get("runAsUser", pod_sc.get("runAsUser")), f"{where}.runAsUser")
    gid = integer(sc.get("runAsGroup", pod_sc.get("runAsGroup")), f"{where}.runAsGroup")
    if uid is not None:
        opts.user = f"{uid}:{gid}" if gid is not None else str(uid)
    elif gid is not None:
        opts.user = f"0:{gid}"
    opts.privileged = bool(sc.get("privileged"))
    opts.read_only = bool(sc.get("readOnlyRootFilesystem"))
    if sc.get("allowPrivilegeEscalation") is False:
        opts.security.no_new_privileges = True
    caps = mapping(sc.get("capabilities"), f"{where}.capabilities")
    opts.cap_add = parse_capabilities(strings(caps.get("add"), f"{where}.capabilities.add"))
    opts.cap_drop = parse_capabilities(strings(caps.get("drop"), f"{where}.capabilities.drop"))


def container_options(pod_name: str, pod_meta: dict, spec: dict, ctr: Any, index: int, volumes: dict[str, PodVolume],
                      sources: Sources) -> Any:
    from engine.spec.options import ContainerOptions, MountSpec, Resources, RestartPolicy

    ctr = mapping(ctr, f"spec.containers[{index}]", True)
    cname = check_name(text(ctr.get("name"), f"spec.containers[{index}].name", True), "container")
    where = f"container {cname}"
    image = text(ctr.get("image"), f"{where}.image")
    if not image:
        raise InvalidArgument(f"pod {pod_name}: container {cname} has no image (field image is required)")
    opts = ContainerOptions(image=image, name=f"{pod_name}-{cname}")
    if "command" in ctr:
        opts.entrypoint = strings(ctr["command"], f"{where}.command")
    opts.command = strings(ctr.get("args"), f"{where}.args")
    opts.workdir = text(ctr.get("workingDir"), f"{where}.workingDir")
    opts.env = _env(ctr, where, pod_name, sources)
    opts.tty = bool(ctr.get("tty"))
    opts.interactive = bool(ctr.get("stdin"))
    policy = text(ctr.get("imagePullPolicy"), f"{where}.imagePullPolicy") or "IfNotPresent"
    if policy not in PULL:
        raise InvalidArgument(f"{where}: imagePullPolicy {policy!r} is not one of Always, Never, IfNotPresent")
    opts.pull = PULL[policy]
    restart = text(spec.get("restartPolicy"), "spec.restartPolicy") or "Always"
    if restart not in RESTART:
        raise InvalidArgument(f"spec.restartPolicy {restart!r} is not one of Always, OnFailure, Never")
    opts.restart = RestartPolicy(name=RESTART[restart])
    opts.annotations = string_map(pod_meta.get("annotations"), "metadata.annotations")
    _security(opts, mapping(ctr.get("securityContext"), f"{where}.securityContext"),
              mapping(spec.get("securityContext"), "spec.securityContext"), where)
    res = mapping(ctr.get("resources"), f"{where}.resources")
    limits = mapping(res.get("limits"), f"{where}.resources.limits")
    requests = mapping(res.get("requests"), f"{where}.resources.requests")
    opts.resources = Resources(
        memory=int(parse_quantity(limits["memory"], f"{where} memory")) if "memory" in limits else None,
        cpus=parse_quantity(limits["cpu"], f"{where} cpu") if "cpu" in limits else None,
        memory_reservation=(int(parse_quantity(requests["memory"], f"{where} memory request"))
                            if "memory" in requests else None))
    if "livenessProbe" in ctr:
        opts.healthcheck = _probe(mapping(ctr["livenessProbe"], f"{where}.livenessProbe", True),
                                  f"{where}.livenessProbe")
    mounts = []
    for i, vm in enumerate(seq(ctr.get("volumeMounts"), f"{where}.volumeMounts")):
        vm = mapping(vm, f"{where}.volumeMounts[{i}]")
        vname = text(vm.get("name"), f"{where}.volumeMounts[{i}].name", True)
        dest = text(vm.get("mountPath"), f"{where}.volumeMounts[{i}].mountPath", True)
        if not dest.startswith("/"):
            raise InvalidArgument(f"{where}: mountPath {dest!r} must be absolute")
        vol = volumes.get(vname)
        if vol is None:
            raise InvalidArgument(f"{where}: volume {vname} is not defined in the pod's volumes")
        ro = bool(vm.get("readOnly")) or vol.readonly
        sub = text(vm.get("subPath"), f"{where}.subPath")
        if sub:
            check_relpath(sub, f"{where}.subPath")
        if vol.kind == "hostPath":
            mounts.append(MountSpec(type="bind", source=vol.source, destination=dest, readonly=ro, subpath=sub))
        elif vol.kind == "tmpfs":
            mounts.append(MountSpec(type="tmpfs", destination=dest, options=["nosuid", "nodev"]))
        else:
            mounts.append(MountSpec(type="volume", source=vol.source, destination=dest, readonly=ro, subpath=sub,
                                    nocopy=vol.kind == "plan"))
    opts.mounts = mounts
    return opts


def host_ports(spec: dict) -> list[Any]:
    """The containers' ports with a hostPort: published through the pod's infra."""
    from engine.spec.options import PortMapping

    out = []
    for i, ctr in enumerate(seq(spec.get("containers"), "spec.containers")):
        ctr = mapping(ctr, f"spec.containers[{i}]")
        for j, p in enumerate(seq(ctr.get("ports"), f"spec.containers[{i}].ports")):
            p = mapping(p, f"spec.containers[{i}].ports[{j}]")
            cport = integer(p.get("containerPort"), f"spec.containers[{i}].ports[{j}].containerPort")
            hport = integer(p.get("hostPort"), f"spec.containers[{i}].ports[{j}].hostPort")
            if cport is None or not 0 < cport < 65536:
                raise InvalidArgument(f"spec.containers[{i}].ports[{j}]: containerPort must be 1-65535")
            if not hport:
                continue
            if not 0 < hport < 65536:
                raise InvalidArgument(f"spec.containers[{i}].ports[{j}]: hostPort must be 1-65535")
            proto = (text(p.get("protocol"), f"spec.containers[{i}].ports[{j}].protocol") or "TCP").lower()
            if proto not in ("tcp", "udp", "sctp"):
                raise InvalidArgument(f"spec.containers[{i}].ports[{j}]: protocol {proto!r} is not supported")
            host_ip = text(p.get("hostIP"), f"spec.containers[{i}].ports[{j}].hostIP")
            out.append(PortMapping(container_port=cport, host_port=hport, host_ip=host_ip, protocol=proto))
    return out
