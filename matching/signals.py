"""Receivers of partners' signals: keep the market cache and the recommendations current.

Connected in ``MatchingConfig.ready()``. Both signals are sent after commit.
"""

from __future__ import annotations

from django.db import transaction

from matching.market import bump_version
from matching.scheduling import schedule_brand_refresh, schedule_full_refresh


def on_brand_changed(sender, brand_id: int, change: str = "", **kwargs) -> None:
    """A brand's profile, channels, blocks or status changed: mark every process's market
    stale and schedule one (debounced) refresh of that brand. A brand that stopped being
    approved is removed from others' lists by that refresh, and hidden at read time at once
    (``selectors.recommendation_list``)."""
    bump_version()
    schedule_brand_refresh(brand_id)


def on_brands_imported(sender, brand_ids: list[int], **kwargs) -> None:
    """A bulk import committed: one full refresh instead of one per brand."""
    bump_version()
    schedule_full_refresh()


def on_brand_deleted(sender, instance, **kwargs) -> None:
    """A brand row was deleted outright (e.g. in the Django admin): no service signal fires,
    so mark the cached markets stale here — now (this process, inside the transaction) and
    again after commit (for every other process, which must not re-read before it)."""
    bump_version()
    transaction.on_commit(bump_version)
