"""A long action does not hold up the other pages.

Django's ASGI handler runs each request's sync code in a thread of its own
(asgiref ThreadSensitiveContext per request), so a `stop` waiting out the stop
timeout of a container that ignores SIGTERM must not freeze the console: a
regression guard against a global lock, a single-thread executor or a store lock
held across the wait.  The container traps TERM (and says so in its log), so the
stop is certainly under way when the other pages are asked for; they must come
back while the container is still running, i.e. before the stop could end.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.console.engine_state import engine  # noqa: F401 - fixture
from tests.console.test_launcher_e2e import REPO, console  # noqa: F401 - fixture

pytestmark = pytest.mark.timeout(240)
TRAP = ["sh", "-c", "trap 'echo got-term' TERM; echo ready; while :; do sleep 0.2; done"]
STOP_TIMEOUT = 15


def logs(hull_dirs: Path, cid: str) -> str:
    return subprocess.run([str(REPO / ".venv/bin/hull"), "--root", str(hull_dirs / "root"), "--runroot",
                           str(hull_dirs / "run"), "logs", cid], capture_output=True, text=True, timeout=60).stdout


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


@pytest.mark.parametrize("how", ["stop", "bulk"])
def test_a_slow_stop_does_not_block_other_pages(engine, console, how) -> None:  # noqa: F811
    _, match, _ = console
    base = match.group(1)
    cid = engine.create("trapper", *TRAP, start=True, stop_timeout=STOP_TIMEOUT)
    wait_until(lambda: "ready" in logs(engine.base, cid), 60, "the trap to be set")

    with httpx.Client(timeout=120) as browser:
        browser.get(match.group(0), follow_redirects=True).raise_for_status()
        listing = browser.get(f"{base}/containers/")
        # CSRF_USE_SESSIONS: the token is in the session, the page's forms carry it.
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', listing.text).group(1)
        headers = {"X-CSRFToken": token, "Origin": base, "Referer": base + "/"}
        if how == "stop":
            url, data = f"{base}/containers/{cid}/stop", {}
        else:
            url, data = f"{base}/containers/bulk", {"action": "stop", "ids": cid}
        answer: list[httpx.Response] = []
        stopper = threading.Thread(target=lambda: answer.append(browser.post(url, data=data, headers=headers)))
        stopper.start()
        try:
            wait_until(lambda: "got-term" in logs(engine.base, cid), 60, "the stop to send SIGTERM")
            # Other pages, and the stopping container's own page, come back during the
            # stop: the container was still running then.
            for path in ("/containers/", f"/containers/{cid}/", "/", "/images/"):
                assert browser.get(base + path).status_code == 200, path
            assert engine.state(cid) == "running", "the list page waited for the stop to end"
            assert answer == [], "the stop ended before the page came back"
        finally:
            stopper.join(STOP_TIMEOUT + 60)
        assert answer and answer[0].status_code == 302, answer
        assert engine.state(cid) == "exited"
        done = browser.get(base + answer[0].headers["location"])
        assert "Stopped" in done.text  # the flash message of the action
