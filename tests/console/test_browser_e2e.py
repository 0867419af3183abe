"""The console in a real browser: Debian's chromium (headless) driven by Playwright,
against `manage.py runconsole` and real containers.

Never `playwright install`: the browser is /usr/bin/chromium (.ci/setup-system-deps).
Screenshots of the main pages go to $HULL_TEST_ARTIFACTS/console-screenshots, else
to the pytest base temp directory's console-screenshots/ (the path is printed).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.console.test_launcher_e2e import REPO, read_login_url
from tests.fixtures.images import push_to_registry

playwright_api = pytest.importorskip("playwright.sync_api", reason="the playwright package (test extras)")
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]


def launch(p):
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"{CHROMIUM} is missing: .ci/setup-system-deps installs Debian's chromium")
    return p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)


@pytest.fixture
def console_for(hull, hull_dirs) -> Iterator[tuple[str, str]]:
    """runconsole on a free port, on the `hull` fixture's engine; yields (base URL, login URL)."""
    env = dict(os.environ, **{k: v for k, v in hull.env().items() if k.startswith("XDG_")},
               HULL_ROOT=str(hull.root), HULL_RUNROOT=str(hull.runroot))
    env.pop("DJANGO_SETTINGS_MODULE", None)
    proc = subprocess.Popen([sys.executable, "manage.py", "runconsole", "--host", "127.0.0.1", "--port", "0"],
                            cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        match = read_login_url(proc)
        yield match.group(1), match.group(0)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def shots_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = os.environ.get("HULL_TEST_ARTIFACTS")
    path = Path(base) / "console-screenshots" if base else tmp_path_factory.getbasetemp() / "console-screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_console_in_chromium(console_for, hull, registry, busybox_image, tmp_path_factory) -> None:
    base, login_url = console_for
    shots = shots_dir(tmp_path_factory)
    print(f"screenshots: {shots}")
    reference = f"{registry.host}/e2e/busybox:latest"
    push_to_registry(busybox_image, registry, "e2e/busybox:latest")

    with playwright_api.sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.on("dialog", lambda dialog: dialog.accept())  # "Remove …?" confirmations
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))

        # Log in with the printed URL: the token becomes a session cookie.
        page.goto(login_url)
        assert page.url == base + "/"
        page.wait_for_selector("#live-status.ok", timeout=15000)
        page.screenshot(path=shots / "01-dashboard-empty.png", full_page=True)

        # Pull from the test registry through the images page.
        page.goto(base + "/images/")
        page.fill("input[name=reference]", reference)
        page.check("input[name=insecure]")
        page.click("form:has(input[name=reference]) button[type=submit]")
        # pull.js sends it over /ws/pull: one progress bar per layer, then the page reloads.
        page.wait_for_selector(".pull-title[data-pulled]", timeout=120000)
        assert page.locator("li.pull-layer").count() >= 1
        page.wait_for_load_state()
        deadline = time.monotonic() + 60
        while "e2e/busybox" not in page.content():
            if time.monotonic() > deadline:
                page.screenshot(path=shots / "pull-failed.png", full_page=True)
                raise AssertionError("the pulled image never showed up on /images/: "
                                     + page.locator("main").inner_text()[:2000])
            page.wait_for_timeout(500)
            page.goto(base + "/images/")
        page.screenshot(path=shots / "02-images.png", full_page=True)

        # Run a container from the create form; it prints markup that must stay text.
        page.goto(base + "/containers/new")
        page.fill("input[name=image]", reference)
        page.fill("input[name=name]", "e2e")
        page.fill("input[name=command]", "sh -c 'echo \"<script>window.pwned=1</script>\"; echo started; exec sleep 3600'")
        page.click("button[name=submit][value=run]")
        page.wait_for_url(re.compile(r"/containers/[0-9a-f]{64}/"), timeout=60000)
        cid = page.url.rstrip("/").split("/")[-1]

        # Logs: the backlog, then a line written now must show up within a second.
        page.goto(f"{base}/containers/{cid}/?tab=logs")
        page.wait_for_selector(".log-line .log-msg >> text=started", timeout=15000)
        assert page.locator(".log-msg", has_text="<script>window.pwned=1</script>").count() == 1
        assert page.evaluate("window.pwned") is None
        hull("exec", cid, "sh", "-c", "echo fresh-line-4711 > /proc/1/fd/1").ok()
        page.wait_for_selector(".log-msg >> text=fresh-line-4711", timeout=1000)
        page.fill(".log-search", "fresh")
        page.wait_for_selector(".log-msg mark >> text=fresh", timeout=5000)
        page.screenshot(path=shots / "03-container-logs.png", full_page=True)

        # Terminal: a shell in the container, typed into xterm.js.
        page.goto(f"{base}/containers/{cid}/?tab=terminal")
        page.wait_for_selector(".term-status >> text=connected", timeout=20000)
        page.click(".term-screen")
        page.keyboard.type("echo hi-$((6*7))\n")
        page.locator(".xterm-rows", has_text="hi-42").wait_for(timeout=15000)  # the shell's answer, not the echo
        page.screenshot(path=shots / "04-container-terminal.png", full_page=True)

        # Stats: live numbers and graphs.
        page.goto(f"{base}/containers/{cid}/?tab=stats")
        page.wait_for_selector(".chart canvas", timeout=15000)
        page.locator(".chart-legend").nth(5).wait_for(timeout=15000)  # cpu, mem, net in/out, read/write
        page.screenshot(path=shots / "05-container-stats.png", full_page=True)

        page.goto(base + "/containers/")
        page.wait_for_selector(f"tr[data-container-id='{cid}']")
        page.screenshot(path=shots / "06-containers.png", full_page=True)
        page.goto(base + "/")
        page.screenshot(path=shots / "07-dashboard.png", full_page=True)

        # The image browser: find busybox's binary in its layer.
        image_id = hull("images", "-q", "--no-trunc", reference).ok().stdout.split()[0].split(":")[-1]
        page.goto(f"{base}/images/{image_id}/browse/")
        page.click("[data-layer='0']")
        page.fill("input[name=q]", "busybox")
        page.locator("input[name=q]").press("Enter")
        row = page.locator("tr[data-path='/bin/busybox']")
        row.wait_for(timeout=15000)
        assert row.get_attribute("data-status") == "added"
        assert "Efficiency" in page.content()
        page.screenshot(path=shots / "08-image-browser.png", full_page=True)

        page.goto(base + "/events/")
        page.screenshot(path=shots / "09-events.png", full_page=True)

        # Remove the container from its page; the containers list no longer has it.
        page.goto(f"{base}/containers/{cid}/")
        page.click("details.menu summary")  # "More": rename, commit, remove
        page.click("button.danger:has-text('Remove')")
        page.wait_for_url(re.compile(r"/containers/(\?.*)?$"), timeout=60000)
        assert page.locator(f"tr[data-container-id='{cid}']").count() == 0
        assert cid not in hull("ps", "-a", "-q", "--no-trunc").ok().stdout

        assert not errors, errors
        browser.close()


class _OtherOrigin(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = b"<!doctype html><title>another local server</title>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def socket_result(page, url: str) -> str:
    return page.evaluate("""(url) => new Promise((done) => {
        const ws = new WebSocket(url);
        ws.onopen = () => { done("open"); ws.close(); };
        ws.onerror = () => done("refused");
        setTimeout(() => done("timeout"), 10000);
    })""", url)


def test_websockets_refuse_other_origins_and_strangers(console_for) -> None:
    base, login_url = console_for
    ws_base = base.replace("http://", "ws://")
    other = ThreadingHTTPServer(("127.0.0.1", 0), _OtherOrigin)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        with playwright_api.sync_playwright() as p:
            browser = launch(p)
            owner = browser.new_context()
            page = owner.new_page()
            page.goto(login_url)
            assert socket_result(page, f"{ws_base}/ws/events") == "open"
            # Another local origin (same site: the browser sends the owner's cookie along).
            page.goto(f"http://127.0.0.1:{other.server_address[1]}/")
            for path in ("/ws/events", "/ws/logs?container=x", "/ws/stats", "/ws/terminal?container=x"):
                assert socket_result(page, ws_base + path) == "refused", path
            # A browser that never logged in, on the console's own origin.
            stranger = browser.new_context().new_page()
            stranger.goto(base + "/")
            assert socket_result(stranger, f"{ws_base}/ws/events") == "refused"
            browser.close()
    finally:
        other.shutdown()
