"""Browser-test plumbing: remember each phase's report so a fixture can tell the test failed
(and save a screenshot of the page it failed on)."""

import pytest


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
