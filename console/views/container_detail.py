"""/containers/<name or id>/: tabs (overview, logs, terminal, stats, processes,
healthcheck) and the actions on one container (POST, then back to the page)."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console import flash
from console.engine_access import engine_cfg, error_text, or_404, run_action, store_exists
from console.forms import container_form
from console.views.containers import render_form
from engine.errors import HullError

TABS = (("overview", "Overview"), ("logs", "Logs"), ("terminal", "Terminal"), ("stats", "Stats"),
        ("processes", "Processes"), ("healthcheck", "Healthcheck"))
SIGNALS = ("KILL", "TERM", "INT", "HUP", "QUIT", "USR1", "USR2")


def inspect_or_404(cfg, ref: str) -> dict:
    from engine.services import container_inspect

    if not store_exists(cfg):
        raise Http404("no such container")
    return or_404(container_inspect.inspect, cfg, [ref])[0]


def _pod_name(cfg, pod_id: str) -> str:
    if not pod_id:
        return ""
    from engine.services import pod_inspect

    try:
        return pod_inspect.inspect(cfg, [pod_id])[0]["Name"]
    except HullError:
        return pod_id[:12]


def _readable(doc: dict) -> dict:
    """The parts of `inspect` a person reads first."""
    config, host, state = doc.get("Config") or {}, doc.get("HostConfig") or {}, doc.get("State") or {}
    net = doc.get("NetworkSettings") or {}
    ports = []
    for ctr_port, binds in (net.get("Ports") or {}).items():
        for b in binds or [None]:
            ports.append(f"{b.get('HostIp') or '0.0.0.0'}:{b.get('HostPort')} → {ctr_port}" if b else ctr_port)
    restart = host.get("RestartPolicy") or {}
    return {
        "state": state, "config": config, "ports": ports,
        "env": config.get("Env") or [], "labels": config.get("Labels") or {},
        "mounts": doc.get("Mounts") or [],
        "networks": net.get("Networks") or {},
        "restart": restart.get("Name") or "no",
        "restart_retries": restart.get("MaximumRetryCount") or 0,
        "memory": host.get("Memory") or 0, "nano_cpus": (host.get("NanoCpus") or 0) / 1e9,
    }


@require_GET
def detail(request: HttpRequest, ref: str) -> HttpResponse:
    cfg = engine_cfg()
    doc = inspect_or_404(cfg, ref)
    tab = request.GET.get("tab", "overview")
    if tab not in dict(TABS):
        tab = "overview"
    state = (doc.get("State") or {}).get("Status", "")
    context = {
        "c": doc, "id": doc["Id"], "name": doc["Name"], "state": state, "tab": tab, "tabs": TABS,
        "pod_name": _pod_name(cfg, doc.get("Pod") or ""), "signals": SIGNALS,
        "readable": _readable(doc), "raw_json": json.dumps(doc, indent=2, sort_keys=True),
        "running": state == "running", "paused": state == "paused",
    }
    if tab == "processes":
        context.update(_processes(cfg, doc["Id"], state))
    elif tab == "stats":
        context["stats"] = _stats(cfg, doc["Id"], state)
    elif tab == "healthcheck":
        context["health"] = _health(doc)
    return render(request, "console/containers/detail.html", context)


def _processes(cfg, cid: str, state: str) -> dict:
    from engine.services import container_stats

    if state != "running":
        return {"top_note": "The container is not running: it has no processes."}
    try:
        headers, rows = container_stats.top(cfg, cid)
    except HullError as err:
        return {"top_note": error_text(err)}
    return {"top_headers": headers, "top_rows": rows}


def _stats(cfg, cid: str, state: str):
    from engine.services import container_stats

    if state != "running":
        return None
    try:
        return container_stats.stats(cfg, [cid])[0]
    except (HullError, IndexError):
        return None


def _health(doc: dict) -> dict:
    config = doc.get("Config") or {}
    check = config.get("Healthcheck") or {}
    health = (doc.get("State") or {}).get("Health") or {}
    test = check.get("Test") or []
    command = ""
    if test:
        command = test[1] if test[0] == "CMD-SHELL" and len(test) == 2 else " ".join(test[1:] or test)
    return {
        "configured": bool(test) and test[0] != "NONE",
        "command": command, "test": test,
        "interval": (check.get("Interval") or 0) / 1e9, "timeout": (check.get("Timeout") or 0) / 1e9,
        "start_period": (check.get("StartPeriod") or 0) / 1e9, "retries": check.get("Retries") or 0,
        "on_failure": config.get("HealthcheckOnFailureAction") or "none",
        "status": health.get("Status") or "", "failing_streak": health.get("FailingStreak") or 0,
        "log": list(reversed(health.get("Log") or []))[:5],
    }


# ---------------------------------------------------------------- actions
ACTIONS = ("start", "stop", "restart", "kill", "pause", "unpause", "rename", "commit", "remove", "healthcheck")


@require_POST
def action(request: HttpRequest, ref: str, verb: str) -> HttpResponse:
    from engine.services import containers

    cfg = engine_cfg()
    doc = inspect_or_404(cfg, ref)
    if verb not in ACTIONS:
        raise Http404("no such action")
    cid, name = doc["Id"], doc["Name"]
    page = reverse("container", args=[cid])
    if verb == "start":
        run_action(request, lambda: containers.start(cfg, [cid]) and f"Started {name}.")
    elif verb == "stop":
        run_action(request, lambda: containers.stop(cfg, [cid]) and f"Stopped {name}.")
    elif verb == "restart":
        run_action(request, lambda: containers.restart(cfg, [cid]) and f"Restarted {name}.")
    elif verb == "kill":
        sig = request.POST.get("signal") or "KILL"
        run_action(request, lambda: containers.kill(cfg, [cid], sig) and f"Sent SIG{sig.upper().removeprefix('SIG')} to {name}.")
    elif verb == "pause":
        run_action(request, lambda: containers.pause(cfg, [cid]) and f"Paused {name}.")
    elif verb == "unpause":
        run_action(request, lambda: containers.unpause(cfg, [cid]) and f"Resumed {name}.")
    elif verb == "rename":
        new = request.POST.get("new_name", "").strip()
        if run_action(request, lambda: containers.rename(cfg, cid, new) and f"Renamed {name} to {new}."):
            return HttpResponseRedirect(page)
    elif verb == "commit":
        return _commit(request, cfg, cid, name, page)
    elif verb == "remove":
        def rm() -> str:
            report = containers.remove(cfg, [cid], containers.RmOptions(
                force=request.POST.get("force") == "on", volumes=request.POST.get("volumes") == "on"))
            if report.errors:
                raise report.errors[0]
            return f"Removed {name}."
        if run_action(request, rm):
            return HttpResponseRedirect(reverse("containers"))
    elif verb == "healthcheck":
        run_action(request, lambda: f"Healthcheck of {name}: {containers.healthcheck_run(cfg, cid)}.")
        return HttpResponseRedirect(page + "?tab=healthcheck")
    return HttpResponseRedirect(page)


def _commit(request: HttpRequest, cfg, cid: str, name: str, page: str) -> HttpResponse:
    from engine.services import container_commit

    image = request.POST.get("image", "").strip() or None
    changes = [line.strip() for line in request.POST.get("changes", "").splitlines() if line.strip()]
    opts = container_commit.CommitOptions(
        changes=changes, message=request.POST.get("message", "").strip() or None,
        author=request.POST.get("author", "").strip() or None,
        pause=request.POST.get("pause") == "on")
    made: list[str] = []

    def commit() -> str:
        made.append(container_commit.commit(cfg, cid, image, opts))
        return f"Committed {name} as {image or 'an untagged image'} ({made[0].split(':')[-1][:12]})."

    if run_action(request, commit):
        return HttpResponseRedirect(reverse("image", args=[made[0].split(":")[-1]]))
    return HttpResponseRedirect(page)


@require_http_methods(["GET", "POST"])
def recreate(request: HttpRequest, ref: str) -> HttpResponse:
    """The create form filled with this container's settings; submitting replaces it
    (same name unless changed; started again if it was running)."""
    from engine.services import containers
    from engine.spec.options import ContainerOptions

    cfg = engine_cfg()
    doc = inspect_or_404(cfg, ref)
    cid, name = doc["Id"], doc["Name"]
    store_opts = _stored_options(cfg, cid)
    base = ContainerOptions.from_dict(store_opts)
    base.name = name
    pod_name = _pod_name(cfg, doc.get("Pod") or "")
    if request.method == "GET":
        data = container_form.form_from_options(base, pod_name)
        if doc.get("ImageName"):
            data["image"] = doc["ImageName"]
        return render_form(request, data, recreate={"id": cid, "name": name})
    data = container_form.form_data(request.POST)
    was_running = (doc.get("State") or {}).get("Status") in ("running", "paused")
    try:
        opts = container_form.options_from_form(data, base)
        opts.replace = opts.name == name  # the create service removes the old one under that name
        result = containers.create(cfg, opts)
        if opts.name != name:
            report = containers.remove(cfg, [cid], containers.RmOptions(force=True))
            if report.errors:
                raise report.errors[0]
    except HullError as err:
        flash.error(request, error_text(err))
        return render_form(request, data, status=400, recreate={"id": cid, "name": name})
    new_name = opts.name or containers.inspect(cfg, [result.id])[0]["Name"]
    if was_running or request.POST.get("submit") == "run":
        run_action(request, lambda: containers.start(cfg, [result.id]) and None,
                   failed=f"Recreated {new_name}, but it did not start: ")
    flash.ok(request, f"Recreated {new_name} with the new settings.")
    return HttpResponseRedirect(reverse("container", args=[result.id]))


def _stored_options(cfg, cid: str) -> dict:
    from engine.services.common import open_store

    return dict(open_store(cfg).containers.get(cid).options or {})
