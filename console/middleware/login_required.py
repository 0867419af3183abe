"""Every page needs the owner's session; everyone else gets one bland 403 page.

Unknown URLs answer 403 too, so nobody without the token can learn which
pages exist. Only the login view and the static files (code from this
repository, no user data) are open.
"""

from __future__ import annotations

from typing import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.session import is_logged_in

OPEN_PATHS = ("/login",)
OPEN_PREFIXES = ("/static/",)


def login_required_response(request: HttpRequest) -> HttpResponse:
    return render(request, "console/login_required.html", status=403)


class LoginRequiredMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.get_host()  # a foreign Host (DNS rebinding) is a 400 before anything else
        path = request.path_info
        if path in OPEN_PATHS or path.startswith(OPEN_PREFIXES) or is_logged_in(request.session):
            return self.get_response(request)
        return login_required_response(request)
