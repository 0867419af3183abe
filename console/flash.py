"""One-shot messages shown on the next page (POST-redirect-GET).

Kept in the server-side session, so a message survives exactly one redirect and
never travels in a URL. Text only: templates escape it like any engine data.
"""

from __future__ import annotations

from django.http import HttpRequest

KEY = "hull_flash"
LEVELS = ("ok", "error", "info")


def add(request: HttpRequest, level: str, text: str) -> None:
    assert level in LEVELS
    messages = list(request.session.get(KEY, []))
    messages.append({"level": level, "text": str(text)})
    request.session[KEY] = messages[-10:]  # a bulk action failing on 100 containers stays readable


def ok(request: HttpRequest, text: str) -> None:
    add(request, "ok", text)


def error(request: HttpRequest, text: str) -> None:
    add(request, "error", text)


def info(request: HttpRequest, text: str) -> None:
    add(request, "info", text)


def pop_all(request: HttpRequest) -> list[dict[str, str]]:
    session = getattr(request, "session", None)
    if session is None or KEY not in session:
        return []
    return list(session.pop(KEY))
