"""How the exchange reads on the pages: money, quantities and labels (never raw codes), and
what changed between two revisions."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import translation

from exchange.models import Placement
from frontend.revisions import ADDED, CHANGED, REMOVED, SAME, diff_placements
from frontend.templatetags import exchange_tags as t


def test_money_is_yuan_with_thousands_separators():
    assert t.money(123456789) == "¥1,234,567.89"
    assert t.money(0) == "¥0.00"
    assert t.money(None) == "" and t.money("x") == ""
    assert t.yuan(15050) == "150.50" and t.yuan(12000) == "120"


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [(20000, "cpm", "20,000 reach"), (5000, "message", "5,000 messages"), (12, "store_day", "12 store-days")],
)
def test_quantities_carry_their_unit(value, unit, shown):
    with translation.override("en"):
        assert t.quantity(value, unit) == shown


def test_labels_never_show_codes():
    with translation.override("en"):
        assert t.placement_format("group_broadcast") == "Group broadcast"
        assert t.pricing_unit("cpm") == "per 1,000 reach"
        assert t.proposal_state("countered") == "Countered"
        assert t.decline_reason("poor_fit") == "Audiences do not fit"
        assert t.event_type("proposal.accepted") == "Proposal accepted"
        assert t.channel_name(Placement(channel_type="wecom", channel_label="")) == "WeCom contacts"
        assert t.channel_name(Placement(channel_type="wecom", channel_label="会员企微")) == "会员企微"


def placement(pk, brand=1, channel=10, fmt="direct_message", quantity=1000, start=1, end=7):
    return Placement(
        pk=pk,
        brand_id=brand,
        channel_id=channel,
        channel_type="wecom",
        format=fmt,
        quantity=quantity,
        unit="cpm",
        rate_cents=12000,
        value_cents=quantity * 12,
        starts_on=date(2030, 1, start),
        ends_on=date(2030, 1, end),
    )


def test_diff_pairs_placements_by_channel_and_names_each_change():
    before = [placement(1, quantity=20000), placement(2, channel=11, fmt="group_broadcast"), placement(3, channel=12)]
    after = [
        placement(4, quantity=15000),  # same channel and format: quantity changed
        placement(5, channel=11, fmt="welfare_coupon"),  # same channel, another format
        placement(6, brand=2, channel=20),  # the other side's, new
    ]
    entries = diff_placements(before, after)
    by_pk = {e.placement.pk: e for e in entries}
    assert by_pk[4].status == CHANGED and by_pk[4].quantity_changed and not by_pk[4].format_changed
    assert by_pk[5].status == CHANGED and by_pk[5].format_changed
    assert by_pk[6].status == ADDED
    assert by_pk[3].status == REMOVED
    assert [e.placement.pk for e in entries] == [4, 5, 6, 3]  # this revision's order, then the removed


def test_diff_of_an_unchanged_placement_and_of_the_first_revision():
    (entry,) = diff_placements([placement(1)], [placement(2)])
    assert entry.status == SAME
    assert [e.status for e in diff_placements(None, [placement(1)])] == [SAME]
    (moved,) = diff_placements([placement(1)], [placement(2, start=2, end=8)])
    assert moved.status == CHANGED and moved.window_changed


@pytest.mark.django_db
def test_anonymous_pages_count_nothing(client, django_assert_num_queries):
    from frontend.context_processors import exchange_counts

    class Anonymous:
        is_authenticated = False

    request = type("R", (), {"user": Anonymous()})()
    with django_assert_num_queries(0):
        assert exchange_counts(request) == {}
