"""/events/: the most recent engine events (the live feed is a websocket that
appends to the same table: tbody[data-events-feed])."""

from __future__ import annotations

from collections import deque

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from console.engine_access import engine_cfg, error_text
from engine.errors import HullError

RECENT = 200
TYPES = ("container", "image", "volume", "pod", "network", "system", "secret")


@require_GET
def events(request: HttpRequest) -> HttpResponse:
    from engine.services import events as event_service

    cfg = engine_cfg()
    kind = request.GET.get("type", "")
    filters = {"type": [kind]} if kind in TYPES else {}
    note = ""
    try:
        recent = list(deque(event_service.read_events(cfg, filters=filters), maxlen=RECENT))
    except HullError as err:
        recent, note = [], f"The event log could not be read: {error_text(err)}"
    recent.reverse()  # newest first
    return render(request, "console/events.html", {
        "events": recent, "types": TYPES, "type": kind if kind in TYPES else "", "note": note,
        "limit": RECENT})
