"""Login by token link, logout by POST."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET, require_POST

from console import login_token
from console.middleware.login_required import login_required_response
from console.session import is_logged_in, log_in, log_out


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """`/login?token=...`: a right token buys a session and a redirect that drops it from the URL."""
    token = request.GET.get("token")
    if token is None and is_logged_in(request.session):
        return HttpResponseRedirect("/")
    if not login_token.check(token):
        return login_required_response(request)
    log_in(request)
    return HttpResponseRedirect("/")


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    log_out(request)
    return HttpResponseRedirect("/login")
