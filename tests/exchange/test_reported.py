"""Partner-reported orders and new members: attribution, per-row rejections, idempotency,
rollups, reversal during screening and confirmation after it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange.errors import ExchangeError as E
from exchange.models import (
    Coupon,
    DomainEvent,
    EventType,
    LegDayMetrics,
    ReportedEvent,
    ReportedState,
)
from exchange.services import (
    conversions_report,
    coupon_batch_generate,
    new_members_report,
    reported_event_reverse,
    reported_events_confirm,
)
from exchange.services.rollups import day_of
from partners.actors import Actor
from partners.models import AuditAction, AuditEvent
from tests.factories import MembershipFactory, UserFactory
from tests.fixtures_reported import click_on, member, order, placement_of

pytestmark = pytest.mark.django_db


def _metrics(leg):
    rows = LegDayMetrics.objects.filter(leg=leg)
    return (
        sum(r.conversions for r in rows),
        sum(r.gmv_cents for r in rows),
        sum(r.new_members for r in rows),
    )


def _codes(result):
    return {r.external_id or r.index: r.code for r in result.rejected}


def test_orders_by_click_coupon_and_code_are_credited_to_the_leg(toys_leg, toys, toys_actor):
    click = click_on(toys_leg)
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=3)
    coupon = Coupon.objects.first()
    result = conversions_report(
        actor=toys_actor,
        brand=toys,
        rows=[
            order("A-1", amount=10_000, click_id=click.click_id.hex),
            order("A-2", amount=2_500, coupon_code=coupon.code.lower()),
            order("A-3", amount=500, tracking_code=cp.link.code),
        ],
    )
    assert result.rejected == []
    assert [(a.index, a.external_id, a.duplicate) for a in result.accepted] == [
        (0, "A-1", False),
        (1, "A-2", False),
        (2, "A-3", False),
    ]
    assert {e.leg_id for e in ReportedEvent.objects.all()} == {toys_leg.pk}
    for accepted in result.accepted:  # what the caller gets back is what was stored
        stored = ReportedEvent.objects.get(pk=accepted.event.pk)
        fields = ("external_id", "amount_cents", "currency", "occurred_at", "attribution", "leg_id", "link_id", "state")
        assert [getattr(accepted.event, f) for f in fields] == [getattr(stored, f) for f in fields]
        assert accepted.event.leg.promoter_id == stored.leg.promoter_id and accepted.event.brand == toys
    assert all(a.event.state == ReportedState.PENDING for a in result.accepted)
    assert _metrics(toys_leg) == (3, 13_000, 0)
    coupon.refresh_from_db()
    assert coupon.redeemed_at is not None and coupon.redeemed_by.external_id == "A-2"


def test_new_members_count_on_the_day_they_joined_in_shanghai(toys_leg, toys, toys_actor):
    click = click_on(toys_leg, at=timezone.now() - timedelta(days=2))
    joined = timezone.now() - timedelta(days=1)
    result = new_members_report(
        actor=toys_actor, brand=toys, rows=[member("m-hash-1", at=joined, click_id=str(click.click_id))]
    )
    assert result.new == 1
    row = LegDayMetrics.objects.get(leg=toys_leg)
    assert (row.day, row.new_members, row.conversions) == (day_of(joined), 1, 0)


def test_retried_batch_is_accepted_as_duplicates_and_counted_once(toys_leg, toys, toys_actor):
    cp = placement_of(toys_leg)
    rows = [order(f"R-{i}", amount=100 * i, tracking_code=cp.link.code) for i in range(1, 6)]
    first = conversions_report(actor=toys_actor, brand=toys, rows=rows)
    again = conversions_report(actor=toys_actor, brand=toys, rows=rows)
    assert first.new == 5 and again.new == 0
    assert [a.duplicate for a in again.accepted] == [True] * 5
    assert [a.event.pk for a in again.accepted] == [a.event.pk for a in first.accepted]
    assert ReportedEvent.objects.count() == 5
    assert _metrics(toys_leg) == (5, 1_500, 0)


def test_same_id_with_another_payload_is_a_conflict_and_not_overwritten(toys_leg, toys, toys_actor):
    cp = placement_of(toys_leg)
    at = timezone.now() - timedelta(hours=2)
    conversions_report(actor=toys_actor, brand=toys, rows=[order("C-1", amount=900, at=at, tracking_code=cp.link.code)])
    result = conversions_report(
        actor=toys_actor, brand=toys, rows=[order("C-1", amount=901, at=at, tracking_code=cp.link.code)]
    )
    assert _codes(result) == {"C-1": E.CONFLICT}
    assert ReportedEvent.objects.get().amount_cents == 900
    assert _metrics(toys_leg) == (1, 900, 0)


def test_a_second_order_naming_a_redeemed_coupon_is_rejected(toys_leg, toys, toys_actor):
    coupon_batch_generate(actor=toys_actor, placement=placement_of(toys_leg), size=1)
    code = Coupon.objects.get().code
    conversions_report(actor=toys_actor, brand=toys, rows=[order("K-1", coupon_code=code)])
    later = conversions_report(actor=toys_actor, brand=toys, rows=[order("K-2", coupon_code=code)])
    inside = conversions_report(
        actor=toys_actor,
        brand=toys,
        rows=[order("K-3", coupon_code=code), order("K-4", coupon_code=code)],
    )
    assert _codes(later) == {"K-2": E.COUPON_REDEEMED}
    assert _codes(inside) == {"K-3": E.COUPON_REDEEMED, "K-4": E.COUPON_REDEEMED}
    assert ReportedEvent.objects.count() == 1


def test_each_bad_row_gets_its_own_code_and_good_rows_are_kept(toys_leg, coffee_leg, toys, toys_actor, settings):
    cp = placement_of(toys_leg)
    good = cp.link.code
    old_click = click_on(toys_leg, at=timezone.now() - timedelta(days=20))
    rows = [
        order("ok-1", tracking_code=good),
        order("", tracking_code=good),
        order("nul\x00id", tracking_code=good),
        order("amount", amount=-1, tracking_code=good),
        order("fraction", amount=1.5, tracking_code=good),
        order("currency", currency="RMB!", tracking_code=good),
        {**order("time", tracking_code=good), "occurred_at": "yesterday"},
        {**order("naive", tracking_code=good), "occurred_at": "2026-12-01T10:00:00"},
        order("future", at=timezone.now() + timedelta(hours=2), tracking_code=good),
        order("none"),
        order("two", tracking_code=good, coupon_code="ABCDEFGHJK"),
        order("click", click_id="0" * 32),
        order("badclick", click_id="not-a-uuid"),
        order("coupon", coupon_code="ZZZZZZZZZZ"),
        order("nul", coupon_code="AB\x00CD"),
        order("code", tracking_code="NoSuchCode1"),
        order("theirs", tracking_code=placement_of(coffee_leg).link.code),
        order("window", click_id=old_click.click_id.hex),
        order("early", at=timezone.now() - timedelta(days=30), tracking_code=good),
        order("ok-1", tracking_code=good),
        order("ok-2", amount=0, currency="usd", tracking_code=good),
    ]
    result = conversions_report(actor=toys_actor, brand=toys, rows=rows)
    assert [a.external_id for a in result.accepted] == ["ok-1", "ok-2"]
    assert [(r.index, r.code) for r in result.rejected] == [
        (1, E.INVALID_EXTERNAL_ID),
        (2, E.INVALID_EXTERNAL_ID),
        (3, E.INVALID_AMOUNT),
        (4, E.INVALID_AMOUNT),
        (5, E.INVALID_CURRENCY),
        (6, E.INVALID_TIME),
        (7, E.INVALID_TIME),
        (8, E.INVALID_TIME),
        (9, E.ATTRIBUTION_REQUIRED),
        (10, E.ATTRIBUTION_AMBIGUOUS),
        (11, E.UNKNOWN_CLICK),
        (12, E.UNKNOWN_CLICK),
        (13, E.UNKNOWN_COUPON),
        (14, E.UNKNOWN_COUPON),
        (15, E.UNKNOWN_CODE),
        (16, E.NOT_YOUR_CAMPAIGN),
        (17, E.OUTSIDE_ATTRIBUTION_WINDOW),
        (18, E.OUTSIDE_ATTRIBUTION_WINDOW),
        (19, E.DUPLICATE_IN_BATCH),
    ]
    assert all(r.message for r in result.rejected)
    ok2 = ReportedEvent.objects.get(external_id="ok-2")
    assert ok2.currency == "USD"
    assert _metrics(toys_leg) == (2, 12_900, 0)  # the USD order counts, but not in (CNY) GMV


def test_attribution_days_follow_the_setting(toys_leg, toys, toys_actor, settings):
    click = click_on(toys_leg, at=timezone.now() - timedelta(days=3))
    settings.EXCHANGE_ATTRIBUTION_DAYS = 2
    result = conversions_report(actor=toys_actor, brand=toys, rows=[order("late", click_id=click.click_id.hex)])
    assert _codes(result) == {"late": E.OUTSIDE_ATTRIBUTION_WINDOW}


def test_too_many_rows_refuse_the_batch_and_store_nothing(toys_leg, toys, toys_actor):
    code = placement_of(toys_leg).link.code
    with pytest.raises(ValidationError) as exc:
        conversions_report(actor=toys_actor, brand=toys, rows=[order(f"x{i}", tracking_code=code) for i in range(501)])
    assert exc.value.error_dict["rows"][0].code == E.BATCH_TOO_LARGE
    assert not ReportedEvent.objects.exists() and not LegDayMetrics.objects.exists()


def test_only_the_brands_editors_may_report_for_it(toys_leg, toys, coffee_actor, admin_actor):
    viewer = MembershipFactory(brand=toys, role="viewer", user=UserFactory()).user
    code = placement_of(toys_leg).link.code
    for actor in (coffee_actor, admin_actor, Actor(user=viewer)):
        with pytest.raises(ValidationError) as exc:
            conversions_report(actor=actor, brand=toys, rows=[order("p", tracking_code=code)])
        assert exc.value.error_dict["brand"][0].code == E.PERMISSION_DENIED
    assert not ReportedEvent.objects.exists()


def test_same_external_id_is_independent_per_kind(toys_leg, toys, toys_actor):
    code = placement_of(toys_leg).link.code
    conversions_report(actor=toys_actor, brand=toys, rows=[order("same", tracking_code=code)])
    assert new_members_report(actor=toys_actor, brand=toys, rows=[member("same", tracking_code=code)]).new == 1


def test_a_500_row_batch_costs_a_constant_handful_of_queries(toys_leg, toys, toys_actor):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=100)
    coupons = list(Coupon.objects.values_list("code", flat=True))
    clicks = [click_on(toys_leg) for _ in range(100)]
    rows = (
        [order(f"c{i}", coupon_code=c) for i, c in enumerate(coupons)]
        + [order(f"k{i}", click_id=c.click_id.hex) for i, c in enumerate(clicks)]
        + [order(f"t{i}", tracking_code=cp.link.code) for i in range(300)]
    )
    with CaptureQueriesContext(connection) as small:
        conversions_report(actor=toys_actor, brand=toys, rows=rows[:3] + rows[100:103] + rows[200:203])
    with CaptureQueriesContext(connection) as big:
        result = conversions_report(actor=toys_actor, brand=toys, rows=rows[3:100] + rows[103:200] + rows[203:])
    assert result.new == 491
    assert len(big) == len(small) <= 16


def test_reversal_by_the_reporter_takes_the_counts_back(toys_leg, toys, toys_actor):
    code = placement_of(toys_leg).link.code
    result = conversions_report(actor=toys_actor, brand=toys, rows=[order("rv", amount=5_000, tracking_code=code)])
    event = reported_event_reverse(actor=toys_actor, event=result.accepted[0].event, reason="refund")
    assert (event.state, event.reversed_reason) == (ReportedState.REVERSED, "refund")
    assert _metrics(toys_leg) == (0, 0, 0)
    assert AuditEvent.objects.filter(action=AuditAction.EVENT_REVERSED).count() == 1
    assert DomainEvent.objects.filter(type=EventType.CONVERSION_REVERSED).count() == 1
    with pytest.raises(ValidationError) as exc:
        reported_event_reverse(actor=toys_actor, event=event, reason="refund")
    assert exc.value.error_dict["event"][0].code == E.NOT_PENDING


def test_member_reversal_writes_its_own_outbox_event(toys_leg, toys, toys_actor):
    code = placement_of(toys_leg).link.code
    result = new_members_report(actor=toys_actor, brand=toys, rows=[member("gone", tracking_code=code)])
    reported_event_reverse(actor=toys_actor, event=result.accepted[0].event, reason="member_left")
    assert DomainEvent.objects.filter(type=EventType.MEMBER_REVERSED).count() == 1
    assert _metrics(toys_leg) == (0, 0, 0)


def test_reversal_is_refused_to_others_bad_reasons_and_after_screening(toys_leg, toys, toys_actor, coffee_actor):
    code = placement_of(toys_leg).link.code
    event = conversions_report(actor=toys_actor, brand=toys, rows=[order("x", tracking_code=code)]).accepted[0].event
    cases = [
        (coffee_actor, "refund", E.PERMISSION_DENIED),
        (toys_actor, "because", E.INVALID),
    ]
    for actor, reason, code_ in cases:
        with pytest.raises(ValidationError) as exc:
            reported_event_reverse(actor=actor, event=event, reason=reason)
        assert code_ in {e.code for errs in exc.value.error_dict.values() for e in errs}
    ReportedEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(days=8))
    with pytest.raises(ValidationError) as exc:
        reported_event_reverse(actor=toys_actor, event=event, reason="refund")
    assert exc.value.error_dict["event"][0].code == E.SCREENING_OVER
    event.refresh_from_db()
    assert event.state == ReportedState.PENDING and _metrics(toys_leg) == (1, 12_900, 0)


def test_confirmation_after_screening_writes_one_outbox_event_per_leg_and_kind(toys_leg, toys, toys_actor):
    code = placement_of(toys_leg).link.code
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"o{i}", tracking_code=code) for i in range(4)])
    new_members_report(actor=toys_actor, brand=toys, rows=[member(f"m{i}", tracking_code=code) for i in range(3)])
    fresh = conversions_report(actor=toys_actor, brand=toys, rows=[order("fresh", tracking_code=code)])
    ReportedEvent.objects.exclude(pk=fresh.accepted[0].event.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert reported_events_confirm() == 7
    assert reported_events_confirm() == 0
    states = dict(ReportedEvent.objects.values_list("external_id", "state"))
    assert states.pop("fresh") == ReportedState.PENDING and set(states.values()) == {ReportedState.CONFIRMED}
    confirmed = DomainEvent.objects.filter(type=EventType.CONVERSIONS_CONFIRMED).get()
    assert confirmed.payload["count"] == 4
    assert DomainEvent.objects.filter(type=EventType.MEMBERS_CONFIRMED).get().payload["count"] == 3
    assert _metrics(toys_leg) == (5, 5 * 12_900, 3)  # confirmation changes no count
