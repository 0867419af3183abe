"""Headers Django 5.2 does not send itself: CSP, CORP and no-store.

SecurityMiddleware already sends nosniff, Referrer-Policy and COOP, and
XFrameOptionsMiddleware X-Frame-Options: DENY.
"""

from __future__ import annotations

from typing import Callable

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse


def content_security_policy(request: HttpRequest) -> str:
    policy = settings.HULL_CONTENT_SECURITY_POLICY
    try:
        host = request.get_host()
    except DisallowedHost:
        return policy + "; connect-src 'self'"
    # 'self' covers ws: only in newer browsers; name our own websocket origin too.
    return policy + f"; connect-src 'self' ws://{host}"


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.setdefault("Content-Security-Policy", content_security_policy(request))
        # Other local origins (another port, another user's server) may not embed our files.
        response.setdefault("Cross-Origin-Resource-Policy", "same-origin")
        # Pages show live engine state and sit behind a session: never cache them.
        response.setdefault("Cache-Control", "no-store")
        return response
