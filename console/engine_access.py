"""How views reach the engine: one EngineConfig per request, lookups that turn
"no such thing" into the 404 page, and actions that turn engine errors into a
flash message and a redirect (never a traceback).
"""

from __future__ import annotations

from typing import Any, Callable

from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme

from console import flash
from engine.config import EngineConfig
from engine.errors import HullError, NotFound


def engine_cfg() -> EngineConfig:
    # Read per request: HULL_ROOT/HULL_RUNROOT (tests) take effect without a restart.
    return EngineConfig()


def store_exists(cfg: EngineConfig) -> bool:
    """False before anything was ever stored: pages then show empty lists
    instead of creating the store by looking at it."""
    return cfg.db_path.exists()


def or_404(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call an engine lookup; a NotFound (or a name the engine refuses) is the 404 page."""
    try:
        return fn(*args, **kwargs)
    except NotFound:
        raise Http404("not found") from None
    except HullError:
        raise Http404("not found") from None


def error_text(err: BaseException) -> str:
    text = str(err).strip() or err.__class__.__name__
    return text.splitlines()[0] if text else text


def run_action(request: HttpRequest, fn: Callable[[], str | None], *, failed: str = "") -> bool:
    """Run one engine action; its return value (if any) becomes an ok message,
    a HullError an error message. Returns whether it worked."""
    try:
        message = fn()
    except HullError as err:
        flash.error(request, f"{failed}{error_text(err)}")
        return False
    if message:
        flash.ok(request, message)
    return True


def report_errors(request: HttpRequest, report: Any, what: str) -> list[str]:
    """Flash each error of a RemovalReport-like object; returns what was removed."""
    for err in getattr(report, "errors", []) or []:
        flash.error(request, error_text(err))
    return list(getattr(report, "removed", []) or [])


def back(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to the form's `next` (a local path only), else `default`."""
    target = request.POST.get("next") or ""
    if target and target.startswith("/") and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=False):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)


def short(identifier: str) -> str:
    return identifier.split(":", 1)[-1][:12]
