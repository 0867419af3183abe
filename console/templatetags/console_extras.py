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


def _moment(value: Any) -> dt.datetime | None:
    """Unix seconds -> an aware UTC datetime; None for 0, None or garbage."""
    try:
        ts = float(value)
    except (TypeError, ValueError):
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.timezone.utc) if ts > 0 else None


@register.filter
def when(value: Any) -> str:
    """Unix seconds -> '3 minutes ago' ('' for 0/None)."""
    moment = _moment(value)
    return f"{timesince(moment).split(',')[0]} ago" if moment else ""


@register.filter
def isotime(value: Any) -> str:
    moment = _moment(value)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else ""


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
