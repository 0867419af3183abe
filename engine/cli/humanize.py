"""Human sizes and durations, as Podman prints them (Go's docker/go-units).

Kept free of imports beyond the standard `time` so the `images` path stays lean.
"""

from __future__ import annotations

import time

from engine.humanize import human_duration  # noqa: F401  (re-exported for the CLI)

_SI_UNITS = ("B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB")
_BINARY_UNITS = ("B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB")


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


def human_bytes(size: float) -> str:
    """go-units BytesSize (binary units): "1.5MiB", "0B"."""
    value, i = float(size), 0
    while value >= 1024.0 and i < len(_BINARY_UNITS) - 1:
        value /= 1024.0
        i += 1
    return f"{value:.4g}{_BINARY_UNITS[i]}"


def go_time(stamp: float) -> str:
    """Go's time.Time.String(): "2024-01-02 15:04:05.123456789 +0000 UTC" (Podman's
    {{.CreatedAt}} in ps and images templates, events' times)."""
    from datetime import datetime

    dt = datetime.fromtimestamp(stamp).astimezone()
    frac = f"{stamp % 1:.9f}"[1:].rstrip("0").rstrip(".")
    zone = dt.strftime("%Z") or dt.strftime("%z")
    return dt.strftime("%Y-%m-%d %H:%M:%S") + frac + dt.strftime(" %z ") + zone


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
