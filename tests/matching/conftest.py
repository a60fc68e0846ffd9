"""Every matching test starts from empty per-process caches (tests/conftest.py: fresh_matching_state)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_matching_state_for_every_test(fresh_matching_state):
    """The shared fixture, applied to the whole folder."""
