"""Healthcheck state (pure), as Podman and Docker define it.

starting -> healthy on a passing check; a failing check counts towards `retries`
only after the start period (or after the first success, which ends it); `retries`
consecutive counted failures -> unhealthy; a pass resets the streak.  The last five
results are kept, each output capped at 4096 bytes.  `to_json()` is Podman's
`State.Health` document, written to userdata/health.json.
"""

from __future__ import annotations

import time

from engine.monitor.minijson import dumps

STARTING, HEALTHY, UNHEALTHY = "starting", "healthy", "unhealthy"
MAX_LOG = 5
MAX_OUTPUT = 4096


def _iso(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + f".{frac:09d}Z"


class HealthState:
    def __init__(self, retries: int, start_period: float, started: float) -> None:
        self.retries = max(1, retries)
        self.start_period = start_period
        self.started = started  # monotonic time the container started
        self.status = STARTING
        self.failing_streak = 0
        self.log: list[dict] = []
        self.passed_once = False

    def in_start_period(self, now: float) -> bool:
        return not self.passed_once and now - self.started < self.start_period

    def record(self, exit_code: int, output: str, start_ns: int, end_ns: int,
               now: float) -> str | None:
        """Add one result; returns the new status when it changed, else None."""
        self.log.append({"Start": _iso(start_ns), "End": _iso(end_ns), "ExitCode": exit_code,
                         "Output": output[:MAX_OUTPUT]})
        del self.log[:-MAX_LOG]
        before = self.status
        if exit_code == 0:
            self.passed_once = True
            self.failing_streak = 0
            self.status = HEALTHY
        elif not self.in_start_period(now):
            self.failing_streak += 1
            if self.failing_streak >= self.retries:
                self.status = UNHEALTHY
        return self.status if self.status != before else None

    def to_dict(self) -> dict:
        return {"Status": self.status, "FailingStreak": self.failing_streak, "Log": list(self.log)}

    def to_json(self) -> str:
        return dumps({"Status": self.status, "FailingStreak": self.failing_streak,
                           "Log": self.log})


def read_health(path) -> dict | None:
    """health.json as written by the monitor (None when absent or unreadable)."""
    import json

    try:
        with open(path, "rb") as fh:
            doc = json.loads(fh.read())
        return doc if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None
