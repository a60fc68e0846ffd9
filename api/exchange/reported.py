"""GraphQL of coupons and partner-reported events: the ``ReportedEvent`` and ``CouponBatch``
types, the ``reportedEvents`` / ``couponBatch`` reads, and the mutations ``reportConversions``,
``reportNewMembers``, ``reverseReportedEvent`` and ``generateCoupons``.

* A report answers every row: ``accepted { index externalId duplicate event }`` — ``duplicate``
  true when the row was already stored by an earlier identical report (not counted again), so a
  client retrying after a timeout can tell "new" from "already had it" — and
  ``rejected { index externalId code message }``. ``errors`` is for the batch as a whole (not
  your brand, too many rows): then nothing was stored.
* ``CouponBatch`` carries counts and, for the two parties only, ``downloadUrl`` (the CSV page,
  which checks the same rule). The codes themselves never travel through GraphQL: thousands of
  redeemable values belong in a file the parties download, not in every API response.
* ``coupon_batches_for(placement)`` and ``reported_events_for(campaign)`` are the helpers a
  Campaign type resolves its fields with (annotated/prefetched: constant queries per list).
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import brand_for, decode_id, encode_id
from api.core.labels import choice_label
from api.core.mutations import BaseMutation
from api.core.scalars import BigInt, Money
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.types import ProposalParty
from exchange import selectors, services
from exchange.models import (
    AttributionKind,
    CampaignPlacement,
    CouponBatch,
    ReportedEvent,
    ReportedKind,
    ReportedState,
    ReverseReason,
)
from exchange.services.common import can_act_for
from exchange.services.coupons import can_download_codes
from exchange.services.reported import screening_ends
from partners.actors import Actor
from partners.models import ApiKeyScope

ReportedKindEnum = graphene.Enum.from_enum(ReportedKind, description="An order (conversion) or a new member.")
ReportedStateEnum = graphene.Enum.from_enum(
    ReportedState, description="pending (screening; the reporter may reverse it) → confirmed | reversed"
)
ReverseReasonEnum = graphene.Enum.from_enum(ReverseReason)
AttributionKindEnum = graphene.Enum.from_enum(AttributionKind)


def _value(enum_value):
    return getattr(enum_value, "value", enum_value)


# --- resolver helpers for the Campaign type ------------------------------------------------------
# ``coupon_batches_for(placement_or_campaign)`` and ``reported_events_for(campaign)`` live in
# exchange.selectors (the web pages use them too) and are re-exported here for the Campaign type.
coupon_batches_for = selectors.coupon_batches_for
reported_events_for = selectors.reported_events_for


# --- types -------------------------------------------------------------------------------------
class ReportedEventNode(ScopedObjectType):
    """An order or new member reported by the brand a campaign leg promoted, with its state.
    Both brands of the campaign see every row, its state and its reversal reason."""

    kind = graphene.Field(ReportedKindEnum, required=True)
    state = graphene.Field(ReportedStateEnum, required=True)
    state_label = graphene.String(required=True, description="`state` in the request's language.")
    reversed_reason = graphene.Field(ReverseReasonEnum)
    reversed_reason_label = graphene.String(description="`reversedReason` in the request's language.")
    amount = graphene.Field(Money, description="Orders only.")
    attribution = graphene.Field(AttributionKindEnum, required=True)
    attribution_value = graphene.String(required=True, description="The click id, coupon or tracking code given.")
    campaign_id = graphene.ID(required=True, description="The Campaign ID.")
    reporter = graphene.Field(ProposalParty, required=True, description="The brand that reported it (promoted).")
    promoter = graphene.Field(ProposalParty, required=True, description="The brand whose audience brought it.")
    tracking_code = graphene.String(required=True, description="The code of the credited tracking link.")
    screening_ends_at = graphene.DateTime(required=True, description="Until then the reporter may reverse it.")
    can_reverse = graphene.Boolean(required=True, description="Whether the caller may reverse it now.")

    class Meta:
        model = ReportedEvent
        name = "ReportedEvent"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "kind",
            "state",
            "state_label",
            "reversed_reason",
            "reversed_reason_label",
            "external_id",
            "amount",
            "occurred_at",
            "attribution",
            "attribution_value",
            "campaign_id",
            "reporter",
            "promoter",
            "tracking_code",
            "created_at",
            "confirmed_at",
            "reversed_at",
            "screening_ends_at",
            "can_reverse",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.reported_event_visible(actor=actor)

    def resolve_state_label(self, info):
        return choice_label(ReportedState, self.state)

    def resolve_reversed_reason(self, info):
        return self.reversed_reason or None

    def resolve_reversed_reason_label(self, info):
        return choice_label(ReverseReason, self.reversed_reason)

    def resolve_amount(self, info):
        return None if self.amount_cents is None else Money.of(self.amount_cents, self.currency or "CNY")

    def resolve_campaign_id(self, info):
        return encode_id("Campaign", self.campaign_id)

    def resolve_reporter(self, info):
        return ProposalParty.of(self.brand)

    def resolve_promoter(self, info):
        return ProposalParty.of(self.leg.promoter)

    def resolve_tracking_code(self, info):
        return self.link.code

    def resolve_screening_ends_at(self, info):
        return screening_ends(self)

    def resolve_can_reverse(self, info):
        return (
            self.state == ReportedState.PENDING
            and timezone.now() < screening_ends(self)
            and can_act_for(actor_of(info), self.brand_id)
        )


class CouponBatchNode(ScopedObjectType):
    """The coupon codes of one campaign placement: counts for everyone who sees the campaign,
    the CSV download for its two brands."""

    placement_id = graphene.ID(required=True, description="The CampaignPlacement ID.")
    size = BigInt(required=True, description="How many codes the batch holds.")
    redeemed_count = BigInt(required=True)
    download_url = graphene.String(description="The CSV of the codes (path on this site); null unless you are a party.")

    class Meta:
        model = CouponBatch
        name = "CouponBatch"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "placement_id", "size", "redeemed_count", "download_url", "created_at", "updated_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.coupon_batch_visible(actor=actor)

    def resolve_placement_id(self, info):
        return encode_id("CampaignPlacement", self.placement_id)

    def resolve_redeemed_count(self, info):
        total = getattr(self, "redeemed_total", None)
        if total is None:
            total = self.coupons.filter(redeemed_at__isnull=False).count()
        return total

    def resolve_download_url(self, info):
        if not can_download_codes(actor_of(info), self.leg.campaign):
            return None
        return reverse(
            "frontend:campaign_coupons_csv", kwargs={"pk": self.leg.campaign_id, "placement": self.placement_id}
        )


# --- reads ---------------------------------------------------------------------------------------
def _placement(actor, global_id: str, field: str = "placement") -> CampaignPlacement:
    pk = decode_id(global_id, "CampaignPlacement", field=field)
    placement = selectors.campaign_placement_get(actor=actor, pk=pk)
    if placement is None:
        raise ValidationError({field: ValidationError(_("No such campaign placement."), code=ApiError.NOT_FOUND)})
    return placement


class ReportedQuery(graphene.ObjectType):
    reported_events = ScopedConnectionField(
        ReportedEventNode,
        description="Orders and new members reported on your campaigns (both sides), newest first.",
        campaign=graphene.ID(description="Only this campaign's."),
        kind=ReportedKindEnum(),
        state=ReportedStateEnum(),
    )
    coupon_batch = graphene.Field(
        CouponBatchNode,
        placement=graphene.ID(required=True, description="A CampaignPlacement ID."),
        description="A campaign placement's coupon batch (null: none yet, or not yours to see).",
    )

    def resolve_reported_events(root, info, campaign=None, kind=None, state=None, **kwargs):
        actor = actor_of(info)
        target = None
        if campaign:
            try:
                pk = decode_id(campaign, "Campaign", field="campaign")
            except ValidationError as exc:
                raise graphql_error_from(exc) from None
            target = selectors.campaign_get(actor=actor, pk=pk)
            if target is None:
                return ReportedEvent.objects.none()
        return selectors.reported_event_list(
            actor=actor, campaign=target, kind=_value(kind), state=_value(state)
        ).select_related("leg__promoter")

    def resolve_coupon_batch(root, info, placement):
        actor = actor_of(info)
        try:
            pk = decode_id(placement, "CampaignPlacement", field="placement")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        cp = selectors.campaign_placement_get(actor=actor, pk=pk)
        if cp is None:
            return None
        return CouponBatchNode.get_queryset(coupon_batches_for(cp), info).first()


# --- mutations -----------------------------------------------------------------------------------
class ConversionInput(graphene.InputObjectType):
    """One order. Attribute it with exactly one of ``clickId`` (the ``hl_click`` your landing
    page received), ``couponCode`` or ``trackingCode``."""

    external_id = graphene.String(required=True, description="Your order id (idempotency key, ≤ 128 characters).")
    amount_cents = BigInt(required=True, description="In the currency's minor unit (fen for CNY), 0 or more.")
    currency = graphene.String(required=True, description="ISO 4217, e.g. CNY.")
    occurred_at = graphene.String(required=True, description="ISO 8601 with offset, e.g. 2026-12-01T20:15:00+08:00.")
    click_id = graphene.String()
    coupon_code = graphene.String()
    tracking_code = graphene.String()


class NewMemberInput(graphene.InputObjectType):
    """Someone who joined your WeCom, group or membership through the swap. ``externalId`` is
    your own hash of the member id (never the raw id)."""

    external_id = graphene.String(required=True, description="Your hash of the member id (≤ 128 characters).")
    occurred_at = graphene.String(required=True, description="ISO 8601 with offset.")
    click_id = graphene.String()
    coupon_code = graphene.String()
    tracking_code = graphene.String()


class AcceptedRow(graphene.ObjectType):
    index = graphene.Int(required=True, description="The row's position in `rows` (0-based).")
    external_id = graphene.String(required=True)
    duplicate = graphene.Boolean(
        required=True, description="True: already stored by an earlier identical report; not counted again."
    )
    event = graphene.Field(ReportedEventNode, required=True)


class RejectedRow(graphene.ObjectType):
    index = graphene.Int(required=True)
    external_id = graphene.String(required=True)
    code = graphene.String(required=True, description="Why (invalid_amount, unknown_click, conflict …).")
    message = graphene.String(required=True)


def _rows(rows) -> list[dict]:
    return [dict(row) for row in rows or []]


class _Report(BaseMutation):
    class Meta:
        abstract = True

    accepted = graphene.List(graphene.NonNull(AcceptedRow), required=True)
    rejected = graphene.List(graphene.NonNull(RejectedRow), required=True)
    new_count = graphene.Int(required=True, description="Accepted rows that were new (not duplicates).")

    scope = ApiKeyScope.EVENTS_WRITE  # a shop or CRM system's key reports and needs nothing else
    service = None

    @classmethod
    def failed(cls, info, errors):
        return cls(errors=errors, accepted=[], rejected=[], new_count=0)

    @classmethod
    def perform(cls, actor, info, brand, rows):
        own = brand_for(actor, brand)
        result = cls.service(actor=actor, brand=own, rows=_rows(rows))
        return {
            "accepted": [
                AcceptedRow(index=a.index, external_id=a.external_id, duplicate=a.duplicate, event=a.event)
                for a in result.accepted
            ],
            "rejected": [
                RejectedRow(index=r.index, external_id=r.external_id, code=str(r.code), message=str(r.message))
                for r in result.rejected
            ],
            "new_count": result.new,
        }


class ReportConversions(_Report):
    """Report orders your brand got from a swap (≤ 500 rows). Idempotent on ``externalId``."""

    class Arguments:
        brand = graphene.ID(required=True, description="Your brand (the promoted side of the leg).")
        rows = graphene.List(graphene.NonNull(ConversionInput), required=True)

    service = staticmethod(services.conversions_report)


class ReportNewMembers(_Report):
    """Report new members your brand got from a swap (≤ 500 rows). Idempotent on ``externalId``."""

    class Arguments:
        brand = graphene.ID(required=True, description="Your brand (the promoted side of the leg).")
        rows = graphene.List(graphene.NonNull(NewMemberInput), required=True)

    service = staticmethod(services.new_members_report)


class ReverseReportedEvent(BaseMutation):
    """Reverse one of your pending reports (refund, member left …) during its screening period."""

    scope = ApiKeyScope.EVENTS_WRITE
    event = graphene.Field(ReportedEventNode)

    class Arguments:
        event = graphene.ID(required=True, description="A ReportedEvent ID.")
        reason = ReverseReasonEnum(required=True)

    @classmethod
    def perform(cls, actor, info, event, reason):
        pk = decode_id(event, "ReportedEvent", field="event")
        target = selectors.reported_event_visible(actor=actor).filter(pk=pk).first()
        if target is None:
            raise ValidationError({"event": ValidationError(_("No such reported event."), code=ApiError.NOT_FOUND)})
        services.reported_event_reverse(actor=actor, event=target, reason=_value(reason))
        return {"event": selectors.reported_event_visible(actor=actor).get(pk=pk)}


class GenerateCoupons(BaseMutation):
    """Create (or grow to ``size``) the coupon batch of a placement promoting your brand."""

    scope = ApiKeyScope.WRITE  # campaign set-up, like the landing page: not an event report
    coupon_batch = graphene.Field(CouponBatchNode)

    class Arguments:
        placement = graphene.ID(required=True, description="A CampaignPlacement ID.")
        size = graphene.Int(required=True, description="How many codes in all (at most the platform's cap).")

    @classmethod
    def perform(cls, actor, info, placement, size):
        target = _placement(actor, placement)
        batch = services.coupon_batch_generate(actor=actor, placement=target, size=size)
        return {"coupon_batch": coupon_batches_for(target).get(pk=batch.pk)}


class ReportedMutation(graphene.ObjectType):
    report_conversions = ReportConversions.Field()
    report_new_members = ReportNewMembers.Field()
    reverse_reported_event = ReverseReportedEvent.Field()
    generate_coupons = GenerateCoupons.Field()
