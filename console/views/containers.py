"""/containers/: the list (filter, search, sort, grouping, bulk actions) and the
create/run form."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import flash
from console import rows as row_lists
from console.engine_access import back, engine_cfg, error_text, run_action, store_exists
from console.forms import container_form
from engine.errors import HullError

BULK_ACTIONS = ("start", "stop", "restart", "remove")
STATE_FILTERS = (("all", "All"), ("running", "Running"), ("paused", "Paused"), ("stopped", "Stopped"),
                 ("exited", "Exited"), ("created", "Created"))


@require_GET
def container_list(request: HttpRequest) -> HttpResponse:
    cfg = engine_cfg()
    state = request.GET.get("state", "all")
    query = request.GET.get("q", "").strip()
    group = request.GET.get("group", "")
    all_rows, note = [], ""
    if store_exists(cfg):
        try:
            all_rows = row_lists.container_rows(cfg)
        except HullError as err:
            note = f"The containers could not be read: {error_text(err)}"
    show_infra = request.GET.get("infra") == "1"
    visible = [r for r in all_rows if show_infra or not r.infra]
    shown = row_lists.filter_rows(visible, state, query)
    shown, sort = row_lists.sort_rows(shown, request.GET.get("sort", "-created"))
    counts = row_lists.count_states(visible)
    return render(request, "console/containers/list.html", {
        "groups": row_lists.group_rows(shown, group), "shown": len(shown), "total": len(visible),
        "state": state, "query": query, "sort": sort, "group": group, "show_infra": show_infra,
        "state_filters": STATE_FILTERS, "counts": counts, "note": note,
        "sort_columns": [("name", "Name"), ("image", "Image"), ("state", "State"), ("created", "Created"),
                         ("cpu", "CPU"), ("memory", "Memory")],
    })


@require_POST
def bulk(request: HttpRequest) -> HttpResponse:
    """Start/stop/restart/remove the checked containers; one message per outcome."""
    from engine.services import containers

    cfg = engine_cfg()
    action = request.POST.get("action", "")
    ids = [i for i in request.POST.getlist("ids") if i]
    if action not in BULK_ACTIONS:
        flash.error(request, f"unknown action {action!r}")
    elif not ids:
        flash.info(request, "Nothing selected: tick the containers first.")
    else:
        done: list[str] = []
        for cid in ids:  # one at a time: one container's error does not stop the others
            def act(cid: str = cid) -> None:
                if action == "start":
                    containers.start(cfg, [cid])
                elif action == "stop":
                    containers.stop(cfg, [cid])
                elif action == "restart":
                    containers.restart(cfg, [cid])
                else:
                    report = containers.remove(cfg, [cid], containers.RmOptions(force=True))
                    if report.errors:
                        raise report.errors[0]
                done.append(cid)
            run_action(request, act, failed=f"{cid[:12]}: ")
        if done:
            verb = {"start": "Started", "stop": "Stopped", "restart": "Restarted", "remove": "Removed"}[action]
            flash.ok(request, f"{verb} {len(done)} container{'s' if len(done) != 1 else ''}.")
    return back(request, reverse("containers"))


def form_choices(cfg) -> dict:
    """Local images, pods and networks for the form's pickers."""
    from engine.services import images, networks, pod_inspect

    if not store_exists(cfg):
        return {"local_images": [], "pods": [], "networks": []}
    try:
        local = sorted({n for i in images.list_images(cfg, images.ListOptions()) for n in i.names})
        pods = sorted(p.name for p in pod_inspect.list_pods(cfg))
        nets = sorted(n.name for n in networks.list_networks(cfg))
    except HullError:
        local, pods, nets = [], [], []
    return {"local_images": local, "pods": pods, "networks": nets}


def render_form(request: HttpRequest, data: dict, *, status: int = 200, recreate: object = None) -> HttpResponse:
    cfg = engine_cfg()
    return render(request, "console/containers/create.html", {
        "form": data, "recreate": recreate, **form_choices(cfg),
        "pull_policies": container_form.PULL_POLICIES, "network_choices": container_form.NETWORK_CHOICES,
        "restart_policies": ("no", "on-failure", "always", "unless-stopped"),
        "health_actions": ("none", "kill", "restart", "stop"),
    }, status=status)


@require_http_methods(["GET", "POST"])
def create(request: HttpRequest) -> HttpResponse:
    if request.method == "GET":
        data = dict(container_form.EMPTY_FORM)
        for key in ("image", "pod"):  # "Run" links from an image or a pod page pre-fill these
            if request.GET.get(key):
                data[key] = request.GET[key]
        return render_form(request, data)
    from engine.services import containers

    cfg = engine_cfg()
    data = container_form.form_data(request.POST)
    run = request.POST.get("submit") == "run"
    try:
        opts = container_form.options_from_form(data)
        result = containers.create(cfg, opts)
    except HullError as err:
        flash.error(request, error_text(err))
        return render_form(request, data, status=400)
    name = containers.inspect(cfg, [result.id])[0]["Name"]
    if run:
        if not run_action(request, lambda: containers.start(cfg, [result.id]) and None,
                          failed=f"Created {name}, but it did not start: "):
            return HttpResponseRedirect(reverse("container", args=[result.id]))
    flash.ok(request, f"{'Started' if run else 'Created'} container {name}.")
    return HttpResponseRedirect(reverse("container", args=[result.id]))
