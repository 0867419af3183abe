"""The home page: what the engine says about itself (the dashboard grows here)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from console.facts import gather_facts


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "console/home.html", {"facts": gather_facts()})
