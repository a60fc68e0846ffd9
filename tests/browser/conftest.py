"""Browser-test plumbing: remember each phase's report so a fixture can tell the test failed
(and save a screenshot of the page it failed on)."""

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)
