"""GraphQL of disputes (争议).

* ``Dispute`` — one side's challenge of a delivery report or of a campaign's result, the other
  side's answer, both sides' evidence and the platform's decision. Scoped to the campaign's two
  brands (members and keys) and platform admins (``exchange.selectors.dispute_visible``).
  ``DisputeEvidence.fileUrl`` points at the web app's access-checked view, never at storage.
* Reads: ``disputes(state:, campaign:, first:)`` (a connection, newest first) and
  ``dispute(id:)``.
* Mutations (scope ``write``): ``openDispute``, ``answerDispute``, ``addDisputeEvidence``,
  ``withdrawDispute`` for the parties; ``resolveDispute`` for platform admins. Evidence is
  given as https links here — the /graphql/ endpoint takes JSON only, so files are uploaded
  from the web pages.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.urls import reverse
from django.utils.translation import gettext as _

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import decode_id, encode_id
from api.core.labels import choice_label
from api.core.mutations import BaseMutation, Permission
from api.core.scalars import BigInt
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.types import ProposalParty
from exchange import selectors, services
from exchange.models import DeliveryReport, Dispute, DisputeEvidence, DisputeOutcome, DisputeState, DisputeSubject
from exchange.services.disputes import ResultReason, reason_label
from exchange.states import DisputeReason
from partners.actors import Actor

DisputeStateEnum = graphene.Enum.from_enum(
    DisputeState, description="open → answered → resolved; open or answered → withdrawn"
)
DisputeSubjectEnum = graphene.Enum.from_enum(DisputeSubject)
DisputeOutcomeEnum = graphene.Enum.from_enum(DisputeOutcome)
_REASONS = {**{r.name: r.value for r in DisputeReason}, **{r.name: r.value for r in ResultReason}}
DisputeReasonEnum = graphene.Enum(
    "DisputeReason",
    list(_REASONS.items()),
    description="Delivery reasons (as for disputeDelivery) for a delivery report; FIGURES_WRONG, "
    "DELIVERIES_MISSING or OTHER for a result.",
)


class DisputeEvidenceNode(ScopedObjectType):
    """One piece of evidence: a file (served to the parties and admins only) and/or a link."""

    side = graphene.Field(ProposalParty, required=True, description="The brand that added it.")
    file_url = graphene.String(description="An absolute URL of the access-checked file; null without one.")

    class Meta:
        model = DisputeEvidence
        name = "DisputeEvidence"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "side", "file_url", "url", "note", "created_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.dispute_evidence_visible(actor=actor)

    def resolve_side(self, info):
        return ProposalParty.of(self.brand)

    def resolve_file_url(self, info):
        if not self.file:
            return None
        return info.context.build_absolute_uri(reverse("frontend:dispute_evidence", args=[self.dispute_id, self.pk]))


class DisputeNode(ScopedObjectType):
    """A dispute between the two brands of a campaign, and the platform's decision."""

    campaign_id = graphene.ID(required=True, description="The Campaign ID.")
    report_id = graphene.ID(description="The DeliveryReport ID (subject DELIVERY); null for a result.")
    subject = graphene.Field(DisputeSubjectEnum, required=True)
    opened_by = graphene.Field(ProposalParty, required=True)
    respondent = graphene.Field(ProposalParty, required=True)
    reason = graphene.String(required=True, description="The reason's code (see the DisputeReason enum).")
    reason_label = graphene.String(required=True, description="`reason` in the request's language.")
    state = graphene.Field(DisputeStateEnum, required=True)
    state_label = graphene.String(required=True)
    outcome = graphene.Field(DisputeOutcomeEnum)
    evidence = graphene.List(graphene.NonNull(DisputeEvidenceNode), required=True)
    adjustment = graphene.JSONString(
        required=True, description='What the decision changed: {"reports": {"<pk>": {"before", "after"}}, …}.'
    )

    class Meta:
        model = Dispute
        name = "Dispute"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "campaign_id",
            "report_id",
            "subject",
            "opened_by",
            "respondent",
            "reason",
            "reason_label",
            "statement",
            "state",
            "state_label",
            "opened_at",
            "answer",
            "answered_at",
            "outcome",
            "decision",
            "adjustment",
            "resolved_at",
            "evidence",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.dispute_visible(actor=actor)

    def resolve_campaign_id(self, info):
        return encode_id("Campaign", self.campaign_id)

    def resolve_report_id(self, info):
        return encode_id("DeliveryReport", self.delivery_report_id) if self.delivery_report_id else None

    def resolve_opened_by(self, info):
        return ProposalParty.of(self.opened_by)

    def resolve_respondent(self, info):
        return ProposalParty.of(self.respondent)

    def resolve_reason_label(self, info):
        return reason_label(self.reason)

    def resolve_state_label(self, info):
        return choice_label(DisputeState, self.state)

    def resolve_outcome(self, info):
        return self.outcome or None

    def resolve_evidence(self, info):
        return list(self.evidence.all())  # prefetched by selectors.dispute_visible

    def resolve_adjustment(self, info):
        return self.adjustment or {}


# --- reads -------------------------------------------------------------------------------------
class DisputeQuery(graphene.ObjectType):
    disputes = ScopedConnectionField(
        DisputeNode,
        state=DisputeStateEnum(),
        campaign=graphene.ID(),
        description="Disputes of your campaigns (admins: all), newest first.",
    )
    dispute = graphene.Field(DisputeNode, id=graphene.ID(required=True))

    def resolve_disputes(root, info, state=None, campaign=None, **kwargs):
        actor = actor_of(info)
        found = None
        if campaign is not None:
            try:
                pk = decode_id(campaign, "Campaign", field="campaign")
            except ValidationError as exc:
                raise graphql_error_from(exc) from None
            found = selectors.campaign_visible(actor=actor).filter(pk=pk).first()
            if found is None:
                return selectors.dispute_visible(actor=actor).none()
        return selectors.dispute_list(actor=actor, state=getattr(state, "value", state), campaign=found)

    def resolve_dispute(root, info, id):
        try:
            pk = decode_id(id, "Dispute", field="id")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return selectors.dispute_get(actor=actor_of(info), pk=pk)


# --- mutations ---------------------------------------------------------------------------------
class EvidenceLinkInput(graphene.InputObjectType):
    url = graphene.String(required=True, description="An https link.")
    note = graphene.String()


class AdjustmentInput(graphene.InputObjectType):
    report = graphene.ID(required=True, description="A DeliveryReport ID of the dispute's campaign.")
    reach = BigInt(required=True, description="The decided delivered quantity, in the placement's unit.")


def _not_found(field: str, message: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=ApiError.NOT_FOUND)})


def _dispute(actor: Actor, global_id: str):
    found = selectors.dispute_get(actor=actor, pk=decode_id(global_id, "Dispute", field="dispute"))
    if found is None:
        raise _not_found("dispute", _("No such dispute."))
    return found


def _links(evidence) -> list[dict]:
    return [{"url": e.url or "", "note": e.note or ""} for e in (evidence or [])]


def _fresh(actor: Actor, d):
    return selectors.dispute_get(actor=actor, pk=d.pk)


class OpenDispute(BaseMutation):
    """Open a dispute on a delivery report of your campaign (``report``) or on the campaign's
    result (no ``report``; within 14 days of completion), with a statement and links."""

    dispute = graphene.Field(DisputeNode)

    class Arguments:
        campaign = graphene.ID(required=True)
        report = graphene.ID(description="A DeliveryReport ID; omit it to dispute the result.")
        reason = DisputeReasonEnum(required=True)
        statement = graphene.String(required=True)
        evidence = graphene.List(graphene.NonNull(EvidenceLinkInput))

    @classmethod
    def perform(cls, actor, info, campaign, reason, statement, report=None, evidence=None):
        found = selectors.campaign_visible(actor=actor).filter(pk=decode_id(campaign, "Campaign", field="campaign"))
        found = found.first()
        if found is None:
            raise _not_found("campaign", _("No such campaign."))
        target = None
        if report is not None:
            target = selectors.delivery_report_get(actor=actor, pk=decode_id(report, "DeliveryReport", field="report"))
            if target is None or target.campaign_id != found.pk:
                raise _not_found("report", _("No such delivery report."))
        d = services.dispute_open(
            actor=actor,
            campaign=found,
            subject=DisputeSubject.DELIVERY if target is not None else DisputeSubject.RESULT,
            delivery_report=target if isinstance(target, DeliveryReport) else None,
            reason=getattr(reason, "value", reason),
            statement=statement,
            evidence=_links(evidence),
        )
        return {"dispute": _fresh(actor, d)}


class AnswerDispute(BaseMutation):
    """The responding brand's answer (once), with links."""

    dispute = graphene.Field(DisputeNode)

    class Arguments:
        dispute = graphene.ID(required=True)
        answer = graphene.String(required=True)
        evidence = graphene.List(graphene.NonNull(EvidenceLinkInput))

    @classmethod
    def perform(cls, actor, info, dispute, answer, evidence=None):
        d = services.dispute_answer(
            actor=actor, dispute=_dispute(actor, dispute), answer=answer, evidence=_links(evidence)
        )
        return {"dispute": _fresh(actor, d)}


class AddDisputeEvidence(BaseMutation):
    """Either side adds links while the dispute is open."""

    dispute = graphene.Field(DisputeNode)

    class Arguments:
        dispute = graphene.ID(required=True)
        evidence = graphene.List(graphene.NonNull(EvidenceLinkInput), required=True)

    @classmethod
    def perform(cls, actor, info, dispute, evidence):
        d = _dispute(actor, dispute)
        services.dispute_evidence_add(actor=actor, dispute=d, evidence=_links(evidence))
        return {"dispute": _fresh(actor, d)}


class WithdrawDispute(BaseMutation):
    """The opening brand withdraws its dispute (nothing is adjusted)."""

    dispute = graphene.Field(DisputeNode)

    class Arguments:
        dispute = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, dispute):
        d = services.dispute_withdraw(actor=actor, dispute=_dispute(actor, dispute))
        return {"dispute": _fresh(actor, d)}


class ResolveDispute(BaseMutation):
    """Decide a dispute (platform admins): UPHELD with the corrected reach of the disputed
    reports (posted as ledger reversals and corrections), or REJECTED (the figures stand)."""

    permission = Permission.ADMIN
    dispute = graphene.Field(DisputeNode)

    class Arguments:
        dispute = graphene.ID(required=True)
        outcome = DisputeOutcomeEnum(required=True)
        decision = graphene.String(required=True, description="The written decision both sides read.")
        adjustments = graphene.List(graphene.NonNull(AdjustmentInput))

    @classmethod
    def perform(cls, actor, info, dispute, outcome, decision, adjustments=None):
        changes = {decode_id(a.report, "DeliveryReport", field="adjustments"): a.reach for a in (adjustments or [])}
        d = services.dispute_resolve(
            actor=actor,
            dispute=_dispute(actor, dispute),
            outcome=getattr(outcome, "value", outcome),
            decision=decision,
            adjustments=changes,
        )
        return {"dispute": _fresh(actor, d)}
