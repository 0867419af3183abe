"""file_lock: exclusive vs shared, non-blocking, removal of a lock file by its holder."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

from engine.store.locks import file_lock, remove_lock_file


def _hold(path: str, shared: bool, ready, release) -> None:
    with file_lock(path, shared=shared):
        ready.set()
        release.wait(10)


def test_exclusive_lock_excludes_another_process(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    path = tmp_path / "locks" / "x.lock"  # parent directory made on demand
    proc = ctx.Process(target=_hold, args=(str(path), False, ready, release))
    proc.start()
    try:
        assert ready.wait(10)
        with file_lock(path, blocking=False) as acquired:
            assert acquired is False
        with file_lock(path, shared=True, blocking=False) as acquired:
            assert acquired is False
    finally:
        release.set()
        proc.join(10)
    with file_lock(path, blocking=False) as acquired:
        assert acquired is True
    assert (path.stat().st_mode & 0o777) == 0o600


def test_shared_locks_coexist_but_exclude_writers(tmp_path: Path) -> None:
    path = tmp_path / "s.lock"
    with file_lock(path, shared=True) as one, file_lock(path, shared=True, blocking=False) as two:
        assert one and two
        with file_lock(path, blocking=False) as writer:
            assert writer is False


def test_lock_released_when_holder_is_killed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, release = ctx.Event(), ctx.Event()
    path = tmp_path / "k.lock"
    proc = ctx.Process(target=_hold, args=(str(path), False, ready, release))
    proc.start()
    assert ready.wait(10)
    os.kill(proc.pid, 9)
    proc.join(10)
    with file_lock(path, blocking=False) as acquired:
        assert acquired


def test_waiter_relocks_after_holder_removes_the_file(tmp_path: Path) -> None:
    """A waiter on the unlinked inode must not hold a lock alongside a newcomer."""
    path = tmp_path / "r.lock"
    got_it = threading.Event()
    newcomer_blocked: list[bool] = []

    def waiter() -> None:
        with file_lock(path):
            got_it.set()
            time.sleep(0.2)

    with file_lock(path):
        thread = threading.Thread(target=waiter)
        thread.start()
        time.sleep(0.2)  # the waiter has opened the old inode and blocks in flock
        remove_lock_file(path)
    assert got_it.wait(5)
    # The waiter now holds the lock on the path as it exists *now*.
    with file_lock(path, blocking=False) as acquired:
        newcomer_blocked.append(not acquired)
    thread.join()
    assert newcomer_blocked == [True]
