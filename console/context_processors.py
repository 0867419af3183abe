from __future__ import annotations

from django.http import HttpRequest

import engine
from console import flash
from console.nav import nav_items


SECTIONS = {"container": "containers", "pod": "pods", "image": "images", "volume": "volumes",
            "network": "networks", "event": "events"}


def section(url_name: str | None) -> str | None:
    """The nav entry a page belongs to: container_create -> containers."""
    if not url_name:
        return url_name
    return SECTIONS.get(url_name.split("_")[0].rstrip("s"), url_name)


def console(request: HttpRequest) -> dict:
    match = getattr(request, "resolver_match", None)
    return {
        "nav": nav_items(),
        "current_url_name": section(match.url_name if match else None),
        "hull_version": engine.__version__,
        # popped at render time: a message shows once, on the page after the redirect
        "flash_messages": flash.pop_all(request),
    }
