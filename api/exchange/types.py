"""GraphQL types of the exchange.

* ``Proposal`` — a negotiation between two brands: state, whose turn, every revision with its
  placements and balance, the message thread. Visible to the two brands' members and keys
  and to platform admins (``exchange.selectors.proposal_visible``).
* ``ProposalParty`` — a party as the other party sees it: id, slug and names (the brands chose
  to deal with each other; nothing private), so no Brand scope lookup is needed per row.
* ``Revision``, ``Placement``, ``ProposalMessage``, ``Notification``, ``ChannelRate``.

Children of a proposal are resolved from the prefetch the selector made (no per-row scope
query: the parent was scoped), so a list costs the same number of queries for 1 or 100 rows.

One idea at ~470 lines: the exchange's read model, type by type (a split would separate
the types that resolve each other).
"""

from __future__ import annotations

import graphene
from django.db.models import QuerySet

from api.core.ids import encode_id
from api.core.labels import choice_label
from api.core.scalars import BigInt, Money
from api.core.types import ScopedObjectType, actor_of, request_language
from exchange import selectors, valuation
from exchange.models import (
    ChannelRate,
    EventType,
    Notification,
    Placement,
    PlacementFormat,
    PricingUnit,
    Proposal,
    ProposalMessage,
    Revision,
)
from exchange.notices import notice_line
from exchange.services import revision_balance
from exchange.services.common import can_act_for
from exchange.states import DeclineReason, ProposalState
from exchange.states import Side as ProposalSide
from matching.models import SlotType
from partners.actors import Actor
from partners.models import ChannelType

ProposalStateEnum = graphene.Enum.from_enum(
    ProposalState, description="proposed → countered → accepted | declined | withdrawn | expired"
)
PlacementFormatEnum = graphene.Enum.from_enum(PlacementFormat)
PricingUnitEnum = graphene.Enum.from_enum(PricingUnit)
DeclineReasonEnum = graphene.Enum.from_enum(DeclineReason)
EventTypeEnum = graphene.Enum("ExchangeEventType", [(e.name, e.value) for e in EventType])
ChannelTypeEnum = graphene.Enum("PlacementChannelType", [(c.name, c.value) for c in ChannelType])
RecommendationSlotEnum = graphene.Enum(
    "RecommendationSlot",
    [(s.name, s.value) for s in SlotType],
    description="A recommendation slot: RANKED (ranked by the matcher) or EXPLORE (新发现 / New: a plausible "
    "partner few brands have tried yet).",
)


Side = graphene.Enum.from_enum(ProposalSide, description="The two sides of a proposal.")


def _side(proposal: Proposal, brand_id: int | None) -> str | None:
    if brand_id is None:
        return None
    return proposal.side_of(brand_id)


class ProposalParty(graphene.ObjectType):
    """One side of a proposal."""

    id = graphene.ID(required=True, description="The Brand ID.")
    slug = graphene.String(required=True)
    name = graphene.String(required=True, description="In the request's language.")
    name_zh = graphene.String(required=True)
    name_en = graphene.String(required=True)

    @staticmethod
    def of(brand) -> ProposalParty:
        return ProposalParty(
            id=encode_id("Brand", brand.pk),
            slug=brand.slug,
            name=brand.display_name(request_language()),
            name_zh=brand.name,
            name_en=brand.name_en or brand.name,
        )


class ChannelRateNode(ScopedObjectType):
    """The benchmark value of a (channel type, format): ``rate`` per ``basis`` units."""

    channel_type = graphene.Field(ChannelTypeEnum, required=True)
    format = graphene.Field(PlacementFormatEnum, required=True)
    unit = graphene.Field(PricingUnitEnum, required=True)
    channel_type_label = graphene.String(required=True, description="In the request's language.")
    format_label = graphene.String(required=True, description="In the request's language.")
    unit_label = graphene.String(required=True, description="In the request's language.")
    basis = graphene.Int(required=True, description="How many units the rate is quoted for (1,000 or 1).")
    rate = graphene.Field(Money, required=True)

    class Meta:
        model = ChannelRate
        name = "ChannelRate"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "channel_type",
            "channel_type_label",
            "format",
            "format_label",
            "unit",
            "unit_label",
            "basis",
            "rate",
            "source",
            "updated_at",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.channel_rate_visible(actor=actor)

    def resolve_channel_type_label(self, info):
        return choice_label(ChannelType, self.channel_type)

    def resolve_format_label(self, info):
        return choice_label(PlacementFormat, self.format)

    def resolve_unit_label(self, info):
        return choice_label(PricingUnit, self.unit)

    def resolve_basis(self, info):
        return self.pricing_unit.basis

    def resolve_rate(self, info):
        return Money.of(self.rate_cents)


class PlacementNode(ScopedObjectType):
    """What one side gives in a revision, valued at the rate copied when it was written."""

    side = graphene.Field(Side, required=True)
    format = graphene.Field(PlacementFormatEnum, required=True)
    channel_type = graphene.Field(ChannelTypeEnum, required=True)
    quantity = BigInt(required=True, description="Reach, messages, parcels or store-days (see unit).")
    unit = graphene.Field(PricingUnitEnum, required=True)
    channel_type_label = graphene.String(required=True, description="In the request's language.")
    format_label = graphene.String(required=True, description="In the request's language.")
    unit_label = graphene.String(required=True, description="In the request's language.")
    rate = graphene.Field(Money, required=True, description="Per unit basis, as copied into this revision.")
    value = graphene.Field(Money, required=True)

    class Meta:
        model = Placement
        name = "Placement"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "side",
            "channel_type",
            "channel_type_label",
            "channel_label",
            "format",
            "format_label",
            "quantity",
            "unit",
            "unit_label",
            "rate",
            "value",
            "starts_on",
            "ends_on",
            "notes",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.placement_visible(actor=actor)

    def resolve_side(self, info):
        revision = self.revision
        return _side(revision.proposal, self.brand_id)

    def resolve_rate(self, info):
        return Money.of(self.rate_cents)

    def resolve_value(self, info):
        return Money.of(self.value_cents)

    resolve_channel_type_label = ChannelRateNode.resolve_channel_type_label
    resolve_format_label = ChannelRateNode.resolve_format_label
    resolve_unit_label = ChannelRateNode.resolve_unit_label


class Suggestion(graphene.ObjectType):
    """One more placement the lighter side could offer from its own channels."""

    channel = graphene.ID(required=True, description="Your Channel ID.")
    channel_type = graphene.Field(ChannelTypeEnum, required=True)
    channel_type_label = graphene.String(required=True, description="In the request's language.")
    channel_label = graphene.String(required=True)
    format = graphene.Field(PlacementFormatEnum, required=True)
    format_label = graphene.String(required=True, description="In the request's language.")
    quantity = BigInt(required=True)
    value = graphene.Field(Money, required=True)
    closes_gap = graphene.Boolean(required=True)

    @staticmethod
    def of(s: valuation.Suggestion) -> Suggestion:
        return Suggestion(
            channel=encode_id("Channel", s.channel_id),
            channel_type=s.channel_type,
            channel_type_label=choice_label(ChannelType, s.channel_type),
            channel_label=s.channel_label,
            format=s.format,
            format_label=choice_label(PlacementFormat, s.format),
            quantity=s.quantity,
            value=Money.of(s.value_cents),
            closes_gap=s.closes_gap,
        )


class Balance(graphene.ObjectType):
    """The value each side gives at benchmark rates (CNY), the cash top-up and the gap."""

    initiator_value = graphene.Field(Money, required=True)
    counterparty_value = graphene.Field(Money, required=True)
    topup = graphene.Field(Money, required=True)
    topup_from = graphene.Field(Side)
    gap = graphene.Field(Money, required=True, description="After the top-up.")
    gap_percent = graphene.Float(required=True, description="The gap as a share of the larger side, 0–100.")
    lighter = graphene.Field(Side, description="The side giving less; null when balanced to the cent.")
    balanced = graphene.Boolean(
        required=True,
        description="Gap within the settlement tolerance (an admin setting, 10% by default) of the larger side.",
    )

    @staticmethod
    def of(b: valuation.Balance) -> Balance:
        return Balance(
            initiator_value=Money.of(b.initiator_cents),
            counterparty_value=Money.of(b.counterparty_cents),
            topup=Money.of(b.topup_cents),
            topup_from=b.topup_from,
            gap=Money.of(b.gap_cents),
            gap_percent=b.gap_percent,
            lighter=b.lighter,
            balanced=b.balanced,
        )


class Ask(graphene.ObjectType):
    format = graphene.Field(PlacementFormatEnum, required=True)
    format_label = graphene.String(required=True, description="In the request's language.")
    quantity = BigInt()
    note = graphene.String(required=True)


class RevisionNode(ScopedObjectType):
    """One immutable offer of a proposal."""

    author_side = graphene.Field(Side, required=True)
    placements = graphene.List(graphene.NonNull(PlacementNode), required=True)
    asks = graphene.List(graphene.NonNull(Ask), required=True, description="What the author would like in return.")
    balance = graphene.Field(Balance, required=True)

    class Meta:
        model = Revision
        name = "Revision"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "number", "author_side", "message", "placements", "asks", "balance", "created_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.revision_visible(actor=actor)

    def resolve_author_side(self, info):
        return _side(self.proposal, self.author_id)

    def resolve_placements(self, info):
        return list(self.placements.all())  # prefetched with the proposal

    def resolve_asks(self, info):
        return [
            Ask(
                format=a.get("format"),
                format_label=choice_label(PlacementFormat, a.get("format")) or "",
                quantity=a.get("quantity"),
                note=a.get("note", ""),
            )
            for a in self.asks or []
        ]

    def resolve_balance(self, info):
        return Balance.of(
            valuation.balance(
                self.initiator_value_cents,
                self.counterparty_value_cents,
                self.topup_cents,
                tolerance_percent=selectors.tolerance_percent(),
            )
        )


class ProposalMessageNode(ScopedObjectType):
    side = graphene.Field(Side, required=True)
    author_name = graphene.String(
        required=True, description="The writer's display name (empty for an API key or a person without one)."
    )

    class Meta:
        model = ProposalMessage
        name = "ProposalMessage"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "side", "author_name", "body", "created_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.proposal_message_visible(actor=actor)

    def resolve_side(self, info):
        return _side(self.proposal, self.brand_id)

    def resolve_author_name(self, info):
        return self.author_display


def _request_cache(info) -> dict:
    """Reads shared by every row of one request (kept on the request, never module-level)."""
    request = info.context
    cache = getattr(request, "_exchange_reads", None)
    if cache is None:
        cache = request._exchange_reads = {}
    return cache


def _my_brand_id(proposal: Proposal, info) -> int | None:
    """The caller's side of ``proposal`` (the side whose turn it is first, for a person in both)."""
    mine = actor_of(info).brand_ids
    for brand_id in (proposal.turn_id, proposal.initiator_id, proposal.counterparty_id):
        if brand_id in mine:
            return brand_id
    return None


class ProposalNode(ScopedObjectType):
    """A swap proposal between two brands."""

    state = graphene.Field(ProposalStateEnum, required=True)
    state_label = graphene.String(required=True, description="`state` in the request's language.")
    initiator = graphene.Field(ProposalParty, required=True)
    counterparty = graphene.Field(ProposalParty, required=True)
    turn = graphene.Field(Side, description="Whose answer the proposal waits for; null once closed.")
    my_side = graphene.Field(Side, description="The caller's side (null for platform admins).")
    needs_my_action = graphene.Boolean(required=True)
    revision_number = graphene.Int(required=True, description="Send it back with counter/accept/decline.")
    revisions = graphene.List(graphene.NonNull(RevisionNode), required=True, description="Oldest first.")
    current_revision = graphene.Field(RevisionNode, required=True)
    balance = graphene.Field(Balance, required=True, description="Of the current revision.")
    decline_reason = graphene.Field(DeclineReasonEnum)
    decline_reason_label = graphene.String(description="`declineReason` in the request's language.")
    messages = graphene.List(graphene.NonNull(ProposalMessageNode), required=True, description="Oldest first.")
    suggestions = graphene.List(
        graphene.NonNull(Suggestion),
        required=True,
        description="When your side is lighter: single placements from your own channels that would close the gap.",
    )
    recommendation_slot = graphene.Field(
        RecommendationSlotEnum,
        description="The slot the counterparty held in the proposing brand's recommendations when it proposed "
        "(every outcome of the proposal is recorded with it for the matcher); null when it was not recommended. "
        "Only the proposing brand and platform admins see it — recommendations are private to their brand — so "
        "it is null for the counterparty.",
    )

    class Meta:
        model = Proposal
        name = "Proposal"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "state",
            "state_label",
            "initiator",
            "counterparty",
            "turn",
            "my_side",
            "needs_my_action",
            "revision_number",
            "revisions",
            "current_revision",
            "balance",
            "decline_reason",
            "decline_reason_label",
            "decline_note",
            "messages",
            "suggestions",
            "recommendation_slot",
            "created_at",
            "updated_at",
            "expires_at",
            "closed_at",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.proposal_visible(actor=actor)

    def resolve_recommendation_slot(self, info):
        if not self.slot or not actor_of(info).can_view_private(self.initiator_id):
            return None
        return self.slot

    def resolve_initiator(self, info):
        return ProposalParty.of(self.initiator)

    def resolve_counterparty(self, info):
        return ProposalParty.of(self.counterparty)

    def resolve_turn(self, info):
        return _side(self, self.turn_id)

    def resolve_my_side(self, info):
        return _side(self, _my_brand_id(self, info))

    def resolve_needs_my_action(self, info):
        return self.is_open and self.turn_id in selectors.acting_brand_ids(actor_of(info))

    def resolve_revisions(self, info):
        return list(self.revisions.all())

    def resolve_current_revision(self, info):
        return selectors.current_revision(self)

    def resolve_balance(self, info):
        return RevisionNode.resolve_balance(selectors.current_revision(self), info)

    def resolve_decline_reason(self, info):
        return self.decline_reason or None

    def resolve_state_label(self, info):
        return choice_label(ProposalState, self.state)

    def resolve_decline_reason_label(self, info):
        return choice_label(DeclineReason, self.decline_reason)

    def resolve_messages(self, info):
        return list(self.messages.all())

    def resolve_suggestions(self, info):
        # From the stored balance (what both sides see), with the rate table and the caller's
        # channels read once per request — a list of proposals costs no query per row.
        actor = actor_of(info)
        mine = _my_brand_id(self, info)
        current = selectors.current_revision(self)
        if mine is None or not self.is_open or current is None or not can_act_for(actor, mine):
            return []
        bal = revision_balance(current)
        if bal.lighter != _side(self, mine):
            return []
        loaded = _request_cache(info)
        if "rates" not in loaded:
            loaded["rates"] = selectors.rate_table()
        if ("channels", mine) not in loaded:
            loaded["channels", mine] = selectors.channel_options(brand_id=mine)
        found = valuation.suggest(gap_cents=bal.gap_cents, channels=loaded["channels", mine], rates=loaded["rates"])
        return [Suggestion.of(s) for s in found]


class NotificationNode(ScopedObjectType):
    """An entry of the caller's inbox."""

    type = graphene.Field(EventTypeEnum, required=True)
    title = graphene.String(required=True, description="In the request's language.")
    proposal = graphene.Field(ProposalNode)
    read = graphene.Boolean(required=True)

    class Meta:
        model = Notification
        name = "Notification"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "type", "title", "proposal", "read", "created_at", "read_at")

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.notification_visible(actor=actor)

    def resolve_type(self, info):
        return self.event.type

    def resolve_title(self, info):
        return notice_line(self.event, self.brand, request_language())

    def resolve_proposal(self, info):
        # Through the proposal's own scope: a notification is never a path around it.
        if self.event.proposal_id is None:
            return None
        return selectors.proposal_visible(actor=actor_of(info)).filter(pk=self.event.proposal_id).first()

    def resolve_read(self, info):
        return self.read_at is not None
