"""Small display filters for engine values (all return text: autoescaping still applies)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django import template
from django.utils.timesince import timesince

register = template.Library()


@register.filter
def shortid(value: Any) -> str:
    text = str(value or "")
    return text.split(":", 1)[-1][:12]


@register.filter
def when(value: Any) -> str:
    """Unix seconds -> '3 minutes ago' ('' for 0/None)."""
    try:
        ts = float(value)
    except (TypeError, ValueError):
        return ""
    if ts <= 0:
        return ""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc)
    return f"{timesince(moment).split(',')[0]} ago"


@register.filter
def isotime(value: Any) -> str:
    try:
        ts = float(value)
    except (TypeError, ValueError):
        return ""
    if ts <= 0:
        return ""
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


@register.filter
def percent(value: Any) -> str:
    try:
        return f"{float(value):.1f}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.filter
def join_words(value: Any) -> str:
    if not value:
        return ""
    if isinstance(value, str):
        return value
    import shlex

    return shlex.join(str(v) for v in value)
