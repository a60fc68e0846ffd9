"""Write side of the exchange: one mutation per operation, each one service call. The services
decide who may act (the side whose turn it is, the initiator for a withdrawal) and validate;
their error codes reach ``errors { field code message }`` and nothing changes on error."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from api.core.errors import ApiError
from api.core.ids import brand_for, decode_id
from api.core.mutations import BaseMutation, Permission
from api.core.scalars import BigInt
from api.exchange.delivery import ConfirmDelivery, DisputeDelivery, ReportDelivery
from api.exchange.disputes import AddDisputeEvidence, AnswerDispute, OpenDispute, ResolveDispute, WithdrawDispute
from api.exchange.inputs import AskInput, PlacementInput, asks_list, placement_specs
from api.exchange.reported import ReportedMutation
from api.exchange.types import (
    ChannelRateNode,
    ChannelTypeEnum,
    DeclineReasonEnum,
    PlacementFormatEnum,
    ProposalMessageNode,
    ProposalNode,
)
from api.exchange.webhooks import WebhooksMutation
from exchange import selectors, services


def _proposal(actor, global_id: str):
    pk = decode_id(global_id, "Proposal", field="proposal")
    proposal = selectors.proposal_get(actor=actor, pk=pk)
    if proposal is None:
        raise ValidationError({"proposal": ValidationError(_("No such proposal."), code=ApiError.NOT_FOUND)})
    return proposal


def _fresh(actor, proposal):
    return selectors.proposal_get(actor=actor, pk=proposal.pk)


class ProposeSwap(BaseMutation):
    """Propose a swap from your brand to ``counterparty``: your placements, optionally what you
    would like in return (``asks``) and a cash top-up if you are the lighter side."""

    proposal = graphene.Field(ProposalNode)

    class Arguments:
        brand = graphene.ID(required=True, description="Your brand.")
        counterparty = graphene.ID(required=True)
        placements = graphene.List(graphene.NonNull(PlacementInput), required=True)
        asks = graphene.List(graphene.NonNull(AskInput))
        message = graphene.String()
        topup_cents = BigInt()

    @classmethod
    def perform(cls, actor, info, brand, counterparty, placements, asks=None, message="", topup_cents=0):
        own = brand_for(actor, brand)
        other = brand_for(actor, counterparty, field="counterparty")
        proposal = services.proposal_create(
            actor=actor,
            brand=own,
            counterparty=other,
            placements=placement_specs(placements),
            asks=asks_list(asks),
            message=message or "",
            topup_cents=topup_cents or 0,
        )
        return {"proposal": _fresh(actor, proposal)}


class CounterProposal(BaseMutation):
    """Answer with a new revision (it must be your turn, and ``revision`` the number you saw)."""

    proposal = graphene.Field(ProposalNode)

    class Arguments:
        proposal = graphene.ID(required=True)
        revision = graphene.Int(required=True, description="The revisionNumber you are answering.")
        placements = graphene.List(graphene.NonNull(PlacementInput), required=True)
        asks = graphene.List(graphene.NonNull(AskInput))
        message = graphene.String()
        topup_cents = BigInt()

    @classmethod
    def perform(cls, actor, info, proposal, revision, placements, asks=None, message="", topup_cents=0):
        target = _proposal(actor, proposal)
        services.proposal_counter(
            actor=actor,
            proposal=target,
            revision=revision,
            placements=placement_specs(placements),
            asks=asks_list(asks),
            message=message or "",
            topup_cents=topup_cents or 0,
        )
        return {"proposal": _fresh(actor, target)}


class AcceptProposal(BaseMutation):
    """Accept the current revision (your turn; ``revision`` is the number you saw)."""

    proposal = graphene.Field(ProposalNode)

    class Arguments:
        proposal = graphene.ID(required=True)
        revision = graphene.Int(required=True)

    @classmethod
    def perform(cls, actor, info, proposal, revision):
        target = _proposal(actor, proposal)
        services.proposal_accept(actor=actor, proposal=target, revision=revision)
        return {"proposal": _fresh(actor, target)}


class DeclineProposal(BaseMutation):
    """Decline (your turn), with a reason; ``note`` is required for OTHER."""

    proposal = graphene.Field(ProposalNode)

    class Arguments:
        proposal = graphene.ID(required=True)
        revision = graphene.Int(required=True)
        reason = DeclineReasonEnum(required=True)
        note = graphene.String()

    @classmethod
    def perform(cls, actor, info, proposal, revision, reason, note=""):
        target = _proposal(actor, proposal)
        services.proposal_decline(
            actor=actor, proposal=target, revision=revision, reason=getattr(reason, "value", reason), note=note or ""
        )
        return {"proposal": _fresh(actor, target)}


class WithdrawProposal(BaseMutation):
    """Withdraw your proposal while it is open (the initiator only)."""

    proposal = graphene.Field(ProposalNode)

    class Arguments:
        proposal = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, proposal):
        target = _proposal(actor, proposal)
        services.proposal_withdraw(actor=actor, proposal=target)
        return {"proposal": _fresh(actor, target)}


class SendProposalMessage(BaseMutation):
    """Write in a proposal's thread (either party)."""

    message = graphene.Field(ProposalMessageNode)

    class Arguments:
        proposal = graphene.ID(required=True)
        body = graphene.String(required=True)

    @classmethod
    def perform(cls, actor, info, proposal, body):
        target = _proposal(actor, proposal)
        return {"message": services.proposal_message_send(actor=actor, proposal=target, body=body)}


class MarkNotificationsRead(BaseMutation):
    """Mark your inbox read: the given notifications, or all of them."""

    permission = Permission.USER
    count = graphene.Int(required=True, description="How many changed (0 when refused: see errors).")

    class Arguments:
        ids = graphene.List(graphene.NonNull(graphene.ID), description="Notification IDs; omit for all.")

    @classmethod
    def failed(cls, info, errors):
        return cls(errors=errors, count=0)  # refused: nothing changed (count is non-null)

    @classmethod
    def perform(cls, actor, info, ids=None):
        pks = None if ids is None else [decode_id(i, "Notification", field="ids") for i in ids]
        return {"count": services.notifications_mark_read(actor=actor, ids=pks)}


class SetChannelRate(BaseMutation):
    """Set the benchmark rate of a (channel type, format) — platform admins; audited. Proposals
    already written keep the rate they were valued with."""

    permission = Permission.ADMIN
    channel_rate = graphene.Field(ChannelRateNode)

    class Arguments:
        channel_type = ChannelTypeEnum(required=True)
        format = PlacementFormatEnum(required=True)
        rate_cents = BigInt(required=True, description="Cents per 1,000 units (per store-day for in-store).")
        source = graphene.String(description="Where the figure comes from.")

    @classmethod
    def perform(cls, actor, info, channel_type, format, rate_cents, source=""):
        rate = services.channel_rate_set(
            actor=actor,
            channel_type=getattr(channel_type, "value", channel_type),
            format=getattr(format, "value", format),
            rate_cents=rate_cents,
            source=source or "",
        )
        return {"channel_rate": rate}


# Coupons and partner-reported events (api/exchange/reported.py) and webhooks
# (api/exchange/webhooks.py) compose in as mixins.
class ExchangeMutation(ReportedMutation, WebhooksMutation, graphene.ObjectType):
    propose_swap = ProposeSwap.Field()
    counter_proposal = CounterProposal.Field()
    accept_proposal = AcceptProposal.Field()
    decline_proposal = DeclineProposal.Field()
    withdraw_proposal = WithdrawProposal.Field()
    send_proposal_message = SendProposalMessage.Field()
    mark_notifications_read = MarkNotificationsRead.Field()
    set_channel_rate = SetChannelRate.Field()
    # delivery reports (api/exchange/delivery.py)
    report_delivery = ReportDelivery.Field()
    confirm_delivery = ConfirmDelivery.Field()
    dispute_delivery = DisputeDelivery.Field()
    # disputes (api/exchange/disputes.py)
    open_dispute = OpenDispute.Field()
    answer_dispute = AnswerDispute.Field()
    add_dispute_evidence = AddDisputeEvidence.Field()
    withdraw_dispute = WithdrawDispute.Field()
    resolve_dispute = ResolveDispute.Field()
