"""Shared by the coupon and reported-event tests: a campaign running now, its legs, clicks."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from exchange.models import CampaignPlacement, ClickEvent, Ingest, UaClass, VisitorKind


@pytest.fixture
def running(campaign):
    """The accepted campaign with every placement window moved to [now − 5 days, now + 2 days)."""
    now = timezone.now()
    CampaignPlacement.objects.filter(leg__campaign=campaign).update(
        starts_at=now - timedelta(days=5), ends_at=now + timedelta(days=2)
    )
    return campaign


@pytest.fixture
def toys_leg(running, toys):
    """The leg promoting Tiny Toys (Bean House's placements): Tiny Toys reports its results."""
    return running.legs.get(promoted=toys)


@pytest.fixture
def coffee_leg(running, coffee):
    return running.legs.get(promoted=coffee)


def placement_of(leg):
    return leg.placements.select_related("link").order_by("id").first()


def click_on(leg, *, at=None) -> ClickEvent:
    cp = placement_of(leg)
    return ClickEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=at or timezone.now() - timedelta(hours=1),
        code=cp.link.code,
        link_id=cp.link.pk,
        leg_id=leg.pk,
        click_id=uuid.uuid4(),
        visitor_id="v1",
        visitor_kind=VisitorKind.COOKIE,
        ua_class=UaClass.MOBILE,
        ingest=Ingest.DIRECT,
    )


def order(external_id: str, *, amount=12_900, currency="CNY", at=None, **attribution) -> dict:
    return {
        "external_id": external_id,
        "amount_cents": amount,
        "currency": currency,
        "occurred_at": (at or timezone.now() - timedelta(minutes=30)).isoformat(),
        **attribution,
    }


def member(external_id: str, *, at=None, **attribution) -> dict:
    return {
        "external_id": external_id,
        "occurred_at": (at or timezone.now() - timedelta(minutes=30)).isoformat(),
        **attribution,
    }
