"""`kube play` / `kube down`: Kubernetes YAML -> pods, containers, volumes, secrets.

Supported kinds: Pod, Deployment (spec.replicas pods named `<name>-pod-<i>`, as
Podman 4), ConfigMap (used by env and volumes; also from --configmap files),
Secret (stored as a Hull secret named after it, the Secret document as JSON, so
later plays and `secretKeyRef`s find it), PersistentVolumeClaim (a named
volume).  Other kinds are skipped; a file with none of these is refused with
Podman's message.  Everything a play made is removed again when a later step
fails; `down` removes the pods (and their configMap/secret/emptyDir volumes,
labelled io.hull.kube.pod) and the Secrets, and the PVC volumes with force.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from engine.config import EngineConfig
from engine.errors import HullError, InvalidArgument, PodNotFound
from engine.services.kube_spec import (
    KUBE_VOLUME_LABEL, Sources, VolumePlan, container_options, host_ports, integer, mapping, pod_volumes, seq, text,
)
from engine.services.kube_yaml import check_name, line_of, load_documents, located

KINDS = ("Pod", "Deployment", "ConfigMap", "Secret", "PersistentVolumeClaim")


@dataclass
class PlayOptions:
    build: bool | None = None          # True: build every image with a context dir; None: only missing ones
    start: bool = True
    replace: bool = False
    network: list[str] = field(default_factory=list)
    configmaps: list[bytes] = field(default_factory=list)
    configmap_names: list[str] = field(default_factory=list)
    log_driver: str = ""
    log_opts: dict[str, str] = field(default_factory=dict)
    context_dir: str = ""
    source: str = ""
    publish: list[Any] = field(default_factory=list)  # --publish: overrides hostPorts by containerPort


@dataclass
class PlayReport:
    pods: list[tuple[str, list[str]]] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)

    def text(self) -> str:
        out = []
        if self.secrets:
            out += ["Secrets:" if len(self.secrets) > 1 else "Secret:", *self.secrets]
        if self.volumes:
            out += ["Volumes:" if len(self.volumes) > 1 else "Volume:", *self.volumes]
        for pod_id, ctrs in self.pods:
            out += ["Pod:", pod_id]
            if ctrs:
                out += ["Containers:" if len(ctrs) > 1 else "Container:", *ctrs]
            out.append("")
        return "\n".join(out) + "\n" if out else ""


@dataclass
class DownReport:
    stopped: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    secrets: list[str] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)

    def text(self) -> str:
        out = []
        for title, items in (("Pods stopped:", self.stopped), ("Pods removed:", self.removed),
                             ("Secrets removed:", self.secrets), ("Volumes removed:", self.volumes)):
            if items:
                out += [title, *items]
        return "".join(line + "\n" for line in out)


# ---------------------------------------------------------------- reading the file
@dataclass
class KubeObjects:
    pods: list[tuple[str, dict, dict]] = field(default_factory=list)    # (pod name, metadata, pod spec)
    configmaps: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)
    claims: list[str] = field(default_factory=list)
    source: str = ""
    origins: dict[str, tuple[Any, tuple]] = field(default_factory=dict)  # pod -> (document node, spec path)

    def locate(self, pod: str, path: tuple, exc: InvalidArgument) -> InvalidArgument:
        """The error prefixed with the file and the line of the pod spec's `path`."""
        node, base = self.origins.get(pod, (None, ()))
        return located(self.source, line_of(node, base + path), str(exc)) if node is not None else exc


def parse_objects(data: bytes, source: str = "", configmaps: list[bytes] | None = None) -> KubeObjects:
    nodes: list[Any] = []
    docs = load_documents(data, source, nodes)
    objs = KubeObjects(source=source)
    found = False
    skipped: list[str] = []
    for i, (doc, node) in enumerate(zip(docs, nodes)):
        if not isinstance(doc, dict):
            raise located(source, line_of(node), f"document {i + 1}: expected a Kubernetes object (a mapping)")
        kind = doc.get("kind")
        if kind not in KINDS:  # Podman skips kinds it does not know
            skipped.append(f"line {line_of(node, ('kind',))}: kind {kind}" if "kind" in doc
                           else f"line {line_of(node)}: no kind")
            continue
        found = True
        try:
            _add_object(objs, kind, doc, node)
        except InvalidArgument as exc:
            raise located(source, line_of(node), str(exc)) from None
    for raw in configmaps or []:
        for doc in load_documents(raw, "--configmap"):
            if not isinstance(doc, dict) or doc.get("kind") != "ConfigMap":
                raise InvalidArgument("--configmap: the file must hold ConfigMap documents only")
            name = check_name(mapping(doc.get("metadata"), "ConfigMap.metadata", True).get("name"), "ConfigMap")
            objs.configmaps.setdefault(name, doc)
    if not found:
        detail = "; ".join(skipped[:5])
        where = ("stdin" if source == "-" else source) + ": " if source else ""
        raise InvalidArgument(f"{where}YAML document does not contain any supported kube kind"
                              + (f" ({detail}; supported: {', '.join(KINDS)})" if detail else ""))
    names = [p[0] for p in objs.pods]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup:
        raise InvalidArgument(f"pod {dup} is defined more than once")
    return objs


def _add_object(objs: KubeObjects, kind: str, doc: dict, node: Any) -> None:
    """One supported object into `objs`; a pod remembers its document for error lines."""
    meta = mapping(doc.get("metadata"), f"{kind}.metadata", True)
    name = check_name(meta.get("name"), kind)
    if kind == "Pod":
        objs.pods.append((name, meta, mapping(doc.get("spec"), f"pod {name}: spec", True)))
        objs.origins[name] = (node, ("spec",))
    elif kind == "Deployment":
        spec = mapping(doc.get("spec"), f"deployment {name}: spec", True)
        replicas = integer(spec.get("replicas"), f"deployment {name}: spec.replicas", 1)
        if replicas is None or not 0 <= replicas <= 100:
            raise InvalidArgument(f"deployment {name}: spec.replicas must be 0-100")
        template = mapping(spec.get("template"), f"deployment {name}: spec.template", True)
        tmeta = mapping(template.get("metadata"), f"deployment {name}: template.metadata")
        tspec = mapping(template.get("spec"), f"deployment {name}: template.spec", True)
        for r in range(replicas):
            objs.pods.append((f"{name}-pod-{r}", tmeta, tspec))
            objs.origins[f"{name}-pod-{r}"] = (node, ("spec", "template", "spec"))
    elif kind == "ConfigMap":
        objs.configmaps[name] = doc
    elif kind == "Secret":
        objs.secrets[name] = doc
    else:
        objs.claims.append(name)


# ---------------------------------------------------------------- play
class _Made:
    """What this play created, to undo on failure."""

    def __init__(self) -> None:
        self.pods: list[str] = []
        self.volumes: list[str] = []
        self.secrets: list[str] = []

    def undo(self, cfg: EngineConfig) -> None:
        from engine.services import pods as pod_services, secrets as secret_services, volumes as volume_services

        for fn, items in ((lambda: pod_services.remove(cfg, self.pods, force=True, timeout=0), self.pods),
                          (lambda: volume_services.remove(cfg, self.volumes, force=True), self.volumes),
                          (lambda: secret_services.remove(cfg, self.secrets), self.secrets)):
            if items:
                try:
                    fn()
                except HullError:
                    pass


def play(cfg: EngineConfig, data: bytes, opts: PlayOptions, progress: Callable[[str], None] | None = None
         ) -> PlayReport:
    from engine.services.common import enter_userns, open_store

    say = progress or (lambda line: None)
    objs = parse_objects(data, opts.source, opts.configmaps)
    enter_userns(cfg)
    store = open_store(cfg)
    if opts.replace:
        _down_objects(cfg, store, objs, force=False, report=DownReport())
    sources = Sources(store, objs.configmaps, objs.secrets)
    # translate every pod first: a bad field fails before anything exists
    plans = []
    for name, meta, spec in objs.pods:
        at: tuple = ()  # where in the pod spec an error points
        try:
            if spec.get("initContainers"):
                at = ("initContainers",)
                raise InvalidArgument(f"pod {name}: initContainers are not supported")
            at = ("containers",)
            ctrs = seq(spec.get("containers"), f"pod {name}: spec.containers")
            if not ctrs:
                raise InvalidArgument(f"pod {name}: spec.containers must not be empty")
            at = ("volumes",)
            volumes, vplans = pod_volumes(name, spec, sources)
            copts = []
            for i, c in enumerate(ctrs):
                at = ("containers", i)
                copts.append(container_options(name, meta, spec, c, i, volumes, sources))
            at = ("containers",)
            host_ports(spec)  # checked now: _play_pod uses them once things exist
            cnames = [o.name for o in copts]
            if len(set(cnames)) != len(cnames):
                raise InvalidArgument(f"pod {name}: two containers have the same name")
        except InvalidArgument as exc:
            raise objs.locate(name, at, exc) from None
        plans.append((name, meta, spec, volumes, vplans, copts))
    for name, _, _, _, _, copts in plans:
        if store.pods.exists(name) and store.pods.lookup(name).name == name:
            raise InvalidArgument(f"pod {name} already exists: use --replace or kube down first")
    _build_images(cfg, store, [o.image for p in plans for o in p[5]], opts, say)
    made = _Made()
    report = PlayReport()
    try:
        _make_secrets(cfg, store, objs, made, report)
        _make_claims(cfg, store, objs, made, report)
        for name, meta, spec, volumes, vplans, copts in plans:
            report.pods.append(_play_pod(cfg, store, name, meta, spec, volumes, vplans, copts, opts, made, say))
        if opts.start:
            from engine.services import pods as pod_services

            pod_services.start(cfg, [pod_id for pod_id, _ in report.pods])
    except BaseException:
        made.undo(cfg)
        raise
    return report


def _make_secrets(cfg: EngineConfig, store: Any, objs: KubeObjects, made: _Made, report: PlayReport) -> None:
    from engine.services import secrets as secret_services
    from engine.services.kube_spec import secret_data

    for name, doc in objs.secrets.items():
        secret_data(doc)  # validates keys and base64
        body = {k: doc[k] for k in ("apiVersion", "kind", "metadata", "data", "stringData", "type") if k in doc}
        if store.secrets.exists(name):
            raise InvalidArgument(f"secret {name} already exists: use --replace or kube down first")
        sid = secret_services.create(cfg, name, json.dumps(body, sort_keys=True).encode(),
                                     secret_services.CreateOptions(labels={"io.hull.kube": "secret"}))
        made.secrets.append(sid)
        report.secrets.append(sid)


def _make_claims(cfg: EngineConfig, store: Any, objs: KubeObjects, made: _Made, report: PlayReport) -> None:
    from engine.services import volumes as volume_services

    for claim in objs.claims:
        if store.volumes.exists(claim):
            report.volumes.append(claim)  # Podman reuses an existing claim's volume
            continue
        volume_services.create(cfg, volume_services.CreateOptions(name=claim, labels={"io.hull.kube": "pvc"}))
        made.volumes.append(claim)
        report.volumes.append(claim)


def _write_plan(store: Any, plan: VolumePlan, pod_name: str) -> None:
    """configMap/secret files (or nothing: emptyDir) in a fresh volume of the pod."""
    if store.volumes.exists(plan.volume):
        raise InvalidArgument(f"volume {plan.volume} already exists")
    volume = store.volumes.create(plan.volume, labels={KUBE_VOLUME_LABEL: pod_name, "io.hull.kube": plan.kind})
    if plan.kind != "emptyDir":
        store.volumes.mark_copied(volume.name)
    root = volume.data_path
    for rel, (data, mode) in sorted(plan.files.items()):
        # a directory we just made, relative paths without '..' (kube_yaml.check_relpath)
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        try:
            os.write(fd, data)
            os.fchmod(fd, mode & 0o777)
        finally:
            os.close(fd)


def _check_host_path(vol: Any) -> None:
    import stat as st

    path, kind = vol.source, vol.host_type
    if kind == "DirectoryOrCreate":
        os.makedirs(path, mode=0o755, exist_ok=True)
    elif kind == "FileOrCreate":
        os.makedirs(os.path.dirname(path) or "/", mode=0o755, exist_ok=True)
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    checks = {"Directory": st.S_ISDIR, "DirectoryOrCreate": st.S_ISDIR, "File": st.S_ISREG,
              "FileOrCreate": st.S_ISREG, "Socket": st.S_ISSOCK, "CharDevice": st.S_ISCHR,
              "BlockDevice": st.S_ISBLK}
    if kind and kind not in checks:
        raise InvalidArgument(f"hostPath {path}: type {kind!r} is not supported")
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise InvalidArgument(f"hostPath {path}: {(exc.strerror or str(exc)).lower()}") from None
    if kind and not checks[kind](mode):
        raise InvalidArgument(f"hostPath {path} is not a {kind}")


def _merge_publish(from_yaml: list[Any], given: list[Any]) -> list[Any]:
    """Podman's --publish: a flag's mapping replaces the YAML's for the same container port
    and protocol; the others are added."""
    if not given:
        return from_yaml
    keys = {(m.container_port, m.protocol) for m in given}
    return [m for m in from_yaml if (m.container_port, m.protocol) not in keys] + list(given)


def _play_pod(cfg: EngineConfig, store: Any, name: str, meta: dict, spec: dict, volumes: dict[str, Any],
              vplans: list[VolumePlan],
              copts: list[Any], opts: PlayOptions, made: _Made, say: Callable[[str], None]) -> tuple[str, list[str]]:
    from engine.services import containers as ctr_services, pods as pod_services
    from engine.services.kube_spec import string_map

    for vol in volumes.values():
        if vol.kind == "hostPath":
            _check_host_path(vol)
    popts = pod_services.PodCreateOptions(name=name, labels=string_map(meta.get("labels"), "metadata.labels"),
                                          hostname=text(spec.get("hostname"), "spec.hostname"))
    if spec.get("hostNetwork"):
        popts.network = "host"
    else:
        popts.publish = _merge_publish(host_ports(spec), opts.publish)
    if opts.network:
        from engine.spec.parse import parse_network

        popts.network, popts.network_arg, popts.networks = parse_network(opts.network)
        if popts.network == "container":
            raise InvalidArgument("pods presently do not support network mode container")
    pod = pod_services.create(cfg, popts)
    made.pods.append(pod.id)
    for plan in vplans:
        _write_plan(store, plan, name)
    ids = []
    for o in copts:
        o.pod = pod.id
        if opts.log_driver:
            o.log_driver = opts.log_driver
        if opts.log_opts:
            o.log_opts = dict(opts.log_opts)
        result = ctr_services.create(cfg, o)
        for w in result.warnings:
            say(f"WARNING: {w}")
        ids.append(result.id)
    return pod.id, ids


# ---------------------------------------------------------------- --build
def _build_images(cfg: EngineConfig, store: Any, images: list[str], opts: PlayOptions,
                  say: Callable[[str], None]) -> None:
    """Podman's rule: an image whose last path element (without tag) names a directory
    of the context dir holding a Containerfile or Dockerfile is built from it: always
    with --build, when missing by default, never with --build=false."""
    if opts.build is False:
        return
    from engine.errors import ImageNotFound
    from engine.services.images import find_image

    done = set()
    for image in images:
        if image in done:
            continue
        done.add(image)
        base = image.rsplit("/", 1)[-1].split("@", 1)[0].split(":", 1)[0]
        ctx_dir = os.path.join(opts.context_dir or os.getcwd(), base)
        if not base or not os.path.isdir(ctx_dir):
            continue
        files = [f for f in ("Containerfile", "Dockerfile") if os.path.isfile(os.path.join(ctx_dir, f))]
        if not files:
            continue
        if opts.build is None:
            try:
                find_image(store, image)
                continue
            except ImageNotFound:
                pass
        from engine.services.build import BuildOptions, build

        build(cfg, BuildOptions(context=ctx_dir, files=[os.path.join(ctx_dir, files[0])], tags=[image]),
              progress=say, output_fd=2)


# ---------------------------------------------------------------- down
def down(cfg: EngineConfig, data: bytes, source: str = "", force: bool = False) -> DownReport:
    from engine.services.common import enter_userns, open_store

    objs = parse_objects(data, source)
    enter_userns(cfg)
    store = open_store(cfg)
    report = DownReport()
    _down_objects(cfg, store, objs, force, report)
    return report


def _down_objects(cfg: EngineConfig, store: Any, objs: KubeObjects, force: bool, report: DownReport) -> None:
    from engine.services import pods as pod_services, secrets as secret_services, volumes as volume_services

    for name, _, _ in objs.pods:
        try:
            pod = store.pods.lookup(name)
        except PodNotFound:
            continue
        if pod.name != name:
            continue
        pod_services.stop(cfg, [pod.id], timeout=None)
        report.stopped.append(pod.id)
        rm = pod_services.remove(cfg, [pod.id], force=True)
        if rm.errors:
            raise rm.errors[0]
        report.removed.append(pod.id)
    pod_names = {p[0] for p in objs.pods}
    kube_vols = [v.name for v in store.volumes.list() if v.labels.get(KUBE_VOLUME_LABEL) in pod_names]
    if force:
        kube_vols += [c for c in objs.claims if store.volumes.exists(c)]
    if kube_vols:
        rm = volume_services.remove(cfg, kube_vols, force=True)
        report.volumes += rm.removed
    secrets = [s for s in objs.secrets if store.secrets.exists(s)]
    if secrets:
        rm = secret_services.remove(cfg, secrets)
        report.secrets += rm.removed
