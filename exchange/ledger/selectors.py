"""What the ledger and settlements show, scoped to the caller once.

* a brand's accounts and entries: its members (owners, marketers, viewers, its keys) and
  platform admins;
* a brand's traffic credit: also the brands it shares a campaign with (both sides of a swap see
  the balance that will pay their gap down);
* settlements: the two parties and platform admins.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet

from exchange.ledger.rules import delivered_by_brand
from exchange.models import OPEN_DISPUTE_STATES, Campaign, Dispute, LedgerAccount, LedgerEntry, Settlement
from exchange.models.ledger import BRAND_KINDS, KIND_CURRENCY, AccountKind
from partners.actors import Actor
from partners.models import Brand

BRAND_KIND_VALUES = tuple(k.value for k in BRAND_KINDS)


def can_see_ledger(actor: Actor, brand: Brand) -> bool:
    return actor.is_admin or brand.pk in actor.roles


def can_see_credit(actor: Actor, brand: Brand) -> bool:
    if can_see_ledger(actor, brand):
        return True
    mine = list(actor.brand_ids)
    return (
        bool(mine)
        and Campaign.objects.filter(
            Q(brand_a=brand, brand_b_id__in=mine) | Q(brand_b=brand, brand_a_id__in=mine)
        ).exists()
    )


@dataclass(frozen=True)
class Balance:
    kind: str
    currency: str
    balance_cents: int


def ledger_balances(*, actor: Actor, brand: Brand) -> list[Balance] | None:
    """The brand's four balances (zero for an account never posted to); None if not visible."""
    if not can_see_ledger(actor, brand):
        return None
    found = {a.kind: a.balance_cents for a in LedgerAccount.objects.filter(brand=brand)}
    return [Balance(k, KIND_CURRENCY[k], found.get(k, 0)) for k in BRAND_KINDS]


def ledger_entries(*, actor: Actor, brand: Brand, kind: str | None = None) -> QuerySet[LedgerEntry]:
    """The brand's entries, newest first, with what each needs to be shown (empty if not visible)."""
    if not can_see_ledger(actor, brand):
        return LedgerEntry.objects.none()
    qs = LedgerEntry.objects.filter(account__brand=brand)
    if kind:
        qs = qs.filter(account__kind=kind)
    return qs.select_related("account", "transaction", "transaction__campaign").order_by(
        "-transaction__created_at", "-id"
    )


def entries_visible(*, actor: Actor) -> QuerySet[LedgerEntry]:
    """Every entry the caller may see (the GraphQL type's scope)."""
    qs = LedgerEntry.objects.select_related("account", "transaction")
    if actor.is_admin:
        return qs
    return qs.filter(account__brand_id__in=list(actor.roles))


def credit_balance(*, actor: Actor, brand: Brand) -> int | None:
    """The brand's traffic credit (positive: it owes traffic), or None if not visible."""
    if not can_see_credit(actor, brand):
        return None
    return (
        LedgerAccount.objects.filter(brand=brand, kind=AccountKind.TRAFFIC_CREDIT)
        .values_list("balance_cents", flat=True)
        .first()
        or 0
    )


def settlement_visible(*, actor: Actor) -> QuerySet[Settlement]:
    """Settlements the caller may see, each with ``is_held`` (an open dispute holds it) computed
    in the same query, so a list never asks per row."""
    open_dispute = Dispute.objects.filter(campaign_id=OuterRef("campaign_id"), state__in=OPEN_DISPUTE_STATES)
    qs = Settlement.objects.select_related("payer", "payee", "campaign").annotate(is_held=Exists(open_dispute))
    if actor.is_admin:
        return qs
    mine = list(actor.brand_ids)
    return qs.filter(Q(payer_id__in=mine) | Q(payee_id__in=mine))


def settlement_list(*, actor: Actor, state: str | None = None) -> QuerySet[Settlement]:
    qs = settlement_visible(actor=actor)
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-opened_at", "-id")


def brands_with_credit() -> QuerySet[LedgerAccount]:
    """Traffic-credit accounts that are not zero (the admin overview), largest debts first."""
    return (
        LedgerAccount.objects.filter(kind=AccountKind.TRAFFIC_CREDIT)
        .exclude(balance_cents=0)
        .select_related("brand")
        .order_by("-balance_cents")
    )


@dataclass(frozen=True)
class LegReciprocity:
    promoter_id: int
    promoted_id: int
    promised_cents: int
    delivered_cents: int


@dataclass(frozen=True)
class Reciprocity:
    legs: list[LegReciprocity]
    gap_cents: int
    larger_cents: int
    lighter_id: int | None
    settlement: Settlement | None

    @property
    def gap_percent(self) -> float:
        return round(100 * self.gap_cents / self.larger_cents, 1) if self.larger_cents else 0.0


def campaign_reciprocity(*, campaign: Campaign) -> Reciprocity:
    """Promised vs delivered value per leg (delivered: the ledger's confirmed deliveries), the
    gap and the settlement if one was opened. The caller has checked the campaign is visible."""
    delivered = delivered_by_brand(campaign)
    promised: dict[int, int] = {}
    for p in campaign.revision.placements.all():
        promised[p.brand_id] = promised.get(p.brand_id, 0) + p.value_cents
    legs = [
        LegReciprocity(
            promoter_id=a,
            promoted_id=b,
            promised_cents=promised.get(a, 0),
            delivered_cents=delivered.get(a, 0),
        )
        for a, b in ((campaign.brand_a_id, campaign.brand_b_id), (campaign.brand_b_id, campaign.brand_a_id))
    ]
    da, db = legs[0].delivered_cents, legs[1].delivered_cents
    lighter = None if da == db else (campaign.brand_a_id if da < db else campaign.brand_b_id)
    return Reciprocity(
        legs=legs,
        gap_cents=abs(da - db),
        larger_cents=max(da, db),
        lighter_id=lighter,
        settlement=Settlement.objects.filter(campaign=campaign).first(),
    )
