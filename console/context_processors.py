from __future__ import annotations

from django.http import HttpRequest

import engine
from console.nav import nav_items


def console(request: HttpRequest) -> dict:
    match = getattr(request, "resolver_match", None)
    return {
        "nav": nav_items(),
        "current_url_name": match.url_name if match else None,
        "hull_version": engine.__version__,
    }
