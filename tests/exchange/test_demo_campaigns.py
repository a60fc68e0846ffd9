"""The demo market ships a live and a completed campaign with a believable click history, once."""

from __future__ import annotations

import pytest
from django.db.models import Count
from django.utils import timezone

from exchange.demo import demo_swaps_load
from exchange.demo_campaigns import demo_campaigns_load
from exchange.models import Campaign, ClickEvent
from exchange.states import CampaignState
from partners.demo import demo_load

pytestmark = pytest.mark.django_db


def test_demo_has_a_live_and_two_completed_campaigns_with_clicks_and_loads_once(django_capture_on_commit_callbacks):
    demo_load(generated=0)
    with django_capture_on_commit_callbacks(execute=True):
        demo_swaps_load()
        loaded = demo_campaigns_load()
    assert loaded.campaigns == 3
    states = {c.state for c in Campaign.objects.exclude(state=CampaignState.SCHEDULED)}
    assert states == {CampaignState.LIVE, CampaignState.COMPLETED}
    per_leg = dict(ClickEvent.objects.values_list("leg_id").annotate(n=Count("id")))
    for campaign in Campaign.objects.exclude(state=CampaignState.SCHEDULED):
        for leg in campaign.legs.all():
            assert per_leg.get(leg.pk, 0) > 50, "every leg of a running or finished demo swap has clicks"
    assert ClickEvent.objects.count() == loaded.clicks
    filtered = ClickEvent.objects.filter(is_bot=True).count()
    assert 0 < filtered < 0.1 * loaded.clicks, "a few unfurlers and crawlers, flagged"
    live = Campaign.objects.get(state=CampaignState.LIVE)
    assert not ClickEvent.objects.filter(leg__campaign=live, occurred_at__gt=timezone.now()).exists()
    completed = Campaign.objects.get(state=CampaignState.COMPLETED, brand_a__slug="luckin-coffee")
    assert ClickEvent.objects.filter(leg__campaign=completed, outside_window=True).exists(), "late clicks flagged"
    # Delivery reports: the finished swap's all confirmed (its rollups carry them), the live
    # one's awaiting an answer and disputed.
    from exchange.models import DeliveryReport, LegDayMetrics
    from exchange.states import DeliveryState

    done = DeliveryReport.objects.filter(campaign=completed)
    assert done.count() == completed.legs.values("placements").count()
    assert set(done.values_list("state", flat=True)) == {DeliveryState.CONFIRMED}
    assert sum(LegDayMetrics.objects.filter(leg__campaign=completed).values_list("delivered_reach", flat=True)) == sum(
        done.values_list("reach", flat=True)
    )
    assert set(DeliveryReport.objects.filter(campaign=live).values_list("state", flat=True)) == {
        DeliveryState.REPORTED,
        DeliveryState.DISPUTED,
    }
    # Orders and new members reported back per leg: some confirmed after screening, some still
    # pending, a few reversed; coupons redeemed; the rollups agree with the rows and the clicks.
    from django.core.management import call_command
    from django.db.models import Sum

    from exchange.models import Coupon, ReportedEvent, ReportedKind, ReportedState

    for campaign in (completed, live):
        for leg in campaign.legs.all():
            kinds = set(ReportedEvent.objects.filter(leg=leg).values_list("kind", flat=True))
            assert kinds == {ReportedKind.CONVERSION, ReportedKind.NEW_MEMBER}, leg
    states = set(ReportedEvent.objects.values_list("state", flat=True))
    assert states == {ReportedState.PENDING, ReportedState.CONFIRMED, ReportedState.REVERSED}
    assert not ReportedEvent.objects.filter(
        leg__campaign=live, state=ReportedState.CONFIRMED, created_at__gt=timezone.now() - timezone.timedelta(days=7)
    ).exists()
    assert Coupon.objects.filter(redeemed_at__isnull=False).exists()
    counted = ReportedEvent.objects.exclude(state=ReportedState.REVERSED)
    totals = LegDayMetrics.objects.aggregate(c=Sum("conversions"), m=Sum("new_members"), g=Sum("gmv_cents"))
    reversed_orders = ReportedEvent.objects.filter(kind=ReportedKind.CONVERSION, state=ReportedState.REVERSED).count()
    assert reversed_orders > 0
    assert totals["c"] == counted.filter(kind=ReportedKind.CONVERSION).count() == loaded.conversions - reversed_orders
    assert totals["m"] == counted.filter(kind=ReportedKind.NEW_MEMBER).count()
    assert totals["g"] == counted.filter(kind=ReportedKind.CONVERSION).aggregate(s=Sum("amount_cents"))["s"]
    call_command("check_rollups")  # exits non-zero on any difference between clicks and rollups
    from exchange.models import Settlement, SettlementState

    settled = Settlement.objects.get(campaign=completed)  # the parcels fell short: a real gap
    assert settled.state == SettlementState.CREDITED and settled.payer.slug == "three-squirrels"
    assert settled.gap_value_cents * 100 > settled.tolerance_percent * settled.payee_delivered_cents
    # The second finished swap: its result disputed, answered and decided with an adjustment;
    # three squirrels is the heavier side this time, so the credit its first swap left it
    # owing is paid down; Keep, the lighter side, has a settlement still to choose.
    from exchange.ledger.posting import account
    from exchange.models import AccountKind, Dispute, DisputeState, LedgerTransaction

    second = Campaign.objects.get(state=CampaignState.COMPLETED, brand_a__slug="three-squirrels")
    (decided,) = Dispute.objects.filter(campaign=second)
    assert decided.state == DisputeState.RESOLVED and decided.outcome == "upheld" and decided.answer
    assert decided.adjustment["reports"], "the decision adjusted a delivery"
    owed = Settlement.objects.get(campaign=second)
    assert owed.state == SettlementState.OPEN and owed.payer.slug == "keep" and owed.choose_by > timezone.now()
    squirrels = account(brand=settled.payer, kind=AccountKind.TRAFFIC_CREDIT).balance_cents
    assert 0 < squirrels == settled.gap_value_cents - owed.gap_value_cents, "paid down by the later swap"
    # Postings carry the demo's own moments (deliveries and decisions days ago), not load time.
    assert not LedgerTransaction.objects.filter(created_at__gt=timezone.now() - timezone.timedelta(hours=12)).exists()
    call_command("check_ledger")
    assert demo_campaigns_load().campaigns == 0
    assert ClickEvent.objects.count() == loaded.clicks
