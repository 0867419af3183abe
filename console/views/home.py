"""The dashboard: how many of everything, disk use, and what is running now.

The numbers are rendered here; the live stats/events sockets keep them moving
(elements carry data-* hooks: data-container-id, data-stat, data-count).
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console import rows as row_lists
from console.engine_access import engine_cfg, error_text, store_exists
from console.facts import gather_facts
from engine.errors import HullError


def _disk(cfg) -> dict:
    from engine.services import system, volumes

    usage = system.df(cfg)
    from engine.services import container_list

    ctrs = container_list.list_containers(cfg, container_list.ListOptions(all=True, size=True))
    vols = volumes.list_volumes(cfg)
    vol_sizes = [volumes._size(v["Mountpoint"]) for v in vols]
    return {
        "images": usage.images_size, "images_reclaimable": usage.images_reclaimable,
        "containers": sum(c.size_rw or 0 for c in ctrs), "volumes": sum(vol_sizes),
        "total": usage.images_size + sum(c.size_rw or 0 for c in ctrs) + sum(vol_sizes),
    }


def home(request: HttpRequest) -> HttpResponse:
    cfg = engine_cfg()
    context: dict = {"facts": gather_facts(cfg), "counts": None, "running": [], "disk": None, "note": ""}
    if store_exists(cfg):
        try:
            from engine.services import images, volumes

            ctr_rows = row_lists.container_rows(cfg)
            context["counts"] = {
                "containers": row_lists.count_states(ctr_rows), "total": len(ctr_rows),
                "pods": len(row_lists.pod_names(cfg)),
                "images": len(images.list_images(cfg, images.ListOptions())),
                "volumes": len(volumes.list_volumes(cfg)),
            }
            context["running"] = [r for r in ctr_rows if r.state == "running" and not r.infra]
            context["disk"] = _disk(cfg)
        except HullError as err:
            context["note"] = f"The engine's state could not be read: {error_text(err)}"
    return render(request, "console/home.html", context)
