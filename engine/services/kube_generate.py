"""`kube generate`: pods and containers -> Kubernetes YAML (Pod, Deployment, Service).

Shapes follow Podman's `kube generate` (4.3, plus the --type/--replicas of later
releases): one Pod per pod (its members, not the infra), one Pod named
`<container>-pod` for the containers given by name, a Deployment wrapping the Pod
spec with `--type deployment`, and a NodePort Service for the published ports with
`--service`.  Container fields: image, command/args, env without the image's own,
ports (containerPort + hostPort), volumeMounts (named volumes as
PersistentVolumeClaims, binds as hostPath, tmpfs as emptyDir Memory), resources
limits, securityContext (capabilities relative to the Kubernetes default set, as
Podman computes them), the healthcheck as an exec livenessProbe, workingDir, tty.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass
from typing import Any

from engine.config import EngineConfig
from engine.errors import ContainerNotFound, HullError, InvalidArgument, PodNotFound
from engine.services.common import image_config, open_store

# The default set of a Kubernetes (containerd/CRI-O, Docker) container: drops are
# computed against it, so the cluster runs with what the Hull container had.
KUBE_DEFAULT_CAPS = (
    "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
    "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL", "CAP_AUDIT_WRITE",
)
RESTART = {"always": "Always", "unless-stopped": "Always", "on-failure": "OnFailure", "no": "Never", "": "Never"}
TYPES = ("pod", "deployment")


@dataclass
class GenerateOptions:
    service: bool = False
    type: str = "pod"
    replicas: int = 1


def kube_name(name: str, limit: int = 253) -> str:
    """Podman removes underscores; Kubernetes wants lowercase DNS labels."""
    out = re.sub(r"[^a-z0-9.-]+", "-", name.replace("_", "").lower()).strip("-.")
    return out[:limit].rstrip("-.") or "hull"


def quantity_bytes(n: int) -> str:
    """Kubernetes' canonical binary quantity (64Mi, 1Gi; plain bytes otherwise)."""
    for suffix, unit in (("Ei", 1 << 60), ("Pi", 1 << 50), ("Ti", 1 << 40), ("Gi", 1 << 30), ("Mi", 1 << 20),
                         ("Ki", 1 << 10)):
        if n >= unit and n % unit == 0:
            return f"{n // unit}{suffix}"
    return str(n)


def quantity_cpus(cpus: float) -> str:
    milli = int(round(cpus * 1000))
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


# ---------------------------------------------------------------- one container
def _command(opts: dict, image_cfg: dict) -> tuple[list[str], list[str]]:
    """(command, args): Kubernetes' command replaces ENTRYPOINT, args replaces CMD."""
    cc = image_cfg.get("config") or {}
    user_cmd = list(opts.get("command") or [])
    if opts.get("entrypoint") is not None:
        return list(opts["entrypoint"]), user_cmd
    if cc.get("Entrypoint"):
        return [], user_cmd
    return user_cmd, []


def _env(opts: dict, image_cfg: dict) -> list[dict]:
    image_env = dict(e.split("=", 1) for e in ((image_cfg.get("config") or {}).get("Env") or []) if "=" in e)
    merged = {**(opts.get("env_file") or {}), **(opts.get("env") or {})}
    return [{"name": k, "value": v} for k, v in merged.items() if image_env.get(k) != v]


def _capabilities(opts: dict) -> dict:
    from engine.spec.defaults import DEFAULT_CAPABILITIES
    from engine.spec.parse import CAPABILITIES

    adds, drops = list(opts.get("cap_add") or []), list(opts.get("cap_drop") or [])
    if "ALL" in drops:
        held = [c for c in CAPABILITIES if c in adds]
    elif "ALL" in adds:
        held = [c for c in CAPABILITIES if c not in drops]
    else:
        held = [c for c in CAPABILITIES if (c in DEFAULT_CAPABILITIES or c in adds) and c not in drops]
    add = [c for c in CAPABILITIES if c in held and c not in KUBE_DEFAULT_CAPS]
    add.sort(key=lambda c: adds.index(c) if c in adds else len(adds))
    drop = [c for c in drops if c in KUBE_DEFAULT_CAPS and c not in held]
    drop += [c for c in KUBE_DEFAULT_CAPS if c not in held and c not in drop]
    out: dict[str, Any] = {}
    if add:
        out["add"] = add
    if drop:
        out["drop"] = drop
    return out


def _security_context(opts: dict) -> dict:
    sc: dict[str, Any] = {}
    if opts.get("privileged"):
        sc["privileged"] = True
    else:
        caps = _capabilities(opts)
        if caps:
            sc["capabilities"] = caps
    if opts.get("read_only"):
        sc["readOnlyRootFilesystem"] = True
    user, _, group = (opts.get("user") or "").partition(":")
    if user.isdigit():
        sc["runAsUser"] = int(user)
    if group.isdigit():
        sc["runAsGroup"] = int(group)
    if (opts.get("security") or {}).get("no_new_privileges"):
        sc["allowPrivilegeEscalation"] = False
    return sc


def _probe(hc: dict | None) -> dict | None:
    if not hc or not hc.get("test") or hc["test"][0] == "NONE":
        return None
    test = list(hc["test"])
    if test[0] == "CMD-SHELL":
        command = ["/bin/sh", "-c", " ".join(test[1:])]
    elif test[0] == "CMD":
        command = test[1:]
    else:
        command = test
    probe: dict[str, Any] = {"exec": {"command": command}}
    for key, field, default in (("periodSeconds", "interval", 30.0), ("timeoutSeconds", "timeout", 30.0),
                                ("initialDelaySeconds", "start_period", 0.0), ("failureThreshold", "retries", 3)):
        value = hc.get(field, default)
        if value:
            probe[key] = max(1, int(round(value)))
    return probe


def _resources(opts: dict) -> dict:
    res = opts.get("resources") or {}
    limits: dict[str, str] = {}
    if res.get("memory"):
        limits["memory"] = quantity_bytes(int(res["memory"]))
    if res.get("cpus"):
        limits["cpu"] = quantity_cpus(float(res["cpus"]))
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if res.get("memory_reservation"):
        out["requests"] = {"memory": quantity_bytes(int(res["memory_reservation"]))}
    return out


def _ports(publish: list[dict]) -> list[dict]:
    out = []
    for p in publish:
        for i in range(int(p.get("range") or 1)):
            port: dict[str, Any] = {"containerPort": int(p["container_port"]) + i}
            if p.get("host_port"):
                port["hostPort"] = int(p["host_port"]) + i
            if p.get("host_ip"):
                port["hostIP"] = p["host_ip"]
            if (p.get("protocol") or "tcp") != "tcp":
                port["protocol"] = p["protocol"].upper()
            out.append(port)
    return out


class _Volumes:
    """The pod's volumes, shared by its containers (one entry per source)."""

    def __init__(self) -> None:
        self.volumes: list[dict] = []
        self._by_key: dict[tuple[str, str], str] = {}
        self._host_index = 0

    def mount(self, m: dict) -> dict | None:
        kind, source, dest = m.get("type"), m.get("source") or "", m["destination"]
        if kind == "bind":
            key = ("bind", source)
            name = self._by_key.get(key)
            if name is None:
                suffix = f"-host-{self._host_index}"
                name = kube_name(source.strip("/").replace("/", "-"), 63 - len(suffix)) + suffix
                self._host_index += 1
                try:
                    st = os.stat(source)
                    htype = "Directory" if stat.S_ISDIR(st.st_mode) else "File"
                except OSError:
                    htype = "DirectoryOrCreate"
                self.volumes.append({"name": name, "hostPath": {"path": source, "type": htype}})
        elif kind == "volume" and source:
            key = ("volume", source)
            name = self._by_key.get(key)
            if name is None:
                name = kube_name(source, 59) + "-pvc"
                self.volumes.append({"name": name, "persistentVolumeClaim": {"claimName": source}})
        elif kind == "tmpfs":
            key = ("tmpfs", dest)
            name = self._by_key.get(key)
            if name is None:
                name = kube_name(dest.strip("/").replace("/", "-") or "root", 57) + "-tmpfs"
                empty: dict[str, Any] = {"medium": "Memory"}
                if m.get("tmpfs_size"):
                    empty["sizeLimit"] = quantity_bytes(int(m["tmpfs_size"]))
                self.volumes.append({"name": name, "emptyDir": empty})
        else:
            return None  # anonymous volumes and devpts have no Kubernetes counterpart
        self._by_key[key] = name
        out: dict[str, Any] = {"name": name, "mountPath": dest}
        if m.get("readonly"):
            out["readOnly"] = True
        if m.get("subpath"):
            out["subPath"] = m["subpath"]
        return out


def container_spec(store: Any, c: Any, vols: _Volumes, publish: list[dict]) -> dict:
    opts = c.options or {}
    image_cfg: dict = {}
    if c.image_id:
        try:
            image_cfg = image_config(store, store.images.get(c.image_id))
        except HullError:
            image_cfg = {}
    spec: dict[str, Any] = {"name": kube_name(c.name, 63), "image": c.image_name}
    command, args = _command(opts, image_cfg)
    if command:
        spec["command"] = command
    if args:
        spec["args"] = args
    env = _env(opts, image_cfg)
    if env:
        spec["env"] = env
    ports = _ports(publish)
    if ports:
        spec["ports"] = ports
    spec["resources"] = _resources(opts)
    sc = _security_context(opts)
    if sc:
        spec["securityContext"] = sc
    probe = _probe(opts.get("healthcheck"))
    if probe:
        spec["livenessProbe"] = probe
    if opts.get("workdir"):
        spec["workingDir"] = opts["workdir"]
    if opts.get("tty"):
        spec["tty"] = True
    if opts.get("interactive"):
        spec["stdin"] = True
    ordered = sorted(opts.get("mounts") or [], key=lambda m: m["destination"])
    mounts = [vm for m in ordered if (vm := vols.mount(m)) is not None]
    if mounts:
        spec["volumeMounts"] = mounts
    return spec


# ---------------------------------------------------------------- documents
def _timestamp(ts: float) -> str:
    import time

    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def _pod_document(store: Any, name: str, created: float, ctrs: list[Any], pod_publish: list[dict],
                  hostname: str, labels: dict[str, str]) -> dict:
    vols = _Volumes()
    containers = []
    annotations: dict[str, str] = {}
    for i, c in enumerate(ctrs):
        own = list((c.options or {}).get("publish") or [])
        containers.append(container_spec(store, c, vols, own + (pod_publish if i == 0 else [])))
        for k, v in ((c.options or {}).get("annotations") or {}).items():
            annotations[k] = v
    restart = RESTART.get(((ctrs[0].options or {}).get("restart") or {}).get("name", "no"), "Never") if ctrs else "Never"
    spec: dict[str, Any] = {"automountServiceAccountToken": False, "containers": containers,
                            "enableServiceLinks": False, "restartPolicy": restart}
    if hostname:
        spec["hostname"] = kube_name(hostname, 63)
    if vols.volumes:
        spec["volumes"] = vols.volumes
    meta: dict[str, Any] = {"creationTimestamp": _timestamp(created), "labels": {**labels, "app": name},
                            "name": name}
    if annotations:
        meta["annotations"] = annotations
    return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": spec}


def _deployment(pod_doc: dict, replicas: int) -> dict:
    meta, spec = pod_doc["metadata"], dict(pod_doc["spec"])
    spec["restartPolicy"] = "Always"  # the only value a Deployment's template accepts
    name = meta["name"]
    template_meta = {k: v for k, v in meta.items() if k in ("annotations", "labels", "creationTimestamp")}
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"creationTimestamp": meta["creationTimestamp"], "labels": {"app": name},
                         "name": f"{name}-deployment"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": template_meta, "spec": spec}}}


def _service(pod_doc: dict) -> dict | None:
    ports = []
    for ctr in pod_doc["spec"]["containers"]:
        for p in ctr.get("ports") or []:
            sp: dict[str, Any] = {"name": str(p["containerPort"]), "port": p["containerPort"],
                                  "targetPort": p["containerPort"]}
            if 30000 <= p.get("hostPort", 0) <= 32767:
                sp["nodePort"] = p["hostPort"]  # else the cluster picks one
            if p.get("protocol"):
                sp["protocol"] = p["protocol"]
            ports.append(sp)
    name = pod_doc["metadata"]["name"]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"creationTimestamp": pod_doc["metadata"]["creationTimestamp"], "labels": {"app": name},
                         "name": name},
            "spec": {"ports": ports, "selector": {"app": name}, "type": "NodePort"}}


def generate(cfg: EngineConfig, names: list[str], opts: GenerateOptions | None = None) -> list[dict]:
    """The documents for `names` (pods and/or containers), Service first as Podman."""
    from engine.services.container_state import reconcile
    from engine.services.pods import members

    opts = opts or GenerateOptions()
    if opts.type not in TYPES:
        raise InvalidArgument("invalid type given, only supported types are pod and deployment")
    if opts.replicas < 1:
        raise InvalidArgument("--replicas must be 1 or more")
    if opts.replicas != 1 and opts.type != "deployment":
        raise InvalidArgument("--replicas can only be set when --type is deployment")
    if not names:
        raise InvalidArgument("generate kube requires at least one container or pod")
    store = open_store(cfg)
    pod_docs: list[dict] = []
    loose: list[Any] = []
    for text in names:
        try:
            pod = store.pods.lookup(text)
        except PodNotFound:
            pod = None
        if pod is not None:
            ctrs = [c for c in members(store, pod) if c.id != pod.infra_id]
            if not ctrs:
                raise InvalidArgument(f"pod {pod.name} has no containers besides its infra: nothing to generate")
            publish = list(pod.options.get("publish") or [])
            hostname = pod.hostname if "uts" in pod.shared else ""
            pod_docs.append(_pod_document(store, kube_name(pod.name), pod.created, ctrs, publish, hostname,
                                          dict(pod.labels)))
            continue
        try:
            c = reconcile(store, store.containers.lookup(text))
        except ContainerNotFound:
            raise ContainerNotFound(f'name or ID "{text}" not found') from None
        if store.pods.infra_of(c.id) is not None:
            raise InvalidArgument(f"{text} is an infra container: generate its pod instead")
        loose.append(c)
    if loose:
        hostname = (loose[0].options or {}).get("hostname") or ""
        pod_docs.append(_pod_document(store, kube_name(f"{loose[0].name}-pod"), loose[0].created, loose, [],
                                      hostname, {}))
    docs: list[dict] = []
    for doc in pod_docs:
        if opts.service:
            docs.append(_service(doc))
        docs.append(_deployment(doc, opts.replicas) if opts.type == "deployment" else doc)
    return docs


def generate_yaml(cfg: EngineConfig, names: list[str], opts: GenerateOptions | None = None) -> str:
    from engine.services.system import VERSION
    from engine.services.kube_yaml import dump_documents

    return dump_documents(generate(cfg, names, opts), VERSION)
