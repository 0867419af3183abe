"""Error pages without tracebacks or details, in the console's own look."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

TITLES = {400: "Bad request", 403: "Forbidden", 404: "Not found", 500: "Something went wrong"}


def _page(status: int) -> HttpResponse:
    # No request context: the request may carry a bad Host or a broken session.
    html = render_to_string("console/error.html", {"status": status, "title": TITLES[status]})
    return HttpResponse(html, status=status)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _page(404)


def server_error(request: HttpRequest) -> HttpResponse:
    return _page(500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: Django's own page has inline styles (blocked by our CSP)."""
    return _page(403)
