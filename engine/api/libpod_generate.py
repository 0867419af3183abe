"""libpod's generate routes: `GET /libpod/generate/{name}/systemd` (a JSON map unit
name -> unit text) and `GET /libpod/generate/kube` (also `/libpod/kube/generate`: the
YAML text), on the services `hull generate systemd` and `hull kube generate` use."""

from __future__ import annotations

from engine.api import context
from engine.api.http import Request
from engine.api.router import route
from engine.errors import InvalidArgument


def _uint(request: Request, name: str, default: int | None) -> int | None:
    value = request.int_arg(name, default)
    if value is not None and value < 0:
        raise InvalidArgument(f"invalid value for {name}: {value} is negative")
    return value


@route("GET", "/generate/{name:path}/systemd", libpod=True)
def generate_systemd(request: Request, name: str) -> None:
    from engine.services.generate_systemd import GenerateOptions, generate

    opts = GenerateOptions(
        new=request.flag("new"), use_name=request.flag("useName"), no_header=request.flag("noHeader"),
        template=request.flag("templateUnitFile"),
        restart_policy=request.arg("restartPolicy") or "on-failure",
        restart_sec=_uint(request, "restartSec", 0) or 0,
        stop_timeout=_uint(request, "stopTimeout", None),
        start_timeout=_uint(request, "startTimeout", 0) or 0,
        container_prefix=request.arg("containerPrefix", "container") or "",
        pod_prefix=request.arg("podPrefix", "pod") or "",
        separator=request.arg("separator", "-") or "",
        wants=request.args("wants"), after=request.args("after"), requires=request.args("requires"),
        env=request.args("additionalEnvVariables"))
    request.send_json(generate(context.config(), name, opts))


def _generate_kube(request: Request) -> None:
    from engine.services.kube_generate import GenerateOptions, generate_yaml

    names = request.args("names")
    kind = request.arg("type") or "pod"
    replicas = request.int_arg("replicas", 0) or 1  # Podman's default 0 means one
    text = generate_yaml(context.config(), names, GenerateOptions(service=request.flag("service"), type=kind,
                                                                  replicas=replicas))
    request.send_bytes(text.encode(), content_type="text/vnd.yaml")


route("GET", "/generate/kube", libpod=True)(_generate_kube)
route("GET", "/kube/generate", libpod=True)(_generate_kube)
