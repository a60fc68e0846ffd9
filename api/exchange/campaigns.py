"""GraphQL read side of campaigns: ``campaigns`` (a connection filtered by state and brand) and
``campaign(id)``, each with its legs, placements, tracking links and ``metrics`` read from the
rollups (``exchange.selectors.campaign_metrics``).

A campaign is visible to its two brands' members and API keys and to platform admins
(``exchange.selectors.campaign_visible``). Legs, placements and links are resolved from the
prefetch ``campaign_list`` / ``campaign_get`` made (their parent was scoped), so a page of
campaigns costs the same number of queries for 2 rows or 100.

Seams for the other campaign slices, wired by the lead after merging: ``couponBatches`` and
``reportedEvents`` (coupons, QR, partner-reported events) and ``deliveryReports`` (delivery
reports) join ``CampaignPlacementNode`` / ``CampaignNode`` where marked below.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse

from api.core.errors import graphql_error_from
from api.core.ids import brand_for, decode_id, encode_id
from api.core.labels import choice_label
from api.core.scalars import BigInt, Money
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.delivery import DeliveryReportNode, delivery_reports_for
from api.exchange.reported import CouponBatchNode
from api.exchange.types import PlacementNode, ProposalParty, Side
from exchange import selectors
from exchange.models import Campaign, CampaignLeg, CampaignPlacement, TrackingLink
from exchange.states import CampaignState
from exchange.states import Side as ProposalSide
from partners.actors import Actor

CampaignStateEnum = graphene.Enum.from_enum(
    CampaignState, description="scheduled → live → completed (disputed: settlement)"
)
MetricsGranularity = graphene.Enum.from_enum(selectors.Granularity, description="The step of a metrics series.")


class TrackingLinkNode(ScopedObjectType):
    """The short link of one campaign placement: ``url`` redirects to ``destination`` (the
    promoted brand's landing page with UTM parameters) with a fresh ``hl_click`` id."""

    url = graphene.String(required=True, description="The short link to share: <site>/t/<code>.")
    qr_svg_url = graphene.String(required=True, description="The link's QR code as SVG (path on this site; parties).")
    qr_png_url = graphene.String(required=True, description="The link's QR code as PNG, for print (path on this site).")

    class Meta:
        model = TrackingLink
        name = "TrackingLink"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "code", "url", "qr_svg_url", "qr_png_url", "destination", "created_at", "updated_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.tracking_link_visible(actor=actor)

    def resolve_url(self, info):
        return selectors.tracking_url(self)

    def _qr(self, fmt: str) -> str:
        return reverse(
            # placement and its leg come with the campaign's prefetch (no query per link)
            "frontend:campaign_qr",
            kwargs={"pk": self.placement.leg.campaign_id, "placement": self.placement_id, "fmt": fmt},
        )

    def resolve_qr_svg_url(self, info):
        return TrackingLinkNode._qr(self, "svg")

    def resolve_qr_png_url(self, info):
        return TrackingLinkNode._qr(self, "png")


class CampaignPlacementNode(ScopedObjectType):
    """An agreed placement as the campaign runs it: its window (Asia/Shanghai dates read as a
    half-open UTC window), its tracking link, and when its delivery was confirmed."""

    placement = graphene.Field(PlacementNode, required=True, description="What was agreed in the accepted revision.")
    link = graphene.Field(TrackingLinkNode)
    coupon_batch = graphene.Field(
        CouponBatchNode, description="The placement's coupon codes (counts); null until issued."
    )

    class Meta:
        model = CampaignPlacement
        name = "CampaignPlacement"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "placement", "starts_at", "ends_at", "link", "coupon_batch", "delivery_confirmed_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.campaign_placement_visible(actor=actor)

    def resolve_placement(self, info):
        return self.placement  # selected with the leg's prefetch

    def resolve_coupon_batch(self, info):
        # with_legs prefetches each leg's batches (with their redeemed counts): no query per row.
        leg_cache = getattr(self.leg, "_prefetched_objects_cache", {})
        if "coupon_batches" in leg_cache:
            return next((b for b in leg_cache["coupon_batches"] if b.placement_id == self.pk), None)
        return selectors.coupon_batches_for(self).first()

    def resolve_link(self, info):
        return getattr(self, "link", None)


class CampaignLegNode(ScopedObjectType):
    """One direction of the swap: ``promoter`` shows ``promoted`` to its audience."""

    promoter = graphene.Field(ProposalParty, required=True)
    promoted = graphene.Field(ProposalParty, required=True)
    landing_url = graphene.String(
        required=True, description="Where the leg's links lead (empty: the promoted brand's page on Huiliu)."
    )
    placements = graphene.List(graphene.NonNull(CampaignPlacementNode), required=True)

    class Meta:
        model = CampaignLeg
        name = "CampaignLeg"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "promoter", "promoted", "landing_url", "placements")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.campaign_leg_visible(actor=actor)

    def resolve_promoter(self, info):
        return ProposalParty.of(self.promoter)

    def resolve_promoted(self, info):
        return ProposalParty.of(self.promoted)

    def resolve_placements(self, info):
        return list(self.placements.all())


# --- metrics ---------------------------------------------------------------------------------------
class MetricsDay(graphene.ObjectType):
    """One day (Asia/Shanghai) of a leg; zeros on a day without activity. Amounts are integer
    CNY cents (BigInt), compact for charts; the totals carry Money."""

    day = graphene.Date(required=True)
    clicks = BigInt(required=True, description="Counted clicks (filtered ones excluded).")
    filtered_clicks = BigInt(required=True, description="Bots, link previews, bursts and HEAD requests.")
    unique_visitors = BigInt(required=True)
    new_members = BigInt(required=True, description="Reported by the promoted brand, not reversed.")
    conversions = BigInt(required=True, description="Reported orders, not reversed.")
    gmv_cents = BigInt(required=True)
    delivered_reach = BigInt(required=True, description="From confirmed delivery reports.")
    delivered_value_cents = BigInt(required=True, description="At the swap's benchmark rates.")


class LegTotals(graphene.ObjectType):
    """A leg's run so far against what it promised."""

    clicks = BigInt(required=True)
    filtered_clicks = BigInt(required=True)
    unique_visitors = BigInt(required=True, description="Each visitor once over the whole run.")
    new_members = BigInt(required=True)
    conversions = BigInt(required=True)
    gmv = graphene.Field(Money, required=True)
    delivered_reach = BigInt(required=True)
    promised_reach = BigInt(
        required=True, description="Reach, messages and parcels of the agreed placements (store-days excluded)."
    )
    delivered_value = graphene.Field(Money, required=True)
    promised_value = graphene.Field(Money, required=True, description="At the accepted revision's rates.")
    cost_per_new_member = graphene.Field(
        Money, description="Value delivered to the promoted brand ÷ its new members; null before the first one."
    )

    @staticmethod
    def of(t: selectors.LegTotals) -> LegTotals:
        return LegTotals(
            clicks=t.clicks,
            filtered_clicks=t.filtered_clicks,
            unique_visitors=t.unique_visitors,
            new_members=t.new_members,
            conversions=t.conversions,
            gmv=Money.of(t.gmv_cents),
            delivered_reach=t.delivered_reach,
            promised_reach=t.promised_reach,
            delivered_value=Money.of(t.delivered_value_cents),
            promised_value=Money.of(t.promised_value_cents),
            cost_per_new_member=None if t.cost_per_new_member_cents is None else Money.of(t.cost_per_new_member_cents),
        )


class LegMetrics(graphene.ObjectType):
    leg = graphene.Field(CampaignLegNode, required=True)
    series = graphene.List(graphene.NonNull(MetricsDay), required=True, description="Every day, oldest first.")
    totals = graphene.Field(LegTotals, required=True)


class Reciprocity(graphene.ObjectType):
    """What each brand has delivered to the other so far, at benchmark rates."""

    a_to_b = graphene.Field(Money, required=True, description="Delivered by brand A (the initiator) to brand B.")
    b_to_a = graphene.Field(Money, required=True, description="Delivered by brand B to brand A.")
    gap = graphene.Field(Money, required=True)
    gap_percent = graphene.Float(required=True, description="The gap as a share of the larger side, 0–100.")
    lighter = graphene.Field(Side, description="The side that has delivered less; null when even.")
    balanced = graphene.Boolean(
        required=True,
        description="Gap within the settlement tolerance (an admin setting, 10% by default) of the larger side.",
    )


class CampaignMetrics(graphene.ObjectType):
    granularity = graphene.Field(MetricsGranularity, required=True)
    days = graphene.List(graphene.NonNull(graphene.Date), required=True, description="From the first day to today.")
    legs = graphene.List(graphene.NonNull(LegMetrics), required=True)
    reciprocity = graphene.Field(Reciprocity, required=True)

    @staticmethod
    def of(m: selectors.CampaignMetrics) -> CampaignMetrics:
        r = m.reciprocity
        sides = {m.campaign.brand_a_id: ProposalSide.INITIATOR, m.campaign.brand_b_id: ProposalSide.COUNTERPARTY}
        return CampaignMetrics(
            granularity=m.granularity,
            days=m.days,
            legs=[LegMetrics(leg=leg.leg, series=leg.series, totals=LegTotals.of(leg.totals)) for leg in m.legs],
            reciprocity=Reciprocity(
                a_to_b=Money.of(r.a_to_b_cents),
                b_to_a=Money.of(r.b_to_a_cents),
                gap=Money.of(r.gap_cents),
                gap_percent=r.gap_percent,
                lighter=sides.get(r.lighter_id),
                balanced=r.balanced,
            ),
        )


class CampaignNode(ScopedObjectType):
    """A swap campaign: what an accepted proposal became. Brand A is the proposal's initiator."""

    state = graphene.Field(CampaignStateEnum, required=True)
    state_label = graphene.String(required=True, description="`state` in the request's language.")
    proposal_id = graphene.ID(required=True, description="The Proposal ID it was accepted from.")
    brand_a = graphene.Field(ProposalParty, required=True)
    brand_b = graphene.Field(ProposalParty, required=True)
    legs = graphene.List(
        graphene.NonNull(CampaignLegNode), required=True, description="A promotes B, then B promotes A."
    )
    delivery_reports = graphene.List(
        graphene.NonNull(DeliveryReportNode),
        required=True,
        description="What each side reported it delivered, by leg and placement window.",
    )
    metrics = graphene.Field(
        CampaignMetrics,
        required=True,
        granularity=MetricsGranularity(default_value=selectors.Granularity.DAY.value),
        description="Per leg, the daily series and totals from the rollups, and the reciprocity so far.",
    )

    class Meta:
        model = Campaign
        name = "Campaign"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "state",
            "state_label",
            "proposal_id",
            "brand_a",
            "brand_b",
            "starts_at",
            "ends_at",
            "created_at",
            "live_at",
            "completed_at",
            "legs",
            "metrics",
            "delivery_reports",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.campaign_visible(actor=actor)

    def resolve_state_label(self, info):
        return choice_label(CampaignState, self.state)

    def resolve_proposal_id(self, info):
        return encode_id("Proposal", self.proposal_id)

    def resolve_brand_a(self, info):
        return ProposalParty.of(self.brand_a)

    def resolve_brand_b(self, info):
        return ProposalParty.of(self.brand_b)

    def resolve_legs(self, info):
        return _legs_in_order(self)

    def resolve_delivery_reports(self, info):
        return delivery_reports_for(self)

    def resolve_metrics(self, info, granularity=selectors.Granularity.DAY.value):
        value = getattr(granularity, "value", granularity)
        metrics = selectors.campaign_metrics(campaign=self, granularity=value)
        metrics.legs.sort(key=lambda m: m.leg.promoter_id != self.brand_a_id)
        return CampaignMetrics.of(metrics)


def _legs_in_order(campaign: Campaign) -> list[CampaignLeg]:
    return sorted(campaign.legs.all(), key=lambda leg: leg.promoter_id != campaign.brand_a_id)


class CampaignQuery(graphene.ObjectType):
    campaigns = ScopedConnectionField(
        CampaignNode,
        description="Campaigns your brands are party to (admins: all), newest first.",
        state=CampaignStateEnum(),
        brand=graphene.ID(description="Only campaigns this brand is a party to."),
    )
    campaign = graphene.Field(CampaignNode, id=graphene.ID(required=True))

    def resolve_campaigns(root, info, state=None, brand=None, **kwargs):
        actor = actor_of(info)
        try:
            party = brand_for(actor, brand) if brand else None
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.campaign_list(actor=actor, state=getattr(state, "value", state), brand=party)

    def resolve_campaign(root, info, id):
        try:
            pk = decode_id(id, "Campaign", field="id")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.campaign_get(actor=actor_of(info), pk=pk)
