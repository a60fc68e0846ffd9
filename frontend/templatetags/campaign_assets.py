"""``{% campaign_assets campaign viewer_brand as assets %}``: what the assets partial
(``frontend/campaigns/_assets.html``) shows, read in a constant number of queries — the
placements with their links and coupon batches, and the latest reported rows."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import template
from django.utils import timezone

from exchange import conf
from exchange.models import CampaignPlacement, ReportedState, ReverseReason
from exchange.selectors import coupon_batches_for, reported_events_for
from exchange.services.common import can_act_for
from exchange.services.coupons import can_download_codes
from exchange.services.reported import screening_ends
from exchange.states import CampaignState
from frontend.views.common import actor_of
from huiliu import formatting

register = template.Library()
EVENTS_SHOWN = 100


@dataclass
class PlacementAssets:
    placement: CampaignPlacement
    batch: object | None
    can_generate: bool


@dataclass
class LegAssets:
    leg: object
    placements: list[PlacementAssets] = field(default_factory=list)


@dataclass
class EventRow:
    event: object
    can_reverse: bool
    screening_ends: object


@dataclass
class Assets:
    legs: list[LegAssets]
    events: list[EventRow]
    can_download: bool
    coupon_max: int
    reasons: list
    more_events: bool


@register.simple_tag(takes_context=True)
def campaign_assets(context, campaign, viewer_brand=None) -> Assets:
    actor = actor_of(context["request"])
    closed = campaign.state not in (CampaignState.SCHEDULED, CampaignState.LIVE)
    batches = {b.placement_id: b for b in coupon_batches_for(campaign)}
    placements = (
        CampaignPlacement.objects.filter(leg__campaign=campaign)
        .select_related("leg", "leg__promoter", "leg__promoted", "link", "placement")
        .order_by("leg_id", "starts_at", "id")
    )
    legs: dict[int, LegAssets] = {}
    for cp in placements:
        entry = legs.setdefault(cp.leg_id, LegAssets(cp.leg))
        entry.placements.append(
            PlacementAssets(cp, batches.get(cp.pk), not closed and can_act_for(actor, cp.leg.promoted_id))
        )
    # Both sides' legs, the viewer's own promoted leg first.
    ordered = sorted(legs.values(), key=lambda la: viewer_brand is None or la.leg.promoted_id != viewer_brand.pk)
    now = timezone.now()
    rows = list(reported_events_for(campaign)[: EVENTS_SHOWN + 1])
    events = [
        EventRow(
            e,
            e.state == ReportedState.PENDING and now < screening_ends(e) and can_act_for(actor, e.brand_id),
            screening_ends(e),
        )
        for e in rows[:EVENTS_SHOWN]
    ]
    return Assets(
        legs=ordered,
        events=events,
        can_download=can_download_codes(actor, campaign),
        coupon_max=conf.coupon_batch_max(),
        reasons=list(ReverseReason.choices),
        more_events=len(rows) > EVENTS_SHOWN,
    )


@register.filter
def money_in(cents, currency) -> str:
    """Integer cents in the row's own currency, through the one money formatter."""
    if cents is None:
        return ""
    return formatting.money(int(cents), currency or "CNY")
