"""Campaign reads: who sees which campaign, and the metrics read from the rollups — a dense daily
series per leg, totals against what was promised, and the reciprocity between the two brands."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchange import selectors
from exchange.services.campaigns import campaigns_advance
from exchange.services.rollups import rollup_add, visitors_add
from partners.actors import Actor
from partners.models import Role
from tests.factories import AdminFactory, BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def legs(campaign, coffee):
    """(Bean House promotes Tiny Toys, Tiny Toys promotes Bean House)."""
    a, b = sorted(campaign.legs.all(), key=lambda leg: leg.promoter_id != coffee.pk)
    return a, b


def _metrics(actor, campaign, today):
    return selectors.campaign_metrics(campaign=selectors.campaign_get(actor=actor, pk=campaign.pk), today=today)


def test_series_has_every_day_from_the_start_to_today_with_zeros_for_days_without_a_row(
    campaign, legs, coffee_actor, window
):
    start = window[0]
    rollup_add({(legs[0].pk, start + timedelta(days=1)): {"clicks": 5, "unique_visitors": 3}})
    m = _metrics(coffee_actor, campaign, today=start + timedelta(days=3))
    assert m.days == [start + timedelta(days=i) for i in range(4)]
    a = m.legs[0]
    assert a.leg.pk == legs[0].pk
    assert [d.day for d in a.series] == m.days
    assert [d.clicks for d in a.series] == [0, 5, 0, 0]
    assert [d.unique_visitors for d in a.series] == [0, 3, 0, 0]
    assert [d.clicks for d in m.legs[1].series] == [0, 0, 0, 0]


def test_series_is_empty_before_the_start_and_stops_at_the_last_day(campaign, coffee_actor, window):
    start = window[0]
    assert _metrics(coffee_actor, campaign, today=start - timedelta(days=1)).days == []
    late = _metrics(coffee_actor, campaign, today=start + timedelta(days=30))
    # The latest window (Tiny Toys' WeCom message) ends on day 8 after the start.
    assert late.days[0] == start and late.days[-1] == start + timedelta(days=8)
    assert len(late.legs[0].series) == 9


def test_totals_sum_the_rows_count_a_visitor_once_and_compare_with_what_was_promised(
    campaign, legs, coffee_actor, window
):
    start = window[0]
    a = legs[0]
    rollup_add(
        {
            (a.pk, start): {"clicks": 4, "filtered_clicks": 2, "new_members": 3, "conversions": 1, "gmv_cents": 9_900},
            (a.pk, start + timedelta(days=1)): {
                "clicks": 6,
                "new_members": 4,
                "delivered_reach": 12_000,
                "delivered_value_cents": 30_000,
            },
        }
    )
    visitors_add([(a.pk, start, "v1"), (a.pk, start, "v2"), (a.pk, start + timedelta(days=1), "v1")])
    totals = _metrics(coffee_actor, campaign, today=start + timedelta(days=2)).legs[0].totals
    assert (totals.clicks, totals.filtered_clicks, totals.new_members, totals.conversions) == (10, 2, 7, 1)
    assert totals.gmv_cents == 9_900
    assert totals.unique_visitors == 2  # v1 on two days is one visitor
    # Bean House promised a 20,000 WeCom message and a 5,000 group broadcast.
    placements = [cp.placement for cp in a.placements.all()]
    assert totals.promised_reach == 25_000
    assert totals.promised_value_cents == sum(p.value_cents for p in placements) > 0
    assert (totals.delivered_reach, totals.delivered_value_cents) == (12_000, 30_000)
    assert totals.reach_share == pytest.approx(0.48)
    # 30,000 cents delivered to Tiny Toys for 7 new members: 4,285.7 → 4,286 cents each.
    assert totals.cost_per_new_member_cents == 4_286


def test_cost_per_new_member_is_none_before_the_first_new_member(campaign, coffee_actor, window):
    totals = _metrics(coffee_actor, campaign, today=window[0]).legs[1].totals
    assert totals.new_members == 0 and totals.cost_per_new_member_cents is None


def test_reciprocity_is_the_value_each_brand_delivered_to_the_other(campaign, legs, coffee_actor, toys, window):
    start = window[0]
    rollup_add(
        {
            (legs[0].pk, start): {"delivered_value_cents": 30_000},
            (legs[1].pk, start + timedelta(days=1)): {"delivered_value_cents": 20_000},
        }
    )
    r = _metrics(coffee_actor, campaign, today=start + timedelta(days=1)).reciprocity
    assert (r.a_to_b_cents, r.b_to_a_cents, r.gap_cents) == (30_000, 20_000, 10_000)
    assert r.gap_percent == 33.3  # of the larger side
    assert r.lighter_id == toys.pk and r.balanced is False


def test_reciprocity_is_balanced_and_has_no_lighter_side_when_even(campaign, legs, coffee_actor, window):
    start = window[0]
    rollup_add({(leg.pk, start): {"delivered_value_cents": 5_000} for leg in legs})
    r = _metrics(coffee_actor, campaign, today=start).reciprocity
    assert r.gap_cents == 0 and r.gap_percent == 0 and r.lighter_id is None and r.balanced


def test_metrics_of_a_listed_campaign_cost_no_further_query(campaign, legs, coffee_actor, window):
    rollup_add({(legs[0].pk, window[0]): {"clicks": 1}})
    (listed,) = selectors.campaign_list(actor=coffee_actor)
    selectors.tolerance_percent()  # the settlement tolerance: read once, then cached
    with CaptureQueriesContext(connection) as ctx:
        selectors.campaign_metrics(campaign=listed, today=window[1])
    assert ctx.captured_queries == []


def test_unknown_granularity_is_refused(campaign, coffee_actor):
    with pytest.raises(ValueError, match="granularity"):
        selectors.campaign_metrics(campaign=campaign, granularity="week")


def test_a_campaign_is_seen_by_both_parties_and_staff_only(campaign, coffee_actor, toys_actor):
    outsider = BrandFactory(slug="outsider")
    outsider_owner = MembershipFactory(brand=outsider, role=Role.OWNER, user=UserFactory()).user
    admin = Actor(user=AdminFactory())
    for actor in (coffee_actor, toys_actor, admin):
        assert list(selectors.campaign_list(actor=actor)) == [campaign]
        assert selectors.campaign_get(actor=actor, pk=campaign.pk) == campaign
    for actor in (Actor(user=outsider_owner), Actor()):
        assert list(selectors.campaign_list(actor=actor)) == []
        assert selectors.campaign_get(actor=actor, pk=campaign.pk) is None


def test_campaign_list_filters_by_state_and_brand(campaign, coffee, coffee_actor, window):
    assert list(selectors.campaign_list(actor=coffee_actor, state="scheduled")) == [campaign]
    assert list(selectors.campaign_list(actor=coffee_actor, state="live")) == []
    campaigns_advance(now=campaign.starts_at)
    assert list(selectors.campaign_list(actor=coffee_actor, state="live")) == [campaign]
    assert list(selectors.campaign_list(actor=coffee_actor, brand=coffee)) == [campaign]
    assert list(selectors.campaign_list(actor=coffee_actor, brand=BrandFactory())) == []
