"""/networks/: list, create (subnet, internal), inspect, remove."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from console.engine_access import engine_cfg, error_text, or_404, run_action, store_exists
from engine.errors import HullError


@require_GET
def network_list(request: HttpRequest) -> HttpResponse:
    from engine.services import networks
    from engine.services.common import open_store

    cfg = engine_cfg()
    rows, note = [], ""
    if store_exists(cfg):
        try:
            store = open_store(cfg)
            rows = [networks.inspect_doc(store, n) for n in networks.list_networks(cfg)]
        except HullError as err:
            note = f"The networks could not be read: {error_text(err)}"
    return render(request, "console/networks/list.html", {"networks": rows, "note": note})


@require_POST
def create(request: HttpRequest) -> HttpResponse:
    from engine.services import networks
    from engine.spec import parse

    cfg = engine_cfg()
    post = request.POST

    def make() -> str:
        labels = parse.parse_key_values([l.strip() for l in post.get("labels", "").splitlines() if l.strip()],
                                        "--label")
        net = networks.create(cfg, name=post.get("name", "").strip() or None,
                              subnet=post.get("subnet", "").strip() or None,
                              gateway=post.get("gateway", "").strip() or None,
                              ip_range=post.get("ip_range", "").strip() or None,
                              internal=post.get("internal") == "on",
                              disable_dns=post.get("disable_dns") == "on", labels=labels)
        return f"Created network {net.name}."

    run_action(request, make)
    return HttpResponseRedirect(reverse("networks"))


def _inspect_or_404(cfg, ref: str) -> dict:
    from engine.services import networks

    if not store_exists(cfg):
        raise Http404("no such network")
    return or_404(networks.inspect, cfg, [ref])[0]


@require_GET
def detail(request: HttpRequest, ref: str) -> HttpResponse:
    cfg = engine_cfg()
    doc = _inspect_or_404(cfg, ref)
    return render(request, "console/networks/detail.html", {
        "net": doc, "raw_json": json.dumps(doc, indent=2, sort_keys=True)})


@require_POST
def remove(request: HttpRequest, ref: str) -> HttpResponse:
    from engine.services import networks

    cfg = engine_cfg()
    doc = _inspect_or_404(cfg, ref)

    def rm() -> str:
        report = networks.remove(cfg, [doc["name"]], force=request.POST.get("force") == "on")
        if report.errors:
            raise report.errors[0]
        return f"Removed network {doc['name']}."

    if run_action(request, rm):
        return HttpResponseRedirect(reverse("networks"))
    return HttpResponseRedirect(reverse("network", args=[doc["name"]]))
