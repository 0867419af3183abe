"""Human sizes and durations, as Podman prints them (Go's docker/go-units).

Kept free of imports beyond the standard `time` so the `images` path stays lean.
"""

from __future__ import annotations

import time
from typing import Any

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


def stats_fields(s: Any) -> dict:
    """A stats sample (attributes or a dict) -> the template fields Podman knows
    (`hull stats`, and the per-member rows of `pod stats` and GET /libpod/pods/stats)."""
    # go-units HumanSize ("1.99MB", "0B") as Podman's stats columns; BytesSize for MemUsageBytes
    human_size = human_size_compact
    get = s.get if isinstance(s, dict) else (lambda k, d=None: getattr(s, k, d))
    mem, limit = get("mem_usage", 0) or 0, get("mem_limit", 0) or 0
    net_in, net_out = get("net_input", 0) or 0, get("net_output", 0) or 0
    blk_in, blk_out = get("block_input", 0) or 0, get("block_output", 0) or 0
    cpu_ns = get("cpu_nano", 0) or 0
    cid = get("id", "") or get("container_id", "")
    return {
        "ID": cid[:12], "ContainerID": cid, "Name": get("name", ""),
        "CPUPerc": f"{get('cpu_percent', 0.0) or 0.0:.2f}%",
        "AvgCPU": f"{get('avg_cpu', 0.0) or 0.0:.2f}%",
        "MemUsage": f"{human_size(mem)} / {human_size(limit)}",
        "MemUsageBytes": f"{human_bytes(mem)} / {human_bytes(limit)}",
        "MemPerc": f"{get('mem_percent', 0.0) or 0.0:.2f}%",
        "NetIO": f"{human_size(net_in)} / {human_size(net_out)}",
        "BlockIO": f"{human_size(blk_in)} / {human_size(blk_out)}",
        "PIDs": str(get("pids", 0) or 0),
        "UpTime": _duration(cpu_ns / 1e9),
        "CPU": _duration(cpu_ns / 1e9),
    }


def _duration(seconds: float) -> str:
    """Go's time.Duration.String() at millisecond precision: "1.234s", "2m3.5s"."""
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms" if seconds else "0s"
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{secs:.3f}".rstrip("0").rstrip(".") + "s"
    if hours:
        return f"{hours}h{minutes}m{text}"
    return f"{minutes}m{text}" if minutes else text
