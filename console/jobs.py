"""Long engine work (pulls, pushes) in a background thread that outlives the request:
the download goes on when the page is left, and the images page shows its result.
(Other pages are not held up either way: Django's ASGI handler gives each request's
sync code its own thread; tests/console/test_long_actions.py guards that.)

The images page lists the jobs of this process with their results. Jobs live
in memory only and die with the console, as its sessions do.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from engine.errors import HullError

MAX_KEPT = 20


@dataclass
class Job:
    id: int
    title: str
    state: str = "running"  # running, done, failed
    result: str = ""
    started: float = field(default_factory=time.time)
    finished: float = 0.0
    thread: threading.Thread | None = field(default=None, repr=False)


_lock = threading.Lock()
_jobs: list[Job] = []
_ids = itertools.count(1)


def start(title: str, work: Callable[[], str]) -> Job:
    """Run `work` in a thread; its return value (or its HullError) becomes the result."""
    job = Job(next(_ids), title)

    def run() -> None:
        try:
            job.result, job.state = work(), "done"
        except HullError as err:
            job.result, job.state = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__, "failed"
        except Exception as err:  # noqa: BLE001 - a bug must show as a failed job, not kill the console
            job.result, job.state = f"internal error: {type(err).__name__}", "failed"
        job.finished = time.time()

    job.thread = threading.Thread(target=run, name=f"hull-console-job-{job.id}", daemon=True)
    with _lock:
        _jobs.append(job)
        del _jobs[:-MAX_KEPT]
    job.thread.start()
    return job


def recent() -> list[Job]:
    with _lock:
        return list(reversed(_jobs))


def wait_all(timeout: float = 120.0) -> None:
    """Wait for every job (tests, and the console's shutdown)."""
    deadline = time.monotonic() + timeout
    for job in recent():
        if job.thread is not None:
            job.thread.join(max(0.0, deadline - time.monotonic()))


def clear() -> None:
    with _lock:
        _jobs.clear()
