"""libpod's pod routes (/libpod/pods/...), as podman-py 5.x calls them."""

from __future__ import annotations

from typing import Any

from engine.api import context
from engine.api.http import Request
from engine.api.params import filters
from engine.api.router import route
from engine.errors import InvalidArgument


def _store() -> Any:
    from engine.services.common import open_store

    return open_store(context.config())


def _pod(name: str) -> Any:
    from engine.services.pods import _lookup

    return _lookup(_store(), name)


def create_options(spec: Any) -> Any:
    """Podman's PodSpecGenerator -> PodCreateOptions."""
    from engine.services.pods import PodCreateOptions

    if not isinstance(spec, dict):
        raise InvalidArgument("the body must be a JSON object (a PodSpecGenerator)")
    netns = (spec.get("netns") or {}).get("nsmode") or ""
    publish = []
    for pm in spec.get("portmappings") or []:
        host = f"{pm.get('host_ip')}:" if pm.get("host_ip") else ""
        hp = pm.get("host_port") or ""
        publish.append(f"{host}{hp}:{pm['container_port']}/{pm.get('protocol') or 'tcp'}"
                       if hp or host else f"{pm['container_port']}/{pm.get('protocol') or 'tcp'}")
    share = spec.get("shared_namespaces")
    opts = PodCreateOptions(
        name=spec.get("name") or "", infra=not spec.get("no_infra"), labels=dict(spec.get("labels") or {}),
        hostname=spec.get("hostname") or "", share=list(share) if share is not None else None,
        infra_image=spec.get("infra_image") or "", infra_command=list(spec.get("infra_command") or []),
        infra_name=spec.get("infra_name") or "", exit_policy=spec.get("exit_policy") or "continue",
        dns=list(spec.get("dns_server") or []), dns_search=list(spec.get("dns_search") or []),
        dns_options=list(spec.get("dns_option") or []), add_hosts=list(spec.get("hostadd") or []),
        network=netns if netns not in ("", "default", "private") else "",
        networks=dict(spec.get("networks") or {}),
    )
    if publish:
        from engine.network.ports import parse_publish

        opts.publish = [p for text in publish for p in parse_publish(text)]
    return opts


@route("POST", "/pods/create", libpod=True)
def create(request: Request) -> None:
    from engine.services.pods import create as create_pod

    pod = create_pod(context.config(), create_options(request.json(required=True)))
    request.send_json({"Id": pod.id}, 201)


def summary_doc(s: Any) -> dict[str, Any]:
    from engine.services.common import rfc3339

    return {"Cgroup": s.cgroup, "Containers": [{"Id": m.id, "Names": m.name, "Status": m.state}
                                               for m in s.members],
            "Created": rfc3339(s.created), "Id": s.id, "InfraId": s.infra_id, "Name": s.name,
            "Namespace": "", "Networks": list(s.networks), "Status": s.status, "Labels": dict(s.labels)}


@route("GET", "/pods/json", libpod=True)
def list_pods(request: Request) -> None:
    from engine.services.pod_inspect import list_pods as ls

    request.send_json([summary_doc(s) for s in ls(context.config(), filters(request))])


@route("GET", "/pods/{name}/json", libpod=True)
def inspect(request: Request, name: str) -> None:
    from engine.services.pod_inspect import inspect_doc

    request.send_json(inspect_doc(_store(), _pod(name)))


@route("GET", "/pods/{name}/exists", libpod=True)
def exists(request: Request, name: str) -> None:
    _pod(name)
    request.send_empty(204)


def _action(verb: str) -> Any:
    def handler(request: Request, name: str) -> None:
        from engine.services import pods

        pod = _pod(name)
        cfg = context.config()
        if verb == "kill":
            pods.kill(cfg, [pod.id], signal=request.arg("signal") or "KILL")
        elif verb in ("stop", "restart"):
            getattr(pods, verb)(cfg, [pod.id], timeout=request.int_arg("t"))
        else:
            getattr(pods, verb)(cfg, [pod.id])
        request.send_json({"Errs": [], "Id": pod.id})

    handler.__name__ = f"pod_{verb}"
    return handler


for _verb in ("start", "stop", "restart", "kill", "pause", "unpause"):
    route("POST", f"/pods/{{name}}/{_verb}", libpod=True)(_action(_verb))


@route("DELETE", "/pods/{name}", libpod=True)
def remove(request: Request, name: str) -> None:
    from engine.services.pods import remove as rm

    pod = _pod(name)
    ctrs = [c.id for c in _members(pod)]
    report = rm(context.config(), [pod.id], force=request.flag("force"), timeout=request.int_arg("t"))
    if report.errors:
        raise report.errors[0]
    request.send_json({"Id": pod.id, "RemovedCtrs": {c: None for c in ctrs}})


def _members(pod: Any) -> list[Any]:
    from engine.services.pods import members

    return members(_store(), pod)


@route("POST", "/pods/prune", libpod=True)
def prune(request: Request) -> None:
    from engine.services.pods import prune as prune_pods

    request.send_json([{"Id": pid, "Err": None} for pid in prune_pods(context.config())])


@route("GET", "/pods/{name}/top", libpod=True)
def top(request: Request, name: str) -> None:
    from engine.api.docker_containers import top as container_top

    pod = _pod(name)
    if not pod.infra_id:
        raise InvalidArgument("pod has no infra container to run top in")
    container_top(request, pod.infra_id)


@route("GET", "/pods/stats", libpod=True)
def stats(request: Request) -> None:
    from engine.services.pod_stats import reports

    names = request.args("namesOrIDs")
    request.send_json(reports(context.config(), names, stopped_too=request.flag("all")))
