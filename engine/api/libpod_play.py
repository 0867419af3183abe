"""libpod's play routes: `POST /libpod/play/kube` (also `/libpod/kube/play`) plays a
Kubernetes YAML body (or an application/x-tar body holding `play.yaml` and the image
build contexts) and answers Podman's PlayKubeReport; `DELETE` of the same path tears
it down (`hull kube play` / `kube down`: engine/services/kube_play.py)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import BodyReader
from engine.api.router import route
from engine.errors import InvalidArgument

# Podman's query parameters Hull has no counterpart for: refused when set, never ignored
_UNSUPPORTED = ("annotations", "staticIPs", "staticMACs", "userns", "serviceContainer", "wait", "noHosts",
                "noHostname", "publishAllPorts")


def _yaml(request: Request, scratch: Path) -> tuple[bytes, str]:
    """(the YAML, the build context dir): a tar body is unpacked into `scratch` and
    must hold play.yaml at its root, as Podman's."""
    from engine.services.kube_yaml import MAX_BYTES

    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind != "application/x-tar":
        return request.body(limit=MAX_BYTES), ""
    from engine.build.context import unpack_tar_context

    root = scratch / "context"
    root.mkdir(mode=0o700, parents=True)
    unpack_tar_context(BodyReader(request), root)
    play = root / "play.yaml"
    if not play.is_file() or play.is_symlink():
        raise InvalidArgument("file not found: tar missing play.yaml file at root")
    if play.stat().st_size > MAX_BYTES:
        raise InvalidArgument(f"play.yaml is larger than {MAX_BYTES // (1024 * 1024)} MiB: refused")
    return play.read_bytes(), str(root)


def _options(request: Request, context_dir: str) -> Any:
    from engine.network.ports import parse_publish
    from engine.services.kube_play import PlayOptions

    for name in _UNSUPPORTED:
        value = request.arg(name)
        if value not in (None, "", "false", "0", "{}"):
            raise InvalidArgument(f"{name} is not supported")
    log_opts = {}
    for item in request.args("logOptions"):
        key, _, value = item.partition("=")
        log_opts[key] = value
    build = request.flag("build") if request.arg("build") is not None else None
    return PlayOptions(
        build=build, start=request.flag("start", True), replace=request.flag("replace"),
        network=[n for n in request.args("network") if n], log_driver=request.arg("logDriver") or "",
        log_opts=log_opts, context_dir=context_dir, source="YAML input",
        publish=[m for text in request.args("publishPorts") if text for m in parse_publish(text)])


def _teardown_doc(report: Any) -> dict[str, Any]:
    """PlayKubeTeardown's fields (flattened into PlayKubeReport, as Go embeds them)."""
    return {
        "StopReport": [{"Errs": [], "Id": pid, "RawInput": pid} for pid in report.stopped],
        "RmReport": [{"Err": None, "Id": pid, "RemovedCtrs": {}} for pid in report.removed],
        "VolumeRmReport": [{"Err": None, "Id": name} for name in report.volumes],
        "SecretRmReport": [{"Err": None, "ID": sid} for sid in report.secrets],
    }


@route("POST", "/play/kube", libpod=True)
@route("POST", "/kube/play", libpod=True)
def play(request: Request) -> None:
    from engine.services.kube_play import DownReport, play as play_kube
    from engine.store.rmtree import remove_tree

    cfg = context.config()
    scratch = Path(cfg.root) / "tmp" / f"api-play-{secrets.token_hex(8)}"
    try:
        data, context_dir = _yaml(request, scratch)
        opts = _options(request, context_dir)
        logs: list[str] = []
        report = play_kube(cfg, data, opts, logs.append)
    finally:
        if scratch.exists():
            remove_tree(scratch)
    pods = [{"ID": pod_id, "Containers": ctrs, "InitContainers": [], "Logs": [], "ContainerErrors": []}
            for pod_id, ctrs in report.pods]
    if pods and logs:  # create warnings and build output: Podman's non-fatal messages
        pods[0]["Logs"] = logs
    request.send_json({"Pods": pods, "Volumes": [{"Name": v} for v in report.volumes],
                       **_teardown_doc(DownReport()),
                       "Secrets": [{"CreateReport": {"ID": sid}} for sid in report.secrets]})


@route("DELETE", "/play/kube", libpod=True)
@route("DELETE", "/kube/play", libpod=True)
def down(request: Request) -> None:
    from engine.services.kube_play import down as down_kube
    from engine.services.kube_yaml import MAX_BYTES

    data = request.body(limit=MAX_BYTES)
    report = down_kube(context.config(), data, source="YAML input", force=request.flag("force"))
    request.send_json({"Pods": [], "Volumes": [], **_teardown_doc(report), "Secrets": []})
