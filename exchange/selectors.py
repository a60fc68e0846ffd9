"""Reads of the exchange, each scoped to the caller (``actor``): a proposal or a campaign is
visible to the two brands' members and API keys and to platform admins — nobody else.

Campaign metrics are read from the rollups (``LegDayMetrics``, ``LegDayVisitor``), never
recomputed from click events for a page view."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from exchange import valuation
from exchange.models import (
    Campaign,
    CampaignLeg,
    CampaignPlacement,
    ChannelRate,
    CouponBatch,
    DeliveryReport,
    DomainEvent,
    LegDayMetrics,
    LegDayVisitor,
    Notification,
    Placement,
    PricingUnit,
    Proposal,
    ProposalMessage,
    ReportedEvent,
    Revision,
    SettlementPolicy,
    TrackingLink,
    WebhookDelivery,
    WebhookEndpoint,
)
from exchange.states import CLOSED_STATES, OPEN_STATES, DeliveryState, Side
from partners.actors import EDIT_ROLES, Actor
from partners.models import ApiKeyScope, Brand, Channel, Role


# --- visibility (one rule, used by every surface) ----------------------------------------------
def proposal_visible(*, actor: Actor) -> QuerySet[Proposal]:
    qs = Proposal.objects.select_related("initiator", "counterparty", "initiator__category", "counterparty__category")
    if actor.is_admin:
        return qs
    ids = actor.brand_ids
    if not ids:
        return qs.none()
    return qs.filter(Q(initiator_id__in=ids) | Q(counterparty_id__in=ids))


def revision_visible(*, actor: Actor) -> QuerySet[Revision]:
    return Revision.objects.filter(proposal__in=proposal_visible(actor=actor).values("pk"))


def placement_visible(*, actor: Actor) -> QuerySet[Placement]:
    return Placement.objects.filter(revision__proposal__in=proposal_visible(actor=actor).values("pk"))


def proposal_message_visible(*, actor: Actor) -> QuerySet[ProposalMessage]:
    return ProposalMessage.objects.filter(proposal__in=proposal_visible(actor=actor).values("pk"))


def campaign_visible(*, actor: Actor) -> QuerySet[Campaign]:
    """A campaign is visible to its two brands' members and API keys and to platform admins
    (the same rule as its proposal's)."""
    qs = Campaign.objects.select_related("brand_a", "brand_b")
    if actor.is_admin:
        return qs
    ids = actor.brand_ids
    if not ids:
        return qs.none()
    return qs.filter(Q(brand_a_id__in=ids) | Q(brand_b_id__in=ids))


def channel_rate_visible(*, actor: Actor) -> QuerySet[ChannelRate]:
    """Benchmark rates are the platform's public reference for every signed-in caller."""
    if not actor.is_authenticated:
        return ChannelRate.objects.none()
    return ChannelRate.objects.all()


def notification_visible(*, actor: Actor) -> QuerySet[Notification]:
    """A person's inbox — only entries of brands they still belong to (a member who left a
    brand loses its notifications with its proposals)."""
    if actor.user is None:
        return Notification.objects.none()
    return Notification.objects.filter(user=actor.user, brand_id__in=actor.brand_ids)


# --- lists --------------------------------------------------------------------------------------
class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Box(StrEnum):
    """The inbox's three tabs."""

    NEEDS_ACTION = "action"
    WAITING = "waiting"
    CLOSED = "closed"


def proposal_list(
    *,
    actor: Actor,
    brand: Brand | None = None,
    state: str | None = None,
    direction: str | None = None,
    counterparty: Brand | None = None,
    needs_my_action: bool | None = None,
    box: str | None = None,
    parties_only: bool = False,
) -> QuerySet[Proposal]:
    """Proposals the caller may see, newest activity first. ``brand`` narrows to one of the
    caller's brands (the side the filters are relative to; default: all of them).
    ``parties_only`` leaves out what a platform admin sees only as an admin (an inbox is one's
    own). Add ``with_revisions`` for the revisions and placements (constant query count)."""
    qs = proposal_visible(actor=actor)
    if parties_only:
        qs = qs.filter(Q(initiator_id__in=actor.brand_ids) | Q(counterparty_id__in=actor.brand_ids))
    mine = {brand.pk} if brand is not None else actor.brand_ids
    if brand is not None:
        qs = qs.filter(Q(initiator=brand) | Q(counterparty=brand))
    if state:
        qs = qs.filter(state=state)
    if direction == Direction.INCOMING:
        qs = qs.filter(counterparty_id__in=mine)
    elif direction == Direction.OUTGOING:
        qs = qs.filter(initiator_id__in=mine)
    if counterparty is not None:
        qs = qs.filter(Q(initiator=counterparty) | Q(counterparty=counterparty))
    if needs_my_action is True:
        qs = qs.filter(state__in=OPEN_STATES, turn_id__in=mine & acting_brand_ids(actor))
    elif box == Box.NEEDS_ACTION:  # the brand's turn (its viewers see what it must answer too)
        qs = qs.filter(state__in=OPEN_STATES, turn_id__in=mine)
    elif needs_my_action is False or box == Box.WAITING:
        qs = qs.filter(state__in=OPEN_STATES).exclude(turn_id__in=mine)
    elif box == Box.CLOSED:
        qs = qs.filter(state__in=CLOSED_STATES)
    return qs.order_by("-updated_at", "-id")


def with_revisions(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Prefetch every revision with its placements, and the thread (for a proposal page or an
    API list: a constant number of queries however many proposals)."""
    return qs.prefetch_related(
        Prefetch("revisions", queryset=Revision.objects.order_by("number").prefetch_related("placements")),
        Prefetch(
            "messages",
            queryset=ProposalMessage.objects.select_related("author", "author_key").order_by("created_at", "id"),
        ),
    )


def proposal_get(*, actor: Actor, pk: int) -> Proposal | None:
    return with_revisions(proposal_visible(actor=actor)).filter(pk=pk).first()


def current_revision(proposal: Proposal) -> Revision | None:
    """The latest revision (uses the prefetch when present)."""
    revisions = list(proposal.revisions.all())
    return revisions[-1] if revisions else None


def message_list(*, actor: Actor, proposal: Proposal) -> QuerySet[ProposalMessage]:
    return proposal_message_visible(actor=actor).filter(proposal=proposal).select_related("brand", "author")


def channel_rate_list(*, actor: Actor) -> QuerySet[ChannelRate]:
    return channel_rate_visible(actor=actor).order_by("channel_type", "format")


def rate_table() -> dict[tuple[str, str], tuple[int, str]]:
    return {(r.channel_type, r.format): (r.rate_cents, r.unit) for r in ChannelRate.objects.all()}


def channel_options(*, brand: Brand | None = None, brand_id: int | None = None) -> list[valuation.ChannelOption]:
    """The brand's own channels, as the composer and the balance helper see them."""
    pk = brand.pk if brand is not None else brand_id
    return [
        valuation.ChannelOption(c.pk, c.type, c.label, c.size, c.active_rate)
        for c in Channel.objects.filter(brand_id=pk).order_by("type", "label")
    ]


def notification_list(*, actor: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    qs = notification_visible(actor=actor).select_related(
        "event", "event__proposal", "event__proposal__initiator", "event__proposal__counterparty", "brand"
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor: Actor) -> int:
    return notification_visible(actor=actor).filter(read_at__isnull=True).count()


def acting_brand_ids(actor: Actor) -> set[int]:
    """The brands the caller may negotiate for (owners, marketers, write keys — not viewers)."""
    return {brand_id for brand_id, role in actor.roles.items() if role in EDIT_ROLES}


def action_count(*, actor: Actor) -> int:
    """Open proposals waiting for an answer the caller can give."""
    mine = acting_brand_ids(actor)
    if not mine:
        return 0
    return Proposal.objects.filter(state__in=OPEN_STATES, turn_id__in=mine).count()


# --- the matcher's seam -------------------------------------------------------------------------
def open_pairs(brand_ids: list[int] | None) -> Iterable[tuple[int, int]]:
    """Brand pairs with an open proposal (registered with matching's excluded-pair sources, so
    they leave each other's recommendation lists while they negotiate)."""
    qs = Proposal.objects.filter(state__in=OPEN_STATES)
    if brand_ids is not None:
        qs = qs.filter(Q(initiator_id__in=brand_ids) | Q(counterparty_id__in=brand_ids))
    return qs.values_list("initiator_id", "counterparty_id")


def event_list(*, actor: Actor, proposal: Proposal) -> QuerySet[DomainEvent]:
    if not actor.is_admin and not ({proposal.initiator_id, proposal.counterparty_id} & actor.brand_ids):
        return DomainEvent.objects.none()
    return DomainEvent.objects.filter(proposal=proposal).order_by("created_at", "id")


# --- delivery reports ---------------------------------------------------------------------------
def delivery_report_visible(*, actor: Actor) -> QuerySet[DeliveryReport]:
    """A delivery report is visible wherever its campaign is: the two brands' members and API
    keys, and platform admins."""
    return DeliveryReport.objects.filter(campaign__in=campaign_visible(actor=actor).values("pk"))


def _delivery_reads(qs: QuerySet[DeliveryReport]) -> QuerySet[DeliveryReport]:
    # Everything a report row shows (the placement and its proposal's parties, the leg's two
    # brands), joined once: a list costs the same number of queries for 1 or 100 reports.
    return qs.select_related(
        "campaign__brand_a",
        "campaign__brand_b",
        "placement__leg__promoter",
        "placement__leg__promoted",
        "placement__placement__revision__proposal",
    )


def with_delivery_reports(qs: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Prefetch every visible campaign's delivery reports with what a report row shows (for a
    campaign list: one more query however many campaigns). The campaigns were scoped, and a
    report is visible exactly where its campaign is."""
    return qs.prefetch_related(Prefetch("delivery_reports", queryset=_delivery_reads(DeliveryReport.objects.all())))


def delivery_reports_of(campaign: Campaign) -> QuerySet[DeliveryReport]:
    """Every report of a campaign the caller already got through ``campaign_visible`` (the
    same rule covers its reports), joined for display."""
    return _delivery_reads(DeliveryReport.objects.filter(campaign=campaign))


def delivery_report_list(*, actor: Actor, campaign: Campaign) -> QuerySet[DeliveryReport]:
    """The campaign's delivery reports the caller may see, by leg and placement window."""
    return _delivery_reads(delivery_report_visible(actor=actor).filter(campaign=campaign)).order_by(
        "placement__leg_id", "placement__starts_at", "placement_id"
    )


def delivery_report_get(*, actor: Actor, pk: int) -> DeliveryReport | None:
    return _delivery_reads(delivery_report_visible(actor=actor)).filter(pk=pk).first()


def disputed_delivery_list(*, actor: Actor) -> QuerySet[DeliveryReport]:
    """Disputed delivery reports the caller may see, longest-standing first (admins: all)."""
    return _delivery_reads(delivery_report_visible(actor=actor).filter(state=DeliveryState.DISPUTED)).order_by(
        "disputed_at", "pk"
    )


def campaign_placements_for_delivery(*, actor: Actor, campaign: Campaign) -> QuerySet[CampaignPlacement]:
    """Every placement of a visible campaign with its report (if any) — the rows of the
    delivery panel, promised beside reported, in one query."""
    if not campaign_visible(actor=actor).filter(pk=campaign.pk).exists():
        return CampaignPlacement.objects.none()
    return (
        CampaignPlacement.objects.filter(leg__campaign=campaign)
        .select_related("leg__promoter", "leg__promoted", "placement", "delivery_report")
        .order_by("leg_id", "starts_at", "id")
    )


# --- coupons and partner-reported events ---------------------------------------------------------
def _party_q(actor: Actor, prefix: str) -> Q:
    ids = actor.brand_ids
    return Q(**{f"{prefix}brand_a_id__in": ids}) | Q(**{f"{prefix}brand_b_id__in": ids})


def reported_event_visible(*, actor: Actor) -> QuerySet[ReportedEvent]:
    """Reported orders and new members: both brands of the campaign see every row (its state
    and reason), as do platform admins."""
    qs = ReportedEvent.objects.select_related("brand", "leg", "link", "campaign")
    if actor.is_admin:
        return qs
    if not actor.brand_ids:
        return qs.none()
    return qs.filter(_party_q(actor, "campaign__"))


def reported_event_list(
    *, actor: Actor, campaign: Campaign | None = None, kind: str | None = None, state: str | None = None
) -> QuerySet[ReportedEvent]:
    """Newest first; narrowed to one campaign, kind or state when given."""
    qs = reported_event_visible(actor=actor)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if kind:
        qs = qs.filter(kind=kind)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


# --- webhooks -----------------------------------------------------------------------------------
def webhook_endpoint_visible(*, actor: Actor) -> QuerySet[WebhookEndpoint]:
    """A brand's endpoints: its owners, its keys holding ``webhooks:manage``, platform admins."""
    qs = WebhookEndpoint.objects.all()
    if actor.is_admin:
        return qs
    key = actor.api_key
    if key is not None:
        if key.is_active and key.has_scope(ApiKeyScope.WEBHOOKS_MANAGE):
            return qs.filter(brand_id=key.brand_id)
        return qs.none()
    owned = [brand_id for brand_id, role in actor.roles.items() if role == Role.OWNER]
    return qs.filter(brand_id__in=owned) if owned else qs.none()


def webhook_endpoint_list(*, actor: Actor, brand: Brand | None = None) -> QuerySet[WebhookEndpoint]:
    qs = webhook_endpoint_visible(actor=actor).select_related("brand")
    if brand is not None:
        qs = qs.filter(brand=brand)
    return qs.order_by("created_at", "id")


def webhook_endpoint_get(*, actor: Actor, pk: int) -> WebhookEndpoint | None:
    return webhook_endpoint_list(actor=actor).filter(pk=pk).first()


def webhook_delivery_visible(*, actor: Actor) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=webhook_endpoint_visible(actor=actor).values("pk"))


def webhook_delivery_list(
    *, actor: Actor, endpoint: WebhookEndpoint, state: str | None = None
) -> QuerySet[WebhookDelivery]:
    """The endpoint's log, newest first, with its event and attempts loaded (constant queries)."""
    qs = (
        webhook_delivery_visible(actor=actor)
        .filter(endpoint=endpoint)
        .select_related("endpoint__brand", "event__proposal")
        .prefetch_related("attempt_log")
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def coupon_batch_visible(*, actor: Actor) -> QuerySet[CouponBatch]:
    """Coupon batches (counts, not codes) of the campaigns the caller may see."""
    qs = CouponBatch.objects.select_related("placement", "leg", "leg__campaign")
    if actor.is_admin:
        return qs
    if not actor.brand_ids:
        return qs.none()
    return qs.filter(_party_q(actor, "leg__campaign__"))


def campaign_placement_get(*, actor: Actor, pk: int) -> CampaignPlacement | None:
    """A placement of a campaign the caller may see, with its leg, campaign and link."""
    return (
        CampaignPlacement.objects.select_related("leg", "leg__campaign", "leg__promoter", "leg__promoted", "link")
        .filter(leg__campaign__in=campaign_visible(actor=actor).values("pk"), pk=pk)
        .first()
    )


def coupon_batches_for(placement_or_campaign) -> QuerySet[CouponBatch]:
    """The coupon batch of a campaign placement (a queryset of at most one), or every batch of a
    campaign, with ``redeemed_total`` annotated (no query per row). Not scoped: for callers that
    already hold a visible campaign (or a GraphQL type whose get_queryset scopes it)."""
    qs = CouponBatch.objects.select_related("placement", "leg", "leg__campaign").annotate(
        redeemed_total=Count("coupons", filter=Q(coupons__redeemed_at__isnull=False))
    )
    if placement_or_campaign is None:  # every batch: for a prefetch scoped by its parent
        return qs
    if isinstance(placement_or_campaign, CampaignPlacement):
        return qs.filter(placement=placement_or_campaign)
    return qs.filter(leg__campaign=placement_or_campaign).order_by("leg_id", "placement_id")


def reported_events_for(campaign: Campaign) -> QuerySet[ReportedEvent]:
    """A (visible) campaign's reported rows, newest first, with what a row shows joined."""
    return (
        ReportedEvent.objects.filter(campaign=campaign)
        .select_related("brand", "leg__promoter", "leg__promoted", "link")
        .order_by("-created_at", "-id")
    )


# --- campaigns: lists, one campaign, metrics from the rollups ---------------------------------
def campaign_leg_visible(*, actor: Actor) -> QuerySet[CampaignLeg]:
    return CampaignLeg.objects.filter(campaign__in=campaign_visible(actor=actor).values("pk"))


def campaign_placement_visible(*, actor: Actor) -> QuerySet[CampaignPlacement]:
    return CampaignPlacement.objects.filter(leg__campaign__in=campaign_visible(actor=actor).values("pk"))


def tracking_link_visible(*, actor: Actor) -> QuerySet[TrackingLink]:
    return TrackingLink.objects.filter(leg__campaign__in=campaign_visible(actor=actor).values("pk"))


def _distinct_visitors(leg_pk: OuterRef) -> Subquery:
    """Visitors of a leg over its whole run, each counted once (from the rollups' exact visitor
    set — a visitor seen on three days is one visitor, not three)."""
    return Subquery(
        LegDayVisitor.objects.filter(leg_id=leg_pk)
        .order_by()
        .values("leg_id")
        .annotate(n=Count("visitor_id", distinct=True))
        .values("n")[:1]
    )


def with_legs(qs: QuerySet[Campaign]) -> QuerySet[Campaign]:
    """Prefetch every leg (its brands, its daily rollup rows and its distinct visitors), its
    placements with the agreed placement and the tracking link: a page of campaigns with their
    metrics costs the same number of queries for 2 rows or 100."""
    placements = CampaignPlacement.objects.select_related(
        "placement", "placement__revision", "placement__revision__proposal", "link"
    ).order_by("starts_at", "id")
    legs = (
        CampaignLeg.objects.select_related("promoter", "promoted")
        .annotate(visitors_total=Coalesce(_distinct_visitors(OuterRef("pk")), 0))
        .prefetch_related(
            Prefetch("placements", queryset=placements),
            Prefetch("daily", queryset=LegDayMetrics.objects.order_by("day")),
            Prefetch("coupon_batches", queryset=coupon_batches_for(None)),
        )
        .order_by("id")
    )
    return with_delivery_reports(qs.prefetch_related(Prefetch("legs", queryset=legs)))


def campaign_list(*, actor: Actor, state: str | None = None, brand: Brand | None = None) -> QuerySet[Campaign]:
    """Campaigns the caller may see (its brands' and, for platform admins, all), newest first,
    with legs, placements, links and rollups prefetched (``with_legs``). ``brand`` narrows to the
    campaigns that brand is a party to; ``state`` to one ``CampaignState``."""
    qs = campaign_visible(actor=actor).select_related("proposal")
    if brand is not None:
        qs = qs.filter(Q(brand_a=brand) | Q(brand_b=brand))
    if state:
        qs = qs.filter(state=state)
    return with_legs(qs.order_by("-created_at", "-id"))


def campaign_get(*, actor: Actor, pk: int) -> Campaign | None:
    return with_legs(campaign_visible(actor=actor).select_related("proposal")).filter(pk=pk).first()


def campaign_for_proposal(*, actor: Actor, proposal: Proposal) -> Campaign | None:
    """The campaign an accepted proposal became, if the caller may see it."""
    return campaign_visible(actor=actor).filter(proposal=proposal).first()


class Granularity(StrEnum):
    DAY = "day"


@dataclass(frozen=True)
class DayMetrics:
    """One day (Asia/Shanghai) of a leg, as the rollups hold it; zeros for a day without a row."""

    day: date
    clicks: int = 0
    filtered_clicks: int = 0
    unique_visitors: int = 0
    new_members: int = 0
    conversions: int = 0
    gmv_cents: int = 0
    delivered_reach: int = 0
    delivered_value_cents: int = 0


@dataclass(frozen=True)
class LegTotals:
    """A leg's run so far. ``unique_visitors`` counts each visitor once over the whole run.
    Promised figures come from the leg's agreed placements: ``promised_reach`` sums the
    quantities of those counted in people reached (reach, messages, parcels — an in-store
    display's store-days reach no countable audience), ``promised_value_cents`` their value at
    the benchmark rates copied into the accepted revision. ``cost_per_new_member_cents`` is the
    value delivered to the promoted brand ÷ the new members it gained through the leg (what each
    new member cost it in traffic it gives back), rounded half up; None before the first one."""

    clicks: int
    filtered_clicks: int
    unique_visitors: int
    new_members: int
    conversions: int
    gmv_cents: int
    delivered_reach: int
    promised_reach: int
    delivered_value_cents: int
    promised_value_cents: int
    cost_per_new_member_cents: int | None

    @property
    def reach_share(self) -> float:
        return self.delivered_reach / self.promised_reach if self.promised_reach else 0.0

    @property
    def value_share(self) -> float:
        return self.delivered_value_cents / self.promised_value_cents if self.promised_value_cents else 0.0


@dataclass(frozen=True)
class LegMetrics:
    leg: CampaignLeg
    series: list[DayMetrics]
    totals: LegTotals


@dataclass(frozen=True)
class Reciprocity:
    """The value each brand has delivered to the other so far (benchmark CNY cents, from the
    rollups' delivered value), the gap between the two and the gap as a percentage of the larger
    side. ``lighter`` is the brand that has delivered less (None when even)."""

    a_to_b_cents: int
    b_to_a_cents: int
    gap_cents: int
    gap_percent: float
    lighter_id: int | None
    balanced: bool
    tolerance_percent: int = valuation.BALANCED_PERCENT


@dataclass(frozen=True)
class CampaignMetrics:
    campaign: Campaign
    granularity: str
    days: list[date]
    legs: list[LegMetrics]
    reciprocity: Reciprocity


def _rate_value(n: int, d: int) -> int | None:
    return (2 * n + d) // (2 * d) if d else None  # rounded half up, integers only


def _day_of(moment) -> date:
    # The rollups' day of a moment (``exchange.services.rollups.day_of``: its date in Asia/Shanghai).
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def campaign_days(campaign: Campaign, today: date | None = None) -> list[date]:
    """The days a campaign's series cover: from its first day to min(today, its last day)
    (empty before it starts)."""
    today = today or _day_of(timezone.now())
    first = _day_of(campaign.starts_at)
    last = min(today, _day_of(campaign.ends_at - timedelta(microseconds=1)))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _leg_metrics(leg: CampaignLeg, days: list[date]) -> LegMetrics:
    rows = list(leg.daily.all())  # prefetched by with_legs
    by_day = {r.day: r for r in rows}
    names = [f.name for f in fields(DayMetrics) if f.name != "day"]
    series = [
        DayMetrics(day, **{n: getattr(by_day[day], n) for n in names}) if day in by_day else DayMetrics(day)
        for day in days
    ]
    # Totals over every row the leg has (a late click, flagged outside the window, still counts).
    sums = {n: sum(getattr(r, n) for r in rows) for n in names}
    visitors = getattr(leg, "visitors_total", None)
    if visitors is None:
        visitors = _count_visitors(leg.pk)
    placements = [cp.placement for cp in leg.placements.all()]
    totals = LegTotals(
        clicks=sums["clicks"],
        filtered_clicks=sums["filtered_clicks"],
        unique_visitors=int(visitors or 0),
        new_members=sums["new_members"],
        conversions=sums["conversions"],
        gmv_cents=sums["gmv_cents"],
        delivered_reach=sums["delivered_reach"],
        promised_reach=sum(p.quantity for p in placements if p.unit != PricingUnit.STORE_DAY),
        delivered_value_cents=sums["delivered_value_cents"],
        promised_value_cents=sum(p.value_cents for p in placements),
        cost_per_new_member_cents=_rate_value(sums["delivered_value_cents"], sums["new_members"]),
    )
    return LegMetrics(leg=leg, series=series, totals=totals)


def _count_visitors(leg_id: int) -> int:
    return LegDayVisitor.objects.filter(leg_id=leg_id).values("visitor_id").distinct().count()


TOLERANCE_CACHE_KEY = "exchange:settlement-tolerance"


def tolerance_percent() -> int:
    """The settlement tolerance (% of the larger side) a swap is judged balanced by — the
    platform's settlement policy (admin setting), 10 until one is saved."""
    value = cache.get(TOLERANCE_CACHE_KEY)
    if value is None:
        value = SettlementPolicy.objects.filter(pk=1).values_list("tolerance_percent", flat=True).first()
        value = valuation.BALANCED_PERCENT if value is None else int(value)
        # Dropped when an admin saves the policy; a reader racing that save may put the old
        # value back, so it lives 30 s at most — the longest a page can show the old tolerance.
        cache.set(TOLERANCE_CACHE_KEY, value, 30)
    return int(value)


def reciprocity(campaign: Campaign, legs: list[LegMetrics]) -> Reciprocity:
    delivered = {m.leg.promoter_id: m.totals.delivered_value_cents for m in legs}
    a, b = delivered.get(campaign.brand_a_id, 0), delivered.get(campaign.brand_b_id, 0)
    # The proposal's own balance rule (A is the initiator), by today's policy — or, when the
    # caller loaded the campaign's settlement with it (the dashboard does), by the tolerance
    # that settlement opened with. Never a query per listed campaign.
    settled = None
    if Campaign._meta.get_field("settlement").is_cached(campaign):
        s = campaign.settlement
        settled = s.tolerance_percent if s is not None else None
    bal = valuation.balance(a, b, tolerance_percent=tolerance_percent() if settled is None else settled)
    lighter = {Side.INITIATOR: campaign.brand_a_id, Side.COUNTERPARTY: campaign.brand_b_id}.get(bal.lighter)
    return Reciprocity(
        a_to_b_cents=a,
        b_to_a_cents=b,
        gap_cents=bal.gap_cents,
        gap_percent=bal.gap_percent,
        lighter_id=lighter,
        balanced=bal.balanced,
        tolerance_percent=bal.tolerance_percent,
    )


def campaign_metrics(*, campaign: Campaign, granularity: str = "day", today: date | None = None) -> CampaignMetrics:
    """Per leg, the daily series from the campaign's first day to min(today, its last day) —
    every day present, zeros where the rollups have no row — and the totals; then the
    reciprocity so far. Read from ``LegDayMetrics`` (never recomputed from click events); no
    query when ``campaign`` came from ``campaign_list`` / ``campaign_get``."""
    if granularity != Granularity.DAY:
        raise ValueError(f"unknown granularity {granularity!r}")
    days = campaign_days(campaign, today)
    legs = [_leg_metrics(leg, days) for leg in campaign.legs.all()]
    return CampaignMetrics(
        campaign=campaign, granularity=granularity, days=days, legs=legs, reciprocity=reciprocity(campaign, legs)
    )


def tracking_url(link: TrackingLink) -> str:
    """The short link a promoter shares: ``<SITE_URL>/t/<code>``."""
    return f"{settings.SITE_URL}{reverse('exchange:track', args=[link.code])}"


def webhook_delivery_get(*, actor: Actor, pk: int) -> WebhookDelivery | None:
    return webhook_delivery_visible(actor=actor).select_related("endpoint__brand", "event").filter(pk=pk).first()


# --- disputes ----------------------------------------------------------------------------------
def dispute_visible(*, actor: Actor):
    """Disputes the caller may see: those of its brands' campaigns (both parties' members and
    keys) and, for platform admins, all."""
    from exchange.models import Dispute, DisputeEvidence

    qs = Dispute.objects.select_related(
        "campaign__brand_a", "campaign__brand_b", "opened_by", "respondent", "delivery_report__placement__placement"
    ).prefetch_related(Prefetch("evidence", queryset=DisputeEvidence.objects.select_related("brand")))
    if actor.is_admin:
        return qs
    ids = actor.brand_ids
    if not ids:
        return qs.none()
    return qs.filter(Q(campaign__brand_a_id__in=ids) | Q(campaign__brand_b_id__in=ids))


def dispute_list(*, actor: Actor, state: str | None = None, campaign: Campaign | None = None, open_only=False):
    """Visible disputes, newest first; ``open_only`` gives the admin queue's order (oldest first)."""
    from exchange.models import OPEN_DISPUTE_STATES

    qs = dispute_visible(actor=actor)
    if state:
        qs = qs.filter(state=state)
    if campaign is not None:
        qs = qs.filter(campaign=campaign)
    if open_only:
        return qs.filter(state__in=OPEN_DISPUTE_STATES).order_by("opened_at", "pk")
    return qs.order_by("-opened_at", "-pk")


def dispute_get(*, actor: Actor, pk: int):
    return dispute_visible(actor=actor).filter(pk=pk).first()


def dispute_evidence_visible(*, actor: Actor):
    from exchange.models import DisputeEvidence

    return DisputeEvidence.objects.filter(dispute__in=dispute_visible(actor=actor).values("pk")).select_related("brand")


# --- ledger and settlements (the rules live in exchange.ledger.selectors) ---------------------
def settlement_visible(*, actor: Actor) -> QuerySet:
    """Settlements the caller may see: its brands' as payer or payee; admins all."""
    from exchange.ledger.selectors import settlement_visible as visible

    return visible(actor=actor)


def ledger_entry_visible(*, actor: Actor) -> QuerySet:
    """Ledger entries of the caller's brands' accounts; admins all."""
    from exchange.ledger.selectors import entries_visible

    return entries_visible(actor=actor)
