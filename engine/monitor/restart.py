"""Restart policy decisions (pure: no I/O), as Podman/Docker apply them.

no: never; on-failure[:N]: after a non-zero exit, at most N times (0: no limit);
always / unless-stopped: after any exit.  Never after the user stopped the container
(the services leave a `stopped-by-user` marker before signalling) and never with --rm.
Back-off as Docker's: 100 ms before the first restart, doubling each time, at most
60 s, back to 100 ms once a run lasted at least 10 s.
"""

from __future__ import annotations

INITIAL_DELAY = 0.1
MAX_DELAY = 60.0
RESET_AFTER = 10.0


def should_restart(policy: str, max_retries: int, exit_code: int, restart_count: int,
                   stopped_by_user: bool, rm: bool = False) -> bool:
    if stopped_by_user or rm:
        return False
    if policy in ("always", "unless-stopped"):
        return True
    if policy == "on-failure":
        return exit_code != 0 and (max_retries <= 0 or restart_count < max_retries)
    return False


class Backoff:
    def __init__(self) -> None:
        self.delay = INITIAL_DELAY

    def next_delay(self, ran_for: float) -> float:
        """Seconds to wait before the next restart, given how long the run lasted."""
        if ran_for >= RESET_AFTER:
            self.delay = INITIAL_DELAY
        delay = self.delay
        self.delay = min(self.delay * 2, MAX_DELAY)
        return delay
