"""GraphQL of the reciprocity ledger and settlements (docs/SETTLEMENT.md, docs/PAYMENTS.md).

* ``ledger(brand:)`` — a brand's balances (swap value in ``HLV``, cash in ``CNY``, never mixed)
  and its entries (a connection, newest first, each with its running balance): the brand's
  members and keys, platform admins.
* ``creditBalance(brand:)`` — a brand's traffic credit (positive: it owes traffic); also for the
  brands it shares a campaign with. Null when not visible.
* ``settlements(state:)``, ``settlement(id:)`` — the two parties and admins.
* ``chooseSettlement(settlement:, choice: CASH|CREDIT)`` — the payer (``write`` keys too);
  ``paySettlement(settlement:)`` — the payer's owner only, never an API key: charging a card is a
  person's decision, so a leaked key can never spend a brand's money.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import decode_id, encode_id
from api.core.labels import choice_label
from api.core.mutations import BaseMutation
from api.core.scalars import Money
from api.core.types import ScopedConnectionField, ScopedObjectType, actor_of
from api.exchange.types import ProposalParty
from exchange import selectors
from exchange.ledger import selectors as ledger_selectors
from exchange.models import AccountKind, LedgerEntry, Settlement, SettlementChoice, SettlementState, TxnReason
from exchange.services import payments
from exchange.services import settlements as settlement_services
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import ApiKeyScope

AccountKindEnum = graphene.Enum.from_enum(AccountKind)
TxnReasonEnum = graphene.Enum.from_enum(TxnReason)
SettlementStateEnum = graphene.Enum.from_enum(SettlementState)
SettlementChoiceEnum = graphene.Enum("SettlementChoice", [(c.name, c.value) for c in SettlementChoice])


class LedgerBalance(graphene.ObjectType):
    kind = graphene.Field(AccountKindEnum, required=True)
    kind_label = graphene.String(required=True)
    balance = graphene.Field(Money, required=True, description="HLV: swap value; CNY: cash.")

    def resolve_kind_label(self, info):
        return choice_label(AccountKind, self.kind)

    def resolve_balance(self, info):
        return Money.of(self.balance_cents, self.currency)


class LedgerEntryNode(ScopedObjectType):
    """One entry of a brand's account: signed (positive adds to the balance), with the running
    balance after it and the transaction it belongs to."""

    account_kind = graphene.Field(AccountKindEnum, required=True)
    amount = graphene.Field(Money, required=True)
    balance_after = graphene.Field(Money, required=True)
    reason = graphene.Field(TxnReasonEnum, required=True)
    reason_label = graphene.String(required=True)
    memo = graphene.String(required=True)
    campaign_id = graphene.ID(description="The Campaign it is about, if any.")
    posted_at = graphene.DateTime(required=True)
    reverses_entry_transaction = graphene.Boolean(required=True, description="True for a correction (a reversal).")

    class Meta:
        model = LedgerEntry
        name = "LedgerEntry"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "account_kind",
            "amount",
            "balance_after",
            "reason",
            "reason_label",
            "memo",
            "campaign_id",
            "posted_at",
            "reverses_entry_transaction",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.ledger_entry_visible(actor=actor)

    def resolve_account_kind(self, info):
        return self.account.kind

    def resolve_amount(self, info):
        return Money.of(self.amount_cents, self.currency)

    def resolve_balance_after(self, info):
        return Money.of(self.balance_after_cents, self.currency)

    def resolve_reason(self, info):
        return self.transaction.reason

    def resolve_reason_label(self, info):
        return choice_label(TxnReason, self.transaction.reason)

    def resolve_memo(self, info):
        return self.transaction.memo

    def resolve_campaign_id(self, info):
        return encode_id("Campaign", self.transaction.campaign_id) if self.transaction.campaign_id else None

    def resolve_posted_at(self, info):
        return self.transaction.created_at

    def resolve_reverses_entry_transaction(self, info):
        return self.transaction.reverses_id is not None


class Ledger(graphene.ObjectType):
    brand = graphene.Field(ProposalParty, required=True)
    balances = graphene.List(graphene.NonNull(LedgerBalance), required=True)
    entries = ScopedConnectionField(LedgerEntryNode, kind=AccountKindEnum(), description="Newest first.")

    def resolve_brand(self, info):
        return ProposalParty.of(self.brand_obj)

    def resolve_entries(self, info, kind=None, **kwargs):
        return ledger_selectors.ledger_entries(actor=actor_of(info), brand=self.brand_obj, kind=kind)


class SettlementNode(ScopedObjectType):
    """What the lighter side of a completed campaign owes: the gap in swap value, its cash
    price (cash for the gap + the platform fee, CNY) and how it is being settled."""

    campaign_id = graphene.ID(required=True)
    payer = graphene.Field(ProposalParty, required=True)
    payee = graphene.Field(ProposalParty, required=True)
    state = graphene.Field(SettlementStateEnum, required=True)
    state_label = graphene.String(required=True)
    choice = graphene.Field(SettlementChoiceEnum)
    gap = graphene.Field(Money, required=True, description="Swap value (HLV).")
    payer_delivered = graphene.Field(Money, required=True)
    payee_delivered = graphene.Field(Money, required=True)
    cash = graphene.Field(Money, required=True, description="Cash for the gap (CNY).")
    fee = graphene.Field(Money, required=True, description="The platform fee (CNY).")
    total = graphene.Field(Money, required=True, description="What paying in cash costs (CNY).")
    held = graphene.Boolean(required=True, description="True while an open dispute holds it.")

    class Meta:
        model = Settlement
        name = "Settlement"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "campaign_id",
            "payer",
            "payee",
            "state",
            "state_label",
            "choice",
            "defaulted",
            "gap",
            "payer_delivered",
            "payee_delivered",
            "cash",
            "fee",
            "total",
            "tolerance_percent",
            "cash_per_100_value",
            "fee_basis_points",
            "opened_at",
            "choose_by",
            "chosen_at",
            "paid_at",
            "closed_at",
            "last_failure",
            "held",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.settlement_visible(actor=actor)

    def resolve_campaign_id(self, info):
        return encode_id("Campaign", self.campaign_id)

    def resolve_payer(self, info):
        return ProposalParty.of(self.payer)

    def resolve_payee(self, info):
        return ProposalParty.of(self.payee)

    def resolve_state_label(self, info):
        return choice_label(SettlementState, self.state)

    def resolve_choice(self, info):
        return self.choice or None

    def resolve_gap(self, info):
        return Money.of(self.gap_value_cents, "HLV")

    def resolve_payer_delivered(self, info):
        return Money.of(self.payer_delivered_cents, "HLV")

    def resolve_payee_delivered(self, info):
        return Money.of(self.payee_delivered_cents, "HLV")

    def resolve_cash(self, info):
        return Money.of(self.cash_cents)

    def resolve_fee(self, info):
        return Money.of(self.fee_cents)

    def resolve_total(self, info):
        return Money.of(self.total_cents)

    def resolve_held(self, info):
        held = getattr(self, "is_held", None)  # annotated by the scope's query
        return settlement_services.held(self.campaign_id) if held is None else held

    def resolve_last_failure(self, info):
        """A card's decline reason: the paying brand's members and admins only."""
        actor = actor_of(info)
        return self.last_failure_text if actor.is_admin or self.payer_id in actor.brand_ids else ""


def _brand(actor: Actor, global_id: str):
    try:
        pk = decode_id(global_id, "Brand", field="brand")
    except ValidationError as exc:
        raise graphql_error_from(exc) from None
    return partner_selectors.brand_visible(actor=actor).filter(pk=pk).first()


class LedgerQuery(graphene.ObjectType):
    ledger = graphene.Field(Ledger, brand=graphene.ID(required=True), description="Null unless you may see it.")
    credit_balance = graphene.Field(
        Money,
        brand=graphene.ID(required=True),
        description="The brand's traffic credit in swap value (positive: it owes traffic). Null unless visible.",
    )
    settlements = ScopedConnectionField(SettlementNode, state=SettlementStateEnum(), description="Newest first.")
    settlement = graphene.Field(SettlementNode, id=graphene.ID(required=True))

    def resolve_ledger(root, info, brand):
        actor = actor_of(info)
        found = _brand(actor, brand)
        if found is None or not ledger_selectors.can_see_ledger(actor, found):
            return None
        ledger = Ledger(balances=ledger_selectors.ledger_balances(actor=actor, brand=found))
        ledger.brand_obj = found
        return ledger

    def resolve_credit_balance(root, info, brand):
        actor = actor_of(info)
        found = _brand(actor, brand)
        if found is None:
            return None
        cents = ledger_selectors.credit_balance(actor=actor, brand=found)
        return None if cents is None else Money.of(cents, "HLV")

    def resolve_settlements(root, info, state=None, **kwargs):
        return ledger_selectors.settlement_list(actor=actor_of(info), state=getattr(state, "value", state))

    def resolve_settlement(root, info, id):
        try:
            pk = decode_id(id, "Settlement", field="id")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        return ledger_selectors.settlement_visible(actor=actor_of(info)).filter(pk=pk).first()


def _settlement(actor: Actor, global_id: str) -> Settlement:
    found = (
        ledger_selectors.settlement_visible(actor=actor)
        .filter(pk=decode_id(global_id, "Settlement", field="settlement"))
        .first()
    )
    if found is None:
        raise ValidationError({"settlement": ValidationError(_("No such settlement."), code=ApiError.NOT_FOUND)})
    return found


class ChooseSettlement(BaseMutation):
    """The paying brand chooses how to settle: CASH (then ``paySettlement``; only where card
    payments are enabled) or CREDIT (the gap stays as traffic credit its next swaps pay down)."""

    scope = ApiKeyScope.WRITE

    settlement = graphene.Field(SettlementNode)

    class Arguments:
        settlement = graphene.ID(required=True)
        choice = SettlementChoiceEnum(required=True)

    @classmethod
    def perform(cls, actor, info, settlement, choice):
        s = settlement_services.settlement_choose(
            actor=actor, settlement=_settlement(actor, settlement), choice=getattr(choice, "value", choice)
        )
        return {"settlement": ledger_selectors.settlement_visible(actor=actor).get(pk=s.pk)}


class PaySettlement(BaseMutation):
    """Charge the paying brand's saved card for a settlement chosen as cash (its owner, signed
    in; API keys are refused). On a decline the settlement stays payable and ``lastFailure``
    says why."""

    scope = ApiKeyScope.WRITE

    settlement = graphene.Field(SettlementNode)
    payment_state = graphene.String(description="succeeded, failed, or claimed/processing while Stripe answers.")

    class Arguments:
        settlement = graphene.ID(required=True)

    @classmethod
    def perform(cls, actor, info, settlement):
        if actor.api_key is not None:
            raise ValidationError(
                {
                    "settlement": ValidationError(
                        _("Only a brand owner, signed in, pays a settlement; API keys cannot spend money."),
                        code=ApiError.PERMISSION_DENIED,
                    )
                }
            )
        payment = payments.settlement_pay(actor=actor, settlement=_settlement(actor, settlement))
        return {
            "settlement": ledger_selectors.settlement_visible(actor=actor).get(pk=payment.settlement_id),
            "payment_state": payment.state,
        }


class LedgerMutation(graphene.ObjectType):
    choose_settlement = ChooseSettlement.Field()
    pay_settlement = PaySettlement.Field()
