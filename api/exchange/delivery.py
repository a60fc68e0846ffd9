"""GraphQL of delivery reports (交付报告).

* ``DeliveryReport`` — what the promoting brand delivered on one campaign placement and the
  promoted brand's answer. Scoped like its campaign (the two brands' members and keys, platform
  admins: ``exchange.selectors.delivery_report_visible``). The proof image is never a storage
  URL: ``proofImageUrl`` points at the web app's access-checked view.
* Reads: ``deliveryReports(campaign:)``, ``deliveryReport(id:)`` and
  ``disputedDeliveryReports`` (a connection, oldest dispute first — for both brands' people and
  the platform's admins).
* Mutations: ``reportDelivery`` (the promoter; proof as an https link — the /graphql/ endpoint
  takes JSON only, so images are uploaded from the web page), ``confirmDelivery`` and
  ``disputeDelivery`` (the promoted side, within the answer window).
* ``delivery_reports_for(campaign)`` — for the Campaign type: its reports, from the prefetch of
  ``exchange.selectors.with_delivery_reports`` when the campaign list made one.
"""

from __future__ import annotations

import binascii

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from graphql_relay import from_global_id

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import decode_id, encode_id
from api.core.labels import choice_label
from api.core.mutations import BaseMutation
from api.core.scalars import BigInt, Money
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.types import PlacementNode, PricingUnitEnum, ProposalParty
from exchange import selectors, services, valuation
from exchange.models import Campaign, CampaignPlacement, DeliveryReport
from exchange.proofs import proof_version
from exchange.services.common import can_act_for
from exchange.states import DeliveryState, DisputeReason
from partners.actors import Actor
from partners.models import ApiKeyScope

DeliveryStateEnum = graphene.Enum.from_enum(
    DeliveryState, description="reported (awaiting the promoted side) → confirmed | disputed"
)
DisputeReasonEnum = graphene.Enum("DeliveryDisputeReason", [(r.name, r.value) for r in DisputeReason])


def delivery_reports_for(campaign: Campaign) -> list[DeliveryReport]:
    """A (visible) campaign's delivery reports, by leg and window, for the Campaign type. Uses
    the prefetch of ``selectors.with_delivery_reports`` when the campaign list made one (all
    their reports in one query); otherwise one joined query for this campaign."""
    if "delivery_reports" in getattr(campaign, "_prefetched_objects_cache", {}):
        reports = list(campaign.delivery_reports.all())
    else:
        reports = list(selectors.delivery_reports_of(campaign))
    return sorted(reports, key=lambda r: (r.placement.leg_id, r.placement.starts_at, r.placement_id))


class DeliveryReportNode(ScopedObjectType):
    """What the promoting brand delivered on one placement, and the promoted brand's answer."""

    campaign_id = graphene.ID(required=True, description="The Campaign ID.")
    placement = graphene.Field(PlacementNode, required=True, description="The accepted revision's placement.")
    campaign_placement_id = graphene.ID(required=True, description="The CampaignPlacement ID (reportDelivery).")
    promoter = graphene.Field(ProposalParty, required=True, description="The brand that delivered (and reports).")
    promoted = graphene.Field(ProposalParty, required=True, description="The brand promoted (it answers).")
    promised = BigInt(required=True, description="The promised quantity, in `unit`.")
    unit = graphene.Field(PricingUnitEnum, required=True)
    reach = BigInt(required=True, description="The delivered quantity reported, in `unit`.")
    value = graphene.Field(Money, required=True, description="`reach` at the placement's benchmark rate.")
    proof_image_url = graphene.String(
        description="The proof screenshot, served only to the parties and admins (an absolute URL); null without one."
    )
    state = graphene.Field(DeliveryStateEnum, required=True)
    state_label = graphene.String(required=True, description="`state` in the request's language.")
    dispute_reason = graphene.Field(DisputeReasonEnum)
    dispute_reason_label = graphene.String(description="`disputeReason` in the request's language.")
    can_answer = graphene.Boolean(
        required=True, description="True when the caller may confirm or dispute it now (promoted side, in time)."
    )

    class Meta:
        model = DeliveryReport
        name = "DeliveryReport"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "campaign_id",
            "placement",
            "campaign_placement_id",
            "promoter",
            "promoted",
            "promised",
            "unit",
            "reach",
            "value",
            "delivered_at",
            "proof_url",
            "proof_image_url",
            "note",
            "state",
            "state_label",
            "version",
            "reported_at",
            "confirm_due_at",
            "confirmed_at",
            "auto_confirmed",
            "disputed_at",
            "dispute_reason",
            "dispute_reason_label",
            "dispute_note",
            "can_answer",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.delivery_report_visible(actor=actor)

    def resolve_campaign_id(self, info):
        return encode_id("Campaign", self.campaign_id)

    def resolve_placement(self, info):
        return self.placement.placement

    def resolve_campaign_placement_id(self, info):
        return encode_id("CampaignPlacement", self.placement_id)

    def resolve_promoter(self, info):
        return ProposalParty.of(self.placement.leg.promoter)

    def resolve_promoted(self, info):
        return ProposalParty.of(self.placement.leg.promoted)

    def resolve_promised(self, info):
        return self.placement.placement.quantity

    def resolve_unit(self, info):
        return self.placement.placement.unit

    def resolve_value(self, info):
        p = self.placement.placement
        return Money.of(valuation.placement_value(self.reach, p.rate_cents, p.unit))

    def resolve_proof_image_url(self, info):
        if not self.proof_image:
            return None
        path = reverse("frontend:delivery_proof", args=[self.campaign_id, self.pk])
        return info.context.build_absolute_uri(f"{path}?v={proof_version(self.proof_image.name)}")

    def resolve_state_label(self, info):
        return choice_label(DeliveryState, self.state)

    def resolve_dispute_reason(self, info):
        return self.dispute_reason or None

    def resolve_dispute_reason_label(self, info):
        return choice_label(DisputeReason, self.dispute_reason)

    def resolve_can_answer(self, info):
        return (
            self.state == DeliveryState.REPORTED
            and timezone.now() < self.confirm_due_at
            and can_act_for(actor_of(info), self.placement.leg.promoted_id)
        )


# --- reads -------------------------------------------------------------------------------------
def _campaign_or_error(actor: Actor, global_id: str, field: str) -> Campaign | None:
    try:
        pk = decode_id(global_id, "Campaign", field=field)
    except ValidationError as exc:
        raise graphql_error_from(exc) from None
    return selectors.campaign_visible(actor=actor).filter(pk=pk).first()


class DeliveryQuery(graphene.ObjectType):
    delivery_reports = graphene.List(
        graphene.NonNull(DeliveryReportNode),
        required=True,
        campaign=graphene.ID(required=True),
        description="A campaign's delivery reports (empty for a campaign you are not party to).",
    )
    delivery_report = graphene.Field(DeliveryReportNode, id=graphene.ID(required=True))
    disputed_delivery_reports = ScopedConnectionField(
        DeliveryReportNode,
        description="Disputed delivery reports of your campaigns (admins: all), the longest-standing first.",
    )

    def resolve_delivery_reports(root, info, campaign):
        actor = actor_of(info)
        found = _campaign_or_error(actor, campaign, "campaign")
        if found is None:
            return []
        return list(selectors.delivery_report_list(actor=actor, campaign=found))

    def resolve_delivery_report(root, info, id):
        try:
            pk = decode_id(id, "DeliveryReport", field="id")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.delivery_report_get(actor=actor_of(info), pk=pk)

    def resolve_disputed_delivery_reports(root, info, **kwargs):
        return selectors.disputed_delivery_list(actor=actor_of(info))


# --- mutations ---------------------------------------------------------------------------------
def _not_found(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=ApiError.NOT_FOUND)})


def _campaign_placement(actor: Actor, global_id: str) -> CampaignPlacement:
    """A CampaignPlacement ID, or the accepted revision's Placement ID (what a proposal shows),
    of a campaign the caller may see."""
    try:
        type_name = from_global_id(str(global_id or ""))[0]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        type_name = ""  # decode_id below says what is wrong with it
    visible = CampaignPlacement.objects.filter(leg__campaign__in=selectors.campaign_visible(actor=actor).values("pk"))
    if type_name == "Placement":
        found = visible.filter(placement_id=decode_id(global_id, "Placement", field="placement")).first()
    else:
        found = visible.filter(pk=decode_id(global_id, "CampaignPlacement", field="placement")).first()
    if found is None:
        raise _not_found("placement", _("No such campaign placement."))
    return found


def _report(actor: Actor, global_id: str) -> DeliveryReport:
    report = selectors.delivery_report_get(actor=actor, pk=decode_id(global_id, "DeliveryReport", field="report"))
    if report is None:
        raise _not_found("report", _("No such delivery report."))
    return report


def _fresh(actor: Actor, report: DeliveryReport) -> DeliveryReport | None:
    return selectors.delivery_report_get(actor=actor, pk=report.pk)


class ReportDelivery(BaseMutation):
    """Report what your brand delivered on a placement it promotes (or correct a report that is
    awaiting an answer or disputed): reach, when, and proof. The other side then has
    EXCHANGE_DELIVERY_CONFIRM_DAYS to confirm or dispute; silence confirms."""

    scope = ApiKeyScope.EVENTS_WRITE  # what a shop or CRM key may hold alone

    report = graphene.Field(DeliveryReportNode)

    class Arguments:
        placement = graphene.ID(required=True, description="A CampaignPlacement ID, or the accepted Placement's ID.")
        reach = BigInt(required=True, description="Delivered quantity, in the placement's unit.")
        delivered_at = graphene.DateTime(required=True, description="ISO 8601; without an offset, Asia/Shanghai.")
        proof_url = graphene.String(description="An https link to the post, message or screenshot.")
        note = graphene.String()

    @classmethod
    def perform(cls, actor, info, placement, reach, delivered_at, proof_url="", note=""):
        target = _campaign_placement(actor, placement)
        if timezone.is_naive(delivered_at):
            delivered_at = timezone.make_aware(delivered_at, timezone.get_default_timezone())
        report = services.delivery_report(
            actor=actor,
            placement=target,
            reach=reach,
            delivered_at=delivered_at,
            proof_url=proof_url or "",
            note=note or "",
        )
        return {"report": _fresh(actor, report)}


class ConfirmDelivery(BaseMutation):
    """Confirm a delivery report on a placement promoting your brand."""

    scope = ApiKeyScope.EVENTS_WRITE  # what a shop or CRM key may hold alone

    report = graphene.Field(DeliveryReportNode)

    class Arguments:
        report = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, report):
        done = services.delivery_confirm(actor=actor, report=_report(actor, report))
        return {"report": _fresh(actor, done)}


class DisputeDelivery(BaseMutation):
    """Dispute a delivery report on a placement promoting your brand, with a reason (``note``
    is required for OTHER). A disputed report holds the campaign open."""

    scope = ApiKeyScope.EVENTS_WRITE  # what a shop or CRM key may hold alone

    report = graphene.Field(DeliveryReportNode)

    class Arguments:
        report = graphene.ID(required=True)
        reason = DisputeReasonEnum(required=True)
        note = graphene.String()

    @classmethod
    def perform(cls, actor, info, report, reason, note=""):
        done = services.delivery_dispute(
            actor=actor, report=_report(actor, report), reason=getattr(reason, "value", reason), note=note or ""
        )
        return {"report": _fresh(actor, done)}
