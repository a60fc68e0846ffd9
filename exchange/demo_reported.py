"""The demo campaigns' partner-reported results: orders and new members that each leg's
promoted brand "sent through the API", so the dashboards show conversions, GMV and new
members beside the clicks.

Everything goes through the real services — ``conversions_report`` / ``new_members_report``
(attribution, rollups), ``coupon_batch_generate`` (the live campaign's coupons),
``reported_event_reverse`` (a few refunds and members who left) — then the reports are moved
back to shortly after the orders they describe, and ``reported_events_confirm`` confirms those
past the screening period, as the hourly beat would have. Safe to run again: skipped once any
reported row exists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from exchange import conf
from exchange.demo import _person
from exchange.models import (
    Campaign,
    CampaignPlacement,
    ClickEvent,
    Coupon,
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
from exchange.states import CampaignState
from huiliu import bulk

ORDER_RATE = 0.035  # orders per counted click
MEMBER_RATE = 0.05  # new members (WeCom / group joins) per counted click
REFUNDS = 0.05
MEMBERS_LEFT = 0.04
BATCH = 500


@dataclass
class DemoReported:
    orders: int = 0
    members: int = 0
    reversed: int = 0
    confirmed: int = 0


def _when(rng: random.Random, start: datetime, now: datetime, hours: tuple[float, float]) -> datetime:
    return min(start + timedelta(hours=rng.uniform(*hours)), now - timedelta(minutes=rng.uniform(5, 90)))


def _send(report, actor, brand, rows: list[dict]) -> list[ReportedEvent]:
    events = []
    for start in range(0, len(rows), BATCH):
        result = report(actor=actor, brand=brand, rows=rows[start : start + BATCH])
        events.extend(a.event for a in result.accepted if not a.duplicate)
    return events


def demo_reported_load() -> DemoReported:
    """Orders and new members for every leg of the live and completed demo campaigns (once)."""
    result = DemoReported()
    if ReportedEvent.objects.exists():
        return result
    now = timezone.now()
    campaigns = Campaign.objects.filter(state__in=(CampaignState.LIVE, CampaignState.COMPLETED)).order_by("pk")
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
        for campaign in campaigns:
            rng = random.Random(20261207 + campaign.pk)
            for leg in campaign.legs.select_related("promoted").order_by("pk"):
                actor = _person(leg.promoted.slug)
                orders, members = _rows_for(campaign, leg, actor, rng, now)
                with transaction.atomic():
                    placed = _send(conversions_report, actor, leg.promoted, orders)
                    joined = _send(new_members_report, actor, leg.promoted, members)
                result.orders += len(placed)
                result.members += len(joined)
                result.reversed += _reverse(actor, placed, REFUNDS, "refund", rng)
                result.reversed += _reverse(actor, joined, MEMBERS_LEFT, "member_left", rng)
                _backdate(placed + joined, rng, now)
    result.confirmed = reported_events_confirm(now=now)
    return result


def _rows_for(campaign, leg, actor, rng: random.Random, now: datetime) -> tuple[list[dict], list[dict]]:
    clicks = list(
        ClickEvent.objects.filter(leg=leg, is_bot=False, outside_window=False, occurred_at__lt=now - timedelta(hours=2))
        .order_by("occurred_at", "id")
        .values_list("click_id", "occurred_at")
    )
    rng.shuffle(clicks)
    n_orders, n_members = int(len(clicks) * ORDER_RATE), int(len(clicks) * MEMBER_RATE)
    prefix = f"DEMO{campaign.pk}{leg.pk}"
    orders = [
        {
            "external_id": f"{prefix}-O{i:05d}",
            "amount_cents": rng.choice([3900, 5900, 6800, 8800, 12900, 15900, 19900, 29900]),
            "currency": "CNY",
            "occurred_at": _when(rng, at, now, (0.1, 30)),
            "click_id": click_id.hex,
        }
        for i, (click_id, at) in enumerate(clicks[:n_orders])
    ]
    members = [
        {
            "external_id": f"{prefix}-M{i:05d}",  # a client's member hash, in real life
            "occurred_at": _when(rng, at, now, (0.02, 6)),
            "click_id": click_id.hex,
        }
        for i, (click_id, at) in enumerate(clicks[n_orders : n_orders + n_members])
    ]
    placements = list(
        CampaignPlacement.objects.filter(leg=leg, starts_at__lt=now - timedelta(days=1))
        .select_related("link")
        .order_by("starts_at")
    )
    # Shoppers who typed the link's code or scanned its QR in a store: a few orders by code.
    for i in range(max(3, n_orders // 10) if placements else 0):
        cp = rng.choice(placements)
        start = cp.starts_at
        orders.append(
            {
                "external_id": f"{prefix}-Q{i:05d}",
                "amount_cents": rng.choice([4900, 9900, 16800]),
                "currency": "CNY",
                "occurred_at": _when(rng, start, now, (1, 24 * 8)),
                "tracking_code": cp.link.code,
            }
        )
    # The live campaign's promoted brand handed out coupons; some came back as orders.
    if campaign.state == CampaignState.LIVE:
        for cp in placements:
            batch = coupon_batch_generate(actor=actor, placement=cp, size=600)
            codes = list(Coupon.objects.filter(batch=batch).order_by("id").values_list("code", flat=True))
            for i, code in enumerate(codes[: rng.randint(25, 45)]):
                orders.append(
                    {
                        "external_id": f"{prefix}-C{cp.pk}-{i:04d}",
                        "amount_cents": rng.choice([6900, 9900, 13900]),
                        "currency": "CNY",
                        "occurred_at": _when(rng, cp.starts_at, now, (2, 24 * 5)),
                        "coupon_code": code,
                    }
                )
    for row in orders + members:
        row["occurred_at"] = row["occurred_at"].isoformat()
    return orders, members


def _reverse(actor, events: list[ReportedEvent], share: float, reason: str, rng: random.Random) -> int:
    chosen = [e for e in events if rng.random() < share]
    for event in chosen:
        reported_event_reverse(actor=actor, event=event, reason=reason)
    return len(chosen)


def _backdate(events: list[ReportedEvent], rng: random.Random, now: datetime) -> None:
    """Each report as if sent by the partner's nightly sync after the order (never in the future)."""
    rows = list(ReportedEvent.objects.filter(pk__in=[e.pk for e in events]).order_by("pk"))
    for event in rows:
        event.created_at = min(event.occurred_at + timedelta(hours=rng.uniform(1, 20)), now)
        if event.state == ReportedState.REVERSED:
            later = timedelta(days=rng.uniform(0.5, conf.screening_days() - 1))
            event.reversed_at = min(event.created_at + later, now)
    bulk.update_rows(rows, ["created_at", "reversed_at"])
