"""Browser-test plumbing: headless Chromium beside the live server (``browser_page``), ORM calls
from a test that runs Playwright (``in_db``), and a screenshot of the page a test failed on."""

import os
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections
from playwright import sync_api

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "Tide-Pool-Lantern-42"


@pytest.fixture
def http_settings(settings):
    # The live server speaks plain http; secure-only cookies would never be sent back.
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    return settings


@pytest.fixture
def browser_page(live_server, http_settings, output_dir, request):
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing (apt-get install -y chromium; scripts/ensure-services.sh does it)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        shots = Screenshots(page, output_dir)
        page.shots = shots
        # A Content-Security-Policy violation breaks a script or a style silently: the browser
        # only says so on the console. Every browser test fails on one (tests/security/test_csp.py).
        page.csp_violations = []
        page.on(
            "console",
            lambda message: (
                "Content Security Policy" in message.text and page.csp_violations.append(f"{page.url}: {message.text}")
            ),
        )
        try:
            yield page
        finally:
            if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
                shots.take("FAILED")
            context.close()
            browser.close()
        assert not page.csp_violations, "\n".join(page.csp_violations)


def in_db(fn):
    """Run an ORM call in its own short-lived thread. Called straight from the test while
    Playwright's event loop runs, Django would open a connection in that loop's context and
    never close it (the test database then cannot be dropped)."""

    def run():
        try:
            return fn()
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


class Screenshots:
    def __init__(self, page, folder):
        self.page, self.folder, self.n = page, folder, 0

    def take(self, step: str) -> None:
        self.n += 1
        self.page.screenshot(path=str(self.folder / f"{self.n:02d}-{step}.png"), full_page=True)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(autouse=True)
def _sync_playwright_beside_django(monkeypatch):
    """Playwright's sync API runs an event loop in this thread; Django would then refuse ORM
    calls from the test body. Allowed for browser tests only, never process-wide."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
