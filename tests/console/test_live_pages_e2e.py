"""The console's live pages in chromium (Playwright, /usr/bin/chromium headless):

- the images list follows image events (pull, tag, remove done by the CLI) without
  a reload, as the containers list does;
- no page, the terminal tab included (xterm.js writes <style> elements), makes the
  browser report a Content-Security-Policy violation;
- a container writing 100,000 lines: the logs view keeps every line (status, search)
  while the DOM holds only the rows in view, and the page answers while it streams.
"""

from __future__ import annotations

import time

import pytest

from tests.console.test_browser_e2e import console_for, launch, playwright_api  # noqa: F401 - fixture
from tests.fixtures.images import push_to_registry

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]
LINES = 100_000


def wait_js(page, expression: str, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        page.wait_for_timeout(100)


def test_images_list_follows_image_events(console_for, hull, registry, busybox_image) -> None:  # noqa: F811
    base, login_url = console_for
    hull.load(busybox_image)
    push_to_registry(busybox_image, registry, "live/busybox:latest")
    pulled = f"{registry.host}/live/busybox:latest"
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        page.goto(login_url)
        page.goto(base + "/images/")
        page.wait_for_selector("#live-status.ok", timeout=15000)
        page.evaluate("() => { window.notReloaded = true; }")
        rows = page.locator("#images-table tbody tr")

        hull("tag", "localhost/busybox", "localhost/live-tag:1").ok()
        page.wait_for_selector("#images-table a >> text=localhost/live-tag:1", timeout=15000)
        hull("pull", "--tls-verify=false", pulled).ok()
        page.wait_for_selector(f"#images-table a >> text={pulled}", timeout=15000)
        hull("rmi", "localhost/live-tag:1").ok()
        page.wait_for_selector("#images-table a >> text=localhost/live-tag:1", state="detached", timeout=15000)
        assert rows.count() >= 1
        assert page.evaluate("() => window.notReloaded") is True  # swapped in place, not reloaded
        browser.close()
    # The events that drove it, as `hull events` shows them (Podman's actions).
    seen = hull("events", "--stream=false", "--filter", "type=image",
                           "--format", "{{.Status}} {{.Name}}").ok().lines
    for expected in ("load localhost/busybox:latest", "tag localhost/live-tag:1", f"pull {pulled}",
                     "untag localhost/live-tag:1"):
        assert expected in seen, (expected, seen)


def test_no_csp_violations_and_a_log_flood_stays_bounded(console_for, hull, busybox_image) -> None:  # noqa: F811
    base, login_url = console_for
    hull.load(busybox_image)
    cid = hull("run", "-d", "--network", "none", "localhost/busybox", "sleep", "1000").ok().stdout.strip()
    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        violations: list[str] = []
        page.on("console", lambda m: violations.append(f"{page.url}: {m.text}")
                if "Content Security Policy" in m.text else None)
        page.goto(login_url)
        for path in ("/", "/containers/", f"/containers/{cid}/", f"/containers/{cid}/?tab=logs",
                     f"/containers/{cid}/?tab=stats", "/images/", "/events/"):
            page.goto(base + path)
            page.wait_for_load_state("load")
        # The terminal: xterm's styles must apply (its rows get a size), without a violation.
        page.goto(f"{base}/containers/{cid}/?tab=terminal")
        page.wait_for_selector(".term-status >> text=connected", timeout=30000)
        page.locator(".term-screen").click()
        page.keyboard.type("echo csp-$((40+2))\n")
        page.wait_for_selector(".xterm-rows >> text=csp-42", timeout=15000)
        assert page.evaluate("() => document.adoptedStyleSheets.length") >= 1
        assert violations == [], violations[:3]

        # A flood of lines while following.
        flood = hull("run", "-d", "--network", "none", "localhost/busybox", "sh", "-c",
                     f"sleep 3; seq 1 {LINES}; exec sleep 1000").ok().stdout.strip()
        page.goto(f"{base}/containers/{flood}/?tab=logs")
        page.wait_for_selector(".log-status >> text=live", timeout=30000)
        most_rows = 0
        deadline = time.monotonic() + 240
        while page.evaluate("() => window.hullLogCount") < LINES:
            assert time.monotonic() < deadline, "the lines never all arrived"
            # The page answers while it streams, and holds only the rows in view.
            most_rows = max(most_rows, page.evaluate("() => document.querySelectorAll('.log-line').length"))
            page.wait_for_timeout(200)
        page.wait_for_selector(f".log-status >> text={LINES:,} lines", timeout=15000)
        most_rows = max(most_rows, page.locator(".log-line").count())
        assert 10 <= most_rows <= 200, most_rows
        # Following: the newest line is in view.
        page.wait_for_selector(f".log-msg >> text=/^{LINES}$/", timeout=10000)
        # Every line is kept: search counts the one line "12345" and shows it, highlighted.
        page.fill(".log-search", "12345")
        page.wait_for_selector(".log-status >> text=/^\\d+ matching lines?$/", timeout=10000)
        hits = int(page.locator(".log-status").inner_text().split()[0])
        assert hits == sum("12345" in str(i) for i in range(1, LINES + 1))
        page.check("label:has-text('Only matches') input")
        page.wait_for_selector(".log-msg mark >> text=12345", timeout=10000)
        assert violations == [], violations[:3]
        browser.close()
