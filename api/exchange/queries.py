"""Read side of the exchange: channel rates, proposals (a filtered connection and one by id),
the caller's inbox, and a dry-run valuation of a draft (the composer's balance meter)."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError

from api.core.errors import Error, graphql_error_from
from api.core.ids import brand_for, decode_id
from api.core.scalars import BigInt, Money
from api.core.types import ScopedConnectionField, actor_of
from api.exchange.inputs import PlacementInput, placement_specs
from api.exchange.reported import ReportedQuery
from api.exchange.types import (
    Balance,
    ChannelRateNode,
    NotificationNode,
    ProposalNode,
    ProposalStateEnum,
    Suggestion,
)
from api.exchange.webhooks import WebhooksQuery
from exchange import selectors, services
from exchange.models import Proposal


class ProposalDirection(graphene.Enum):
    INCOMING = selectors.Direction.INCOMING
    OUTGOING = selectors.Direction.OUTGOING


class PreviewLine(graphene.ObjectType):
    value = graphene.Field(Money, description="Null when the line has an error.")
    errors = graphene.List(graphene.NonNull(Error), required=True)


class SwapPreview(graphene.ObjectType):
    lines = graphene.List(graphene.NonNull(PreviewLine), required=True)
    balance = graphene.Field(Balance, required=True)
    suggestions = graphene.List(graphene.NonNull(Suggestion), required=True)


def _proposal_or_error(actor, global_id: str, field: str = "proposal") -> Proposal | None:
    try:
        pk = decode_id(global_id, "Proposal", field=field)
    except ValidationError as exc:
        raise graphql_error_from(exc) from None
    return selectors.proposal_get(actor=actor, pk=pk)


# Coupons and partner-reported events (api/exchange/reported.py) and webhooks
# (api/exchange/webhooks.py) compose in as mixins.
class ExchangeQuery(ReportedQuery, WebhooksQuery, graphene.ObjectType):
    channel_rates = graphene.List(
        graphene.NonNull(ChannelRateNode), required=True, description="Benchmark values placements are priced at."
    )
    proposals = ScopedConnectionField(
        ProposalNode,
        description="Proposals your brands are party to (admins: all), latest activity first.",
        brand=graphene.ID(description="One of your brands (default: all of them)."),
        state=ProposalStateEnum(),
        direction=ProposalDirection(),
        counterparty=graphene.ID(description="Only proposals with this brand."),
        needs_my_action=graphene.Boolean(description="True: waiting for you; false: waiting for them."),
    )
    proposal = graphene.Field(ProposalNode, id=graphene.ID(required=True))
    notifications = ScopedConnectionField(
        NotificationNode, unread_only=graphene.Boolean(default_value=False), description="Your inbox, newest first."
    )
    unread_notification_count = graphene.Int(required=True)
    preview_swap = graphene.Field(
        SwapPreview,
        brand=graphene.ID(required=True, description="Your brand (the author of the draft)."),
        counterparty=graphene.ID(required=True),
        proposal=graphene.ID(description="When drafting a counter: the proposal (enables basedOn)."),
        placements=graphene.List(graphene.NonNull(PlacementInput), required=True),
        topup_cents=BigInt(default_value=0),
        description="Your brand's draft valued without saving it (null for a brand not yours): each line, the balance, suggestions to close the gap.",
    )

    def resolve_channel_rates(root, info):
        return selectors.channel_rate_list(actor=actor_of(info))

    def resolve_proposals(
        root, info, brand=None, state=None, direction=None, counterparty=None, needs_my_action=None, **kwargs
    ):
        actor = actor_of(info)
        try:
            own = brand_for(actor, brand) if brand else None
            other = brand_for(actor, counterparty, field="counterparty") if counterparty else None
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        qs = selectors.proposal_list(
            actor=actor,
            brand=own,
            state=state.value if hasattr(state, "value") else state,
            direction=direction.value if hasattr(direction, "value") else direction,
            counterparty=other,
            needs_my_action=needs_my_action,
        )
        return selectors.with_revisions(qs)

    def resolve_proposal(root, info, id):
        return _proposal_or_error(actor_of(info), id, field="id")

    def resolve_notifications(root, info, unread_only=False, **kwargs):
        return selectors.notification_list(actor=actor_of(info), unread_only=bool(unread_only))

    def resolve_unread_notification_count(root, info):
        return selectors.unread_count(actor=actor_of(info))

    def resolve_preview_swap(root, info, brand, counterparty, placements, proposal=None, topup_cents=0):
        actor = actor_of(info)
        try:
            own = brand_for(actor, brand)
            other = brand_for(actor, counterparty, field="counterparty")
            specs = placement_specs(placements)
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        if own.pk not in actor.brand_ids:
            return None  # like every read: what the caller may not do, it simply does not get
        current = _proposal_or_error(actor, proposal) if proposal else None
        result = services.proposal_preview(
            actor=actor, brand=own, counterparty=other, placements=specs, topup_cents=topup_cents, proposal=current
        )
        lines = [
            PreviewLine(
                value=Money.of(v.value_cents) if v is not None else None,
                errors=[Error(field=p.field, code=p.code, message=p.message) for p in problems],
            )
            for v, problems in result.lines
        ]
        return SwapPreview(
            lines=lines, balance=Balance.of(result.balance), suggestions=[Suggestion.of(s) for s in result.suggestions]
        )
