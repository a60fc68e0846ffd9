"""Settlement of a completed campaign's imbalance (docs/SETTLEMENT.md).

* ``settlement_open`` — at completion (same transaction): the value each side delivered (the
  ledger's confirmed deliveries), the gap, and — when the gap exceeds the policy's tolerance
  (default 10 % of the larger side) — a Settlement owed by the lighter side, its gap posted as
  traffic credit (``exchange.ledger.rules``) and its cash price computed (gap × rate + fee).
* ``settlement_choose`` — the payer's owners or marketers choose cash (only when Stripe is
  configured) or credit; credit closes it, cash waits for ``exchange.services.payments``.
* ``settlements_default`` (beat) — a settlement nobody chose (or chose cash and never paid)
  by ``choose_by`` becomes credit, and the payer is told.
* ``settlement_after_dispute`` — a dispute decision changed delivered values: the reciprocity
  moves to the corrected gap, the settlement's figures follow (void when now within the
  tolerance), and a paid settlement is refunded the difference.
* ``settlement_policy`` / ``settlement_policy_set`` — the admin-set figures.
An open dispute on the campaign holds its settlement: no choice, no payment, no default.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import selectors
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.models import (
    OPEN_DISPUTE_STATES,
    Campaign,
    Dispute,
    EventType,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    Settlement,
    SettlementChoice,
    SettlementPolicy,
    SettlementState,
)
from exchange.outbox import emit
from exchange.services.common import can_act_for, error
from exchange.states import CampaignState
from huiliu.formatting import money
from partners.actors import Actor
from partners.models import AuditAction
from partners.services import audit

SWEEP_LIMIT = 500
UNPAID = (SettlementState.OPEN, SettlementState.CASH_PENDING)


# --- policy ----------------------------------------------------------------------------------
def settlement_policy() -> SettlementPolicy:
    """The settlement figures (the one row, created with the defaults on first read)."""
    policy = SettlementPolicy.objects.filter(pk=1).first()
    if policy is None:
        policy, _created = SettlementPolicy.objects.get_or_create(pk=1)
    return policy


def settlement_policy_set(
    *, actor: Actor, tolerance_percent: int, cash_per_100_value: int, fee_basis_points: int, choose_within_days: int
) -> SettlementPolicy:
    """Change the figures new settlements open with (platform admins). Audited."""
    if not actor.is_admin:
        raise error("policy", _("Only platform admins change the settlement policy."), E.PERMISSION_DENIED)
    errors: dict = {}
    checks = (
        ("tolerance_percent", tolerance_percent, 0, 100, _("The tolerance is a percentage from 0 to 100.")),
        ("cash_per_100_value", cash_per_100_value, 1, 10_000, _("The rate is from ¥1 to ¥10,000 per ¥100 of value.")),
        ("fee_basis_points", fee_basis_points, 0, 5000, _("The fee is from 0 to 5,000 basis points (50 %).")),
        ("choose_within_days", choose_within_days, 1, 90, _("Payers get from 1 to 90 days to choose.")),
    )
    for field, value, lo, hi, message in checks:
        if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
            errors[field] = ValidationError(message, code=E.INVALID_POLICY)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        policy = SettlementPolicy.objects.select_for_update().filter(pk=1).first() or settlement_policy()
        before = {f: getattr(policy, f) for f, *_rest in checks}
        for field, value, *_rest in checks:
            setattr(policy, field, value)
        policy.updated_at = timezone.now()
        policy.updated_by = actor.user
        policy.save()
        # Every page judges "balanced" by the cached tolerance: drop it now and once this
        # commits (a read in between would cache the old row again).
        cache.delete(selectors.TOLERANCE_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete(selectors.TOLERANCE_CACHE_KEY))
        audit(
            actor=actor,
            action=AuditAction.SETTLEMENT_POLICY_SET,
            obj=policy,
            brand=None,
            data={"before": before, "after": {f: getattr(policy, f) for f, *_rest in checks}},
        )
    return policy


def cash_enabled() -> bool:
    """Cash is offered only when the Stripe keys are configured (the embedded default has none)."""
    return bool(settings.STRIPE_SECRET_KEY and settings.STRIPE_PUBLISHABLE_KEY)


def below_minimum(s: Settlement) -> None:
    """Refuse a card payment smaller than Stripe's minimum charge (STRIPE_MIN_CHARGE_CENTS):
    Stripe would refuse it; such a gap is settled as traffic credit."""
    if s.total_cents < settings.STRIPE_MIN_CHARGE_CENTS:
        raise error(
            "settlement",
            _(
                "%(total)s is below the smallest amount a card can be charged (%(minimum)s): settle it as traffic credit."
            )
            % {"total": money(s.total_cents), "minimum": money(settings.STRIPE_MIN_CHARGE_CENTS)},
            E.BELOW_MINIMUM_CHARGE,
        )


def cash_possible(s: Settlement) -> bool:
    """Whether the settlement can be paid by card here (keys set, at least the minimum charge)."""
    return cash_enabled() and s.total_cents >= settings.STRIPE_MIN_CHARGE_CENTS


# --- figures ---------------------------------------------------------------------------------
def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def cash_price(gap_value_cents: int, cash_per_100_value: int, fee_basis_points: int) -> tuple[int, int]:
    """(cash, fee) in CNY cents for a gap in value cents, rounded half up, never a float."""
    cash = _half_up(gap_value_cents * cash_per_100_value, 100)
    return cash, _half_up(cash * fee_basis_points, 10_000)


@dataclass(frozen=True)
class Gap:
    delivered: dict[int, int]  # brand id → value delivered (cents)
    lighter: int | None
    heavier: int | None
    gap_cents: int
    larger_cents: int

    def above(self, tolerance_percent: int) -> bool:
        return self.gap_cents > 0 and self.gap_cents * 100 > tolerance_percent * self.larger_cents


def gap_of(campaign: Campaign) -> Gap:
    """The campaign's value gap from the ledger's confirmed (and dispute-corrected) deliveries."""
    delivered = rules.delivered_by_brand(campaign)
    a, b = delivered.get(campaign.brand_a_id, 0), delivered.get(campaign.brand_b_id, 0)
    delivered = {campaign.brand_a_id: a, campaign.brand_b_id: b}
    if a == b:
        return Gap(delivered, None, None, 0, a)
    lighter, heavier = (
        (campaign.brand_a_id, campaign.brand_b_id) if a < b else (campaign.brand_b_id, campaign.brand_a_id)
    )
    return Gap(delivered, lighter, heavier, abs(a - b), max(a, b))


def _payload(s: Settlement) -> dict:
    return {
        "settlement": s.pk,
        "campaign": s.campaign_id,
        "state": s.state,
        "payer": s.payer.slug,
        "payee": s.payee.slug,
        "gap_value_cents": s.gap_value_cents,
        "cash_cents": s.cash_cents,
        "fee_cents": s.fee_cents,
        "currency": "CNY",
        "choose_by": s.choose_by.isoformat(),
    }


def _audit_both(actor: Actor, action: AuditAction, s: Settlement, data: dict) -> None:
    for brand in (s.payer, s.payee):
        audit(actor=actor, action=action, obj=s, brand=brand, data=data)


def settlement_event(s: Settlement, type_: str, actor_brand_id: int | None, **extra) -> None:
    """Audit-free outbox event for a settlement (payments use it too)."""
    emit(type=type_, proposal=s.campaign.proposal, actor_brand_id=actor_brand_id, payload={**_payload(s), **extra})


def is_paid(s: Settlement) -> bool:
    """Whether the settlement was paid by card (a succeeded payment; refunds since do not
    make it unpaid — its figures are what was charged)."""
    return Payment.objects.filter(settlement=s, state=PaymentState.SUCCEEDED).exists()


def _refunded_value(s: Settlement) -> int:
    """Gap value refunded or being refunded (a refund Stripe refused returned nothing)."""
    return (
        Refund.objects.filter(payment__settlement=s)
        .exclude(state=RefundState.FAILED)
        .aggregate(g=Sum("gap_value_cents"))["g"]
        or 0
    )


def refund_outstanding_value(s: Settlement) -> int:
    """Swap value of a paid settlement still to refund: the gap it paid for, less the part the
    campaign's corrected reciprocity still puts on the payer, less refunds made or in flight.
    Never negative."""
    still_owed = max(0, rules.reciprocity_posted(s.campaign).get(s.payer_id, 0))
    return max(0, s.gap_value_cents - min(still_owed, s.gap_value_cents) - _refunded_value(s))


def held(campaign_id: int) -> bool:
    """Whether an open dispute holds the campaign's settlement."""
    return Dispute.objects.filter(campaign_id=campaign_id, state__in=OPEN_DISPUTE_STATES).exists()


# --- opening ---------------------------------------------------------------------------------
def settlement_open(*, campaign: Campaign, now: datetime | None = None) -> Settlement | None:
    """Open the settlement of a just-completed campaign if its gap is above the tolerance
    (idempotent: a campaign has at most one). Runs in the caller's transaction."""
    now = now or timezone.now()
    with transaction.atomic():
        existing = Settlement.objects.filter(campaign=campaign).first()
        if existing is not None:
            return existing
        policy = settlement_policy()
        gap = gap_of(campaign)
        if not gap.above(policy.tolerance_percent):
            return None
        cash, fee = cash_price(gap.gap_cents, policy.cash_per_100_value, policy.fee_basis_points)
        posted = rules.reciprocity_sync(
            campaign=campaign,
            owed={gap.lighter: gap.gap_cents, gap.heavier: -gap.gap_cents},
            key=f"reciprocity:campaign:{campaign.pk}",
            at=now,
        )
        s = Settlement.objects.create(
            campaign=campaign,
            payer_id=gap.lighter,
            payee_id=gap.heavier,
            payer_delivered_cents=gap.delivered[gap.lighter],
            payee_delivered_cents=gap.delivered[gap.heavier],
            gap_value_cents=gap.gap_cents,
            cash_cents=cash,
            fee_cents=fee,
            tolerance_percent=policy.tolerance_percent,
            cash_per_100_value=policy.cash_per_100_value,
            fee_basis_points=policy.fee_basis_points,
            reciprocity_txn=posted.txn if posted else None,
            opened_at=now,
            choose_by=now + timedelta(days=policy.choose_within_days),
        )
        s = Settlement.objects.select_related("payer", "payee", "campaign__proposal").get(pk=s.pk)
        _audit_both(Actor.system_actor(), AuditAction.SETTLEMENT_OPENED, s, _payload(s))
        settlement_event(s, EventType.SETTLEMENT_OPENED, None)
        return s


def _locked(pk: int) -> Settlement:
    return Settlement.objects.select_for_update().select_related("payer", "payee", "campaign__proposal").get(pk=pk)


def settlement_choose(*, actor: Actor, settlement: Settlement, choice: str, now: datetime | None = None) -> Settlement:
    """The payer chooses how to settle: ``credit`` closes the settlement (the gap stays as
    traffic credit, paid down by a later swap); ``cash`` makes it payable by card. While cash
    is chosen and unpaid the payer may still switch to credit."""
    now = now or timezone.now()
    with transaction.atomic():
        s = _locked(settlement.pk)
        if not can_act_for(actor, s.payer_id):
            raise error(
                "settlement",
                _("Only the paying brand's owners and marketers choose how to settle."),
                E.PERMISSION_DENIED,
            )
        if choice not in SettlementChoice.values:
            raise error("choice", _("Choose cash or traffic credit."), E.INVALID)
        if s.state not in UNPAID or (s.state == SettlementState.CASH_PENDING and choice == SettlementChoice.CASH):
            raise error("settlement", _("This settlement is no longer awaiting a choice."), E.SETTLEMENT_NOT_OPEN)
        if held(s.campaign_id):
            raise error(
                "settlement",
                _("An open dispute holds this settlement until the platform decides it."),
                E.SETTLEMENT_HELD,
            )
        if choice == SettlementChoice.CASH and not cash_enabled():
            raise error(
                "choice", _("Card payments are not available on this platform; choose credit."), E.CASH_UNAVAILABLE
            )
        if choice == SettlementChoice.CASH:
            below_minimum(s)
        if Payment.objects.filter(
            settlement=s, state__in=[PaymentState.CLAIMED, PaymentState.PROCESSING, PaymentState.REQUIRES_ACTION]
        ).exists():
            raise error("settlement", _("A payment of this settlement is in progress."), E.PAYMENT_IN_PROGRESS)
        s.choice = choice
        s.chosen_at = now
        s.chosen_by = actor.user
        if choice == SettlementChoice.CREDIT:
            s.state = SettlementState.CREDITED
            s.closed_at = now
        else:
            s.state = SettlementState.CASH_PENDING
        s.save(update_fields=["choice", "chosen_at", "chosen_by", "state", "closed_at"])
        _audit_both(actor, AuditAction.SETTLEMENT_CHOSEN, s, {"choice": choice})
        if choice == SettlementChoice.CREDIT:
            settlement_event(s, EventType.SETTLEMENT_CREDITED, s.payer_id, defaulted=False)
        else:
            settlement_event(s, EventType.SETTLEMENT_UPDATED, s.payer_id, change="cash_chosen")
    return s


def settlements_default(*, now: datetime | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Carry as credit every unpaid settlement whose ``choose_by`` has passed (beat), unless a
    dispute holds it or a payment is in flight. Returns how many."""
    now = now or timezone.now()
    due = list(
        Settlement.objects.filter(state__in=UNPAID, choose_by__lte=now)
        .order_by("choose_by", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for pk in due:
        with transaction.atomic():
            s = _locked(pk)
            if s.state not in UNPAID or s.choose_by > now or held(s.campaign_id):
                continue
            if Payment.objects.filter(settlement=s).exclude(state=PaymentState.FAILED).exists():
                continue
            s.state = SettlementState.CREDITED
            s.choice = SettlementChoice.CREDIT
            s.defaulted = True
            s.closed_at = now
            s.save(update_fields=["state", "choice", "defaulted", "closed_at"])
            _audit_both(Actor.system_actor(), AuditAction.SETTLEMENT_CREDITED, s, {"defaulted": True})
            settlement_event(s, EventType.SETTLEMENT_CREDITED, None, defaulted=True)
            done += 1
    return done


# --- after a dispute decision ----------------------------------------------------------------
@dataclass(frozen=True)
class AfterDispute:
    settlement: Settlement | None
    refund_value_cents: int  # of a paid settlement, to refund (0: nothing)


def settlement_after_dispute(*, campaign: Campaign, dispute: Dispute, actor: Actor, now: datetime | None = None):
    """Bring the campaign's reciprocity and settlement in line with corrected deliveries (the
    dispute service has already posted the corrections, in the same transaction). Opens a
    settlement if the campaign now needs one; voids one now within the tolerance; moves an
    unpaid one's figures (and payer, if the sides swapped); for a paid one, returns the value to
    refund — ``exchange.services.refunds.refund_issue`` issues it. The held payer gets a fresh
    ``choose_by`` window."""
    now = now or timezone.now()
    if campaign.state != CampaignState.COMPLETED:
        return AfterDispute(None, 0)
    s = Settlement.objects.select_for_update().filter(campaign=campaign).first()
    policy = settlement_policy()
    tolerance = s.tolerance_percent if s else policy.tolerance_percent
    gap = gap_of(campaign)
    key = f"reciprocity:dispute:{dispute.pk}"
    if s is None:
        if gap.above(tolerance):
            # Within the tolerance at completion, above it after the decision.
            return AfterDispute(settlement_open(campaign=campaign, now=now), 0)
        return AfterDispute(None, 0)
    s = _locked(s.pk)
    if Payment.objects.filter(
        settlement=s, state__in=(PaymentState.CLAIMED, PaymentState.PROCESSING, PaymentState.REQUIRES_ACTION)
    ).exists():
        # Its figures are being charged: a decision now would book the charge against other
        # figures. The admin decides once Stripe has answered (minutes; the beat resumes it).
        raise error(
            "dispute",
            _("A card payment of this campaign's settlement is in progress; decide once it has gone through."),
            E.PAYMENT_IN_PROGRESS,
        )
    if is_paid(s):
        # Paid (and perhaps refunded since): the figures stay those that were charged — the
        # receipt reads them. The corrected gap moves the campaign's traffic credit instead:
        # whoever is lighter now owes it, and the payer is refunded what it paid beyond the
        # part of the corrected gap that is still its own (nothing of it if the sides swapped:
        # then all it paid comes back and the other brand owes the new gap as traffic credit).
        still = gap.gap_cents if gap.above(tolerance) else 0
        owed = {gap.lighter: still, gap.heavier: -still} if still else {}
        moved = rules.reciprocity_sync(
            campaign=campaign, owed=owed, key=key, reason=rules.TxnReason.DISPUTE_RESOLUTION, at=now
        )
        refund = refund_outstanding_value(s)
        swapped = bool(still) and gap.lighter != s.payer_id
        # The gap the card payment still covers once this refund is through; what the
        # corrected gap exceeds it by is traffic credit (all of it when the sides swapped).
        covered = s.gap_value_cents - _refunded_value(s) - refund
        credit = still if swapped else max(0, still - covered)
        if moved is not None or refund:  # a later decision that moves nothing says nothing
            owed_by = (s.payer if gap.lighter == s.payer_id else s.payee).slug if still else ""
            if credit:
                _audit_both(
                    actor,
                    AuditAction.SETTLEMENT_CREDITED,
                    s,
                    {"dispute": dispute.pk, "owed_by": owed_by, "credit_value_cents": credit, "after_payment": True},
                )
            settlement_event(
                s,
                EventType.SETTLEMENT_UPDATED,
                None,
                change="sides_swapped" if swapped else "figures_changed",
                corrected_gap_value_cents=still,
                owed_by=owed_by,
                credit_value_cents=credit,
                refund_value_cents=refund,
            )
        return AfterDispute(s, refund)
    if not gap.above(tolerance):
        rules.reciprocity_sync(campaign=campaign, owed={}, key=key, reason=rules.TxnReason.DISPUTE_RESOLUTION, at=now)
        s.state = SettlementState.VOID
        s.closed_at = now
        s.gap_value_cents = gap.gap_cents
        s.cash_cents = s.fee_cents = 0
        s.save(update_fields=["state", "closed_at", "gap_value_cents", "cash_cents", "fee_cents"])
        _audit_both(actor, AuditAction.SETTLEMENT_VOIDED, s, {"dispute": dispute.pk, "gap_value_cents": gap.gap_cents})
        settlement_event(s, EventType.SETTLEMENT_UPDATED, None, change="voided")
        return AfterDispute(s, 0)
    rules.reciprocity_sync(
        campaign=campaign,
        owed={gap.lighter: gap.gap_cents, gap.heavier: -gap.gap_cents},
        key=key,
        reason=rules.TxnReason.DISPUTE_RESOLUTION,
        at=now,
    )
    swapped = s.payer_id != gap.lighter
    reopened = swapped or s.state == SettlementState.VOID
    before = (s.gap_value_cents, s.payer_delivered_cents, s.payee_delivered_cents)
    if reopened:
        # A new payer (the sides swapped) or a voided settlement needed again: the choice is
        # the payer's to make, afresh — never the other brand's earlier one.
        s.state, s.choice, s.chosen_by, s.chosen_at, s.closed_at = SettlementState.OPEN, "", None, None, None
    s.payer_id, s.payee_id = gap.lighter, gap.heavier
    s.payer_delivered_cents, s.payee_delivered_cents = gap.delivered[gap.lighter], gap.delivered[gap.heavier]
    s.gap_value_cents = gap.gap_cents
    s.cash_cents, s.fee_cents = cash_price(gap.gap_cents, s.cash_per_100_value, s.fee_basis_points)
    if s.state != SettlementState.CREDITED:
        s.choose_by = max(s.choose_by, now + timedelta(days=policy.choose_within_days))
    s.save()
    if reopened:
        # For the (new) payer this is an opening like the first: it has to choose.
        _audit_both(actor, AuditAction.SETTLEMENT_OPENED, s, {"dispute": dispute.pk, "payer": s.payer_id})
        settlement_event(s, EventType.SETTLEMENT_OPENED, None, change="reopened")
    elif before != (s.gap_value_cents, s.payer_delivered_cents, s.payee_delivered_cents):
        settlement_event(s, EventType.SETTLEMENT_UPDATED, None, change="figures_changed")
    return AfterDispute(s, 0)
