"""Human sizes and durations, as Podman prints them (Go's docker/go-units).

Kept free of imports beyond the standard `time` so the `images` path stays lean.
"""

from __future__ import annotations

import time

_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")


def _scale(size: float) -> tuple[float, str]:
    i = 0
    while size >= 1000.0 and i < len(_SI_UNITS) - 1:
        size /= 1000.0
        i += 1
    return size, _SI_UNITS[i]


def human_size(size: float, precision: int = 3) -> str:
    """`images`/`history` style: "2.13 MB", "143 kB", "0 B" (go-units 0.5)."""
    value, unit = _scale(float(size))
    return f"{value:.{precision}g} {unit}"


def human_size_compact(size: float, precision: int = 4) -> str:
    """`system df`/`image tree` style: "4.259MB", "142.8kB", "0B"."""
    value, unit = _scale(float(size))
    return f"{value:.{precision}g}{unit}"


def _go_round_hours(seconds: float) -> int:
    # time.Duration.Round(time.Hour): halves round away from zero
    return int(seconds / 3600.0 + 0.5)


def human_duration(seconds: float) -> str:
    """go-units HumanDuration: "Less than a second", "About a minute", "3 weeks"."""
    secs = int(seconds)
    if secs < 1:
        return "Less than a second"
    if secs == 1:
        return "1 second"
    if secs < 60:
        return f"{secs} seconds"
    minutes = secs // 60
    if minutes == 1:
        return "About a minute"
    if minutes < 60:
        return f"{minutes} minutes"
    hours = _go_round_hours(seconds)
    if hours == 1:
        return "About an hour"
    if hours < 48:
        return f"{hours} hours"
    if hours < 24 * 7 * 2:
        return f"{hours // 24} days"
    if hours < 24 * 30 * 2:
        return f"{hours // 24 // 7} weeks"
    if hours < 24 * 365 * 2:
        return f"{hours // 24 // 30} months"
    return f"{int(seconds // 3600) // 24 // 365} years"


def time_ago(timestamp: float, now: float | None = None) -> str:
    """"2 hours ago" for a Unix timestamp (Podman's CREATED columns)."""
    now = time.time() if now is None else now
    return human_duration(max(0.0, now - timestamp)) + " ago"


def short_id(image_id: str, no_trunc: bool = False) -> str:
    """IDs are shown as 12 hex characters unless --no-trunc (then sha256:...)."""
    hex_part = image_id.partition(":")[2] if ":" in image_id else image_id
    if no_trunc:
        return "sha256:" + hex_part
    return hex_part[:12]
