"""/pods/: pods with their member containers; create, start/stop/restart/remove."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.engine_access import engine_cfg, error_text, or_404, run_action, store_exists
from engine.errors import HullError

POD_ACTIONS = ("start", "stop", "restart", "remove")


@require_GET
def pod_list(request: HttpRequest) -> HttpResponse:
    from engine.services import pod_inspect

    cfg = engine_cfg()
    pods, note = [], ""
    if store_exists(cfg):
        try:
            pods = pod_inspect.list_pods(cfg)
        except HullError as err:
            note = f"The pods could not be read: {error_text(err)}"
    return render(request, "console/pods.html", {"pods": pods, "note": note,
                                                 "form": {"name": "", "ports": "", "share": ""}})


@require_POST
def create(request: HttpRequest) -> HttpResponse:
    from engine.network import ports
    from engine.services import pods

    cfg = engine_cfg()
    name = request.POST.get("name", "").strip()
    ports_text = request.POST.get("ports", "")
    share = request.POST.get("share", "").strip()

    def make() -> str:
        publish = [m for line in ports_text.splitlines() if line.strip() for m in ports.parse_publish(line.strip())]
        pod = pods.create(cfg, pods.PodCreateOptions(
            name=name, publish=publish, share=pods.parse_share(share) if share else None))
        return f"Created pod {pod.name}."

    run_action(request, make)
    return HttpResponseRedirect(reverse("pods"))


@require_POST
def action(request: HttpRequest, ref: str, verb: str) -> HttpResponse:
    from engine.services import pod_inspect, pods

    if verb not in POD_ACTIONS:
        raise Http404("no such action")
    cfg = engine_cfg()
    if not store_exists(cfg):
        raise Http404("no such pod")
    doc = or_404(pod_inspect.inspect, cfg, [ref])[0]
    pid, name = doc["Id"], doc["Name"]
    if verb == "start":
        run_action(request, lambda: pods.start(cfg, [pid]) and f"Started pod {name}.")
    elif verb == "stop":
        run_action(request, lambda: pods.stop(cfg, [pid]) and f"Stopped pod {name}.")
    elif verb == "restart":
        run_action(request, lambda: pods.restart(cfg, [pid]) and f"Restarted pod {name}.")
    else:
        def rm() -> str:
            report = pods.remove(cfg, [pid], force=True)
            if report.errors:
                raise report.errors[0]
            return f"Removed pod {name} and its containers."
        run_action(request, rm)
    return HttpResponseRedirect(reverse("pods"))
