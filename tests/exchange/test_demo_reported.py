"""The demo campaigns carry partner-reported orders and new members on every leg, in every
state, counted in the rollups exactly as the rows say — loaded once."""

from __future__ import annotations

import pytest
from django.db.models import Q, Sum

from exchange.demo import demo_swaps_load
from exchange.demo_campaigns import demo_campaigns_load
from exchange.demo_reported import demo_reported_load
from exchange.models import Campaign, Coupon, LegDayMetrics, ReportedEvent, ReportedKind, ReportedState
from exchange.states import CampaignState
from partners.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_reports_orders_and_members_on_every_leg_once(django_capture_on_commit_callbacks):
    demo_load(generated=0)
    with django_capture_on_commit_callbacks(execute=True):
        demo_swaps_load()
        demo_campaigns_load()
        loaded = demo_reported_load()
    assert loaded.orders > 0 and loaded.members > 0 and loaded.reversed > 0 and loaded.confirmed > 0
    assert ReportedEvent.objects.count() == loaded.orders + loaded.members
    for campaign in Campaign.objects.filter(state__in=(CampaignState.LIVE, CampaignState.COMPLETED)):
        for leg in campaign.legs.all():
            kinds = set(ReportedEvent.objects.filter(leg=leg).values_list("kind", flat=True))
            assert kinds == {ReportedKind.CONVERSION, ReportedKind.NEW_MEMBER}, leg
    completed = Campaign.objects.get(state=CampaignState.COMPLETED)
    assert not ReportedEvent.objects.filter(campaign=completed, state=ReportedState.PENDING).exists()
    live = Campaign.objects.get(state=CampaignState.LIVE)
    assert ReportedEvent.objects.filter(campaign=live, state=ReportedState.PENDING).exists()
    assert Coupon.objects.filter(leg__campaign=live, redeemed_at__isnull=False).exists()
    counted = ReportedEvent.objects.exclude(state=ReportedState.REVERSED)
    totals = LegDayMetrics.objects.aggregate(c=Sum("conversions"), m=Sum("new_members"), g=Sum("gmv_cents"))
    assert totals == {
        "c": counted.filter(kind=ReportedKind.CONVERSION).count(),
        "m": counted.filter(kind=ReportedKind.NEW_MEMBER).count(),
        "g": counted.filter(Q(kind=ReportedKind.CONVERSION)).aggregate(g=Sum("amount_cents"))["g"],
    }
    assert demo_reported_load().orders == 0
    assert ReportedEvent.objects.count() == loaded.orders + loaded.members
