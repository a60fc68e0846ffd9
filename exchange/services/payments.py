"""Paying a settlement by card, exactly once (docs/PAYMENTS.md).

* ``billing_setup_start`` / ``billing_card_save`` — the payer's owner saves a card: a Stripe
  Customer per brand (created on first need), a SetupIntent confirmed by Stripe.js in the
  browser, the PaymentMethod kept on the BillingProfile (ids and display data only).
* ``settlement_pay`` — charges the saved card for a settlement chosen as cash:
  1. **claim**: a Payment row (attempt n, idempotency key ``settlement:<id>:attempt:<n>``) is
     inserted and committed before Stripe is called; the database allows one live attempt per
     settlement (``payment_one_live_per_settlement``), so a double click or a second tab gets
     ``payment_in_progress``;
  2. **call**: ``stripe_client.payment_intent_find_or_create`` — the PaymentIntent made for this
     row if there is one (its metadata names the row), else a new one with the key;
  3. **apply**: ``payment_apply`` records the outcome in one transaction. The webhook
     (``stripe_event_handle``) applies the same outcome through the same function, so whichever
     comes first wins and the other changes nothing.
  A process that dies between 2 and 3 leaves the row claimed; ``payments_resume`` (beat) calls
  step 2 again, which finds the PaymentIntent instead of making a second.
* ``refund_issue`` — after a dispute decision in the payer's favour: a Refund row claimed in
  the decision's transaction, executed after commit the same way (``refund_execute``).
* ``stripe_event_handle`` — one webhook event, once (StripeEvent row in the same transaction).
* ``reconcile`` — local payments, refunds and ledger cash against Stripe's objects.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import stripe_client
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.models import (
    BillingProfile,
    EventType,
    LedgerEntry,
    LedgerTransaction,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    Settlement,
    SettlementState,
    StripeEvent,
)
from exchange.models.ledger import AccountKind
from exchange.services.common import error
from exchange.services.settlements import _audit_both, cash_enabled, held, settlement_event
from partners.actors import Actor
from partners.models import AuditAction, Brand, Role
from partners.services import audit

log = logging.getLogger(__name__)

LIVE_STATES = (PaymentState.CLAIMED, PaymentState.PROCESSING, PaymentState.REQUIRES_ACTION)
RESUME_AFTER = timedelta(seconds=60)  # a claimed row older than this lost its process


def _fault(point: str) -> None:
    """Fault injection for the exactly-once tests (tests/reliability/test_payment_crash.py):
    the process dies at ``point`` when HUILIU_FAULT names it. Never set in production."""
    if os.environ.get("HUILIU_FAULT") == point:
        os._exit(17)


def _is_owner(actor: Actor, brand_id: int) -> bool:
    return actor.user is not None and actor.roles.get(brand_id) == Role.OWNER


# --- billing ---------------------------------------------------------------------------------
def billing_profile_ensure(*, brand: Brand) -> BillingProfile:
    """The brand's billing profile, with a Stripe Customer created on first need."""
    profile = BillingProfile.objects.filter(brand=brand).first()
    if profile is not None:
        return profile
    owner = brand.memberships.filter(role=Role.OWNER).select_related("user").first()
    customer = stripe_client.customer_create(
        name=brand.display_name("en"),
        email=owner.user.email if owner else "",
        brand_slug=brand.slug,
        idempotency_key=f"customer:brand:{brand.pk}",
    )
    try:
        with transaction.atomic():
            return BillingProfile.objects.create(brand=brand, stripe_customer_id=customer)
    except IntegrityError:  # created concurrently: keep the first
        return BillingProfile.objects.get(brand=brand)


def _check_billing(actor: Actor, brand: Brand) -> None:
    if not _is_owner(actor, brand.pk):
        raise error("brand", _("Only the brand's owners manage its payment card."), E.PERMISSION_DENIED)
    if not cash_enabled():
        raise error("brand", _("Card payments are not available on this platform."), E.CASH_UNAVAILABLE)


def billing_setup_start(*, actor: Actor, brand: Brand) -> tuple[BillingProfile, str]:
    """Start saving a card: returns the profile and the SetupIntent's client secret for
    Stripe.js (``confirmCardSetup``)."""
    _check_billing(actor, brand)
    try:
        profile = billing_profile_ensure(brand=brand)
        _id, client_secret = stripe_client.setup_intent_create(
            customer=profile.stripe_customer_id, payment_method_types=list(settings.STRIPE_PAYMENT_METHOD_TYPES)
        )
    except stripe_client.StripeUnavailable:
        raise error(
            "brand", _("The card service is not answering; try again in a minute."), E.STRIPE_UNAVAILABLE
        ) from None
    return profile, client_secret


def billing_card_save(*, actor: Actor, brand: Brand, setup_intent: str) -> BillingProfile:
    """Keep the card a succeeded SetupIntent saved (checked with Stripe, never taken from the
    browser's word). Audited."""
    _check_billing(actor, brand)
    profile = BillingProfile.objects.filter(brand=brand).first()
    if profile is None or not isinstance(setup_intent, str) or not setup_intent.startswith("seti_"):
        raise error("setup_intent", _("Start again: the card form has expired."), E.INVALID)
    try:
        card = stripe_client.setup_intent_card(setup_intent=setup_intent[:100], customer=profile.stripe_customer_id)
    except stripe_client.StripeUnavailable:
        raise error(
            "brand", _("The card service is not answering; try again in a minute."), E.STRIPE_UNAVAILABLE
        ) from None
    if card is None:
        raise error("setup_intent", _("The card was not saved; enter it again."), E.NO_PAYMENT_METHOD)
    with transaction.atomic():
        profile = BillingProfile.objects.select_for_update().get(pk=profile.pk)
        profile.payment_method_id = card.payment_method
        profile.card_brand, profile.card_last4, profile.card_exp = card.brand[:30], card.last4[:4], card.exp[:7]
        profile.updated_at = timezone.now()
        profile.save()
        audit(
            actor=actor,
            action=AuditAction.BILLING_CARD_SAVED,
            obj=profile,
            brand=brand,
            data={"brand": profile.card_brand, "last4": profile.card_last4},
        )
    return profile


# --- paying ----------------------------------------------------------------------------------
def _in_transaction() -> bool:
    """True inside an atomic block the code opened (a test case's own wrapping blocks, which
    stand for the committed database, do not count — as for Django's ``durable`` atomics)."""
    return any(not getattr(block, "_from_testcase", False) for block in transaction.get_connection().atomic_blocks)


def _claim(actor: Actor, settlement: Settlement) -> Payment:
    with transaction.atomic():
        s = Settlement.objects.select_for_update().select_related("payer").get(pk=settlement.pk)
        if not _is_owner(actor, s.payer_id):
            raise error("settlement", _("Only the paying brand's owners pay a settlement."), E.PERMISSION_DENIED)
        if not cash_enabled():
            raise error("settlement", _("Card payments are not available on this platform."), E.CASH_UNAVAILABLE)
        if s.state != SettlementState.CASH_PENDING:
            raise error(
                "settlement", _("Choose to pay in cash first; this settlement is not payable."), E.SETTLEMENT_NOT_OPEN
            )
        if held(s.campaign_id):
            raise error(
                "settlement",
                _("An open dispute holds this settlement until the platform decides it."),
                E.SETTLEMENT_HELD,
            )
        profile = BillingProfile.objects.filter(brand_id=s.payer_id).exclude(payment_method_id="").first()
        if profile is None:
            raise error("settlement", _("Save a payment card on the billing page first."), E.NO_PAYMENT_METHOD)
        if Payment.objects.filter(settlement=s).exclude(state=PaymentState.FAILED).exists():
            raise error("settlement", _("A payment of this settlement is in progress."), E.PAYMENT_IN_PROGRESS)
        attempt = (
            Payment.objects.filter(settlement=s).order_by("-attempt").values_list("attempt", flat=True).first() or 0
        ) + 1
        try:
            with transaction.atomic():
                payment = Payment.objects.create(
                    settlement=s,
                    attempt=attempt,
                    idempotency_key=f"settlement:{s.pk}:attempt:{attempt}",
                    amount_cents=s.total_cents,
                    currency="CNY",
                )
        except IntegrityError:
            raise error(
                "settlement", _("A payment of this settlement is in progress."), E.PAYMENT_IN_PROGRESS
            ) from None
    return payment


def settlement_pay(*, actor: Actor, settlement: Settlement) -> Payment:
    """Charge the payer's saved card for ``settlement`` (cash + fee, CNY). Returns the payment:
    ``succeeded``, ``failed`` (with the decline reason; the settlement stays payable), or still
    ``claimed`` when Stripe did not answer (the beat finishes it; never charged twice)."""
    payment = _claim(actor, settlement)
    if _in_transaction():
        # Inside an outer transaction (a GraphQL mutation: ATOMIC_MUTATIONS) the claim is not
        # committed yet: calling Stripe now could charge for a row a crash would roll back,
        # and a webhook could not find it. Call once the claim is committed; the beat resumes
        # the claim if that call is lost.
        payment_id = payment.pk
        transaction.on_commit(lambda: payment_execute(payment_id=payment_id), robust=True)
        return payment
    payment_execute(payment_id=payment.pk)
    payment.refresh_from_db()
    return payment


def payment_execute(*, payment_id: int) -> Payment | None:
    """Steps 2 and 3 for a claimed payment (idempotent: anything already applied is left)."""
    payment = Payment.objects.select_related("settlement").filter(pk=payment_id).first()
    if payment is None or payment.state not in LIVE_STATES:
        return payment
    if _in_transaction():
        raise RuntimeError("payment_execute calls Stripe: never inside a transaction (the claim must be committed)")
    profile = BillingProfile.objects.get(brand_id=payment.settlement.payer_id)
    try:
        intent = stripe_client.payment_intent_find_or_create(
            payment_id=payment.pk,
            settlement_id=payment.settlement_id,
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            customer=profile.stripe_customer_id,
            payment_method=profile.payment_method_id,
            idempotency_key=payment.idempotency_key,
            description=f"Huiliu settlement {payment.settlement_id}",
        )
    except stripe_client.StripeUnavailable as exc:
        log.warning("payment %s: Stripe did not answer (%s); the beat retries it", payment.pk, exc)
        return payment
    _fault("after_payment_intent")
    return payment_apply(payment_id=payment.pk, intent=intent)


def payment_apply(*, payment_id: int, intent: stripe_client.Intent) -> Payment:
    """Record what Stripe says of a payment, in one transaction with the row locked: success
    marks the settlement paid and posts the ledger once; a decline fails the attempt and tells
    the payer why; anything in between is kept as it is."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("settlement").get(pk=payment_id)
        if payment.state in (PaymentState.SUCCEEDED, PaymentState.FAILED):
            return payment  # already applied (the webhook or the response came first)
        now = timezone.now()
        if intent.id and not payment.stripe_payment_intent_id:
            payment.stripe_payment_intent_id = intent.id
        payment.updated_at = now
        if intent.status == "succeeded":
            if intent.amount_cents != payment.amount_cents or intent.currency.upper() != payment.currency:
                # Never book what was not charged: leave it for reconciliation to report.
                log.error("payment %s: Stripe charged %s %s", payment.pk, intent.amount_cents, intent.currency)
                payment.save()
                return payment
            _succeed(payment, intent, now)
        elif intent.failure_code or intent.status in ("requires_payment_method", "canceled"):
            _fail(payment, intent, now)
        else:
            payment.state = (
                PaymentState.REQUIRES_ACTION if intent.status == "requires_action" else PaymentState.PROCESSING
            )
            payment.save()
    return payment


def _succeed(payment: Payment, intent: stripe_client.Intent, now: datetime) -> None:
    s = (
        Settlement.objects.select_for_update()
        .select_related("payer", "payee", "campaign__proposal")
        .get(pk=payment.settlement_id)
    )
    posted = rules.post_cash_settlement(
        settlement=s,
        payment_id=payment.pk,
        gap_value_cents=s.gap_value_cents,
        cash_cents=s.cash_cents,
        fee_cents=s.fee_cents,
    )
    payment.state = PaymentState.SUCCEEDED
    payment.succeeded_at = now
    payment.receipt_url = intent.receipt_url[:500]
    payment.ledger_txn = posted.txn
    payment.failure_code = payment.failure_message = ""
    payment.save()
    s.state = SettlementState.PAID
    s.paid_at = s.closed_at = now
    s.last_failure = ""
    s.save(update_fields=["state", "paid_at", "closed_at", "last_failure"])
    _audit_both(
        Actor.system_actor(),
        AuditAction.SETTLEMENT_PAID,
        s,
        {"payment": payment.pk, "amount_cents": payment.amount_cents},
    )
    settlement_event(s, EventType.SETTLEMENT_PAID, s.payer_id, amount_cents=payment.amount_cents)


def _fail(payment: Payment, intent: stripe_client.Intent, now: datetime) -> None:
    s = (
        Settlement.objects.select_for_update()
        .select_related("payer", "payee", "campaign__proposal")
        .get(pk=payment.settlement_id)
    )
    payment.state = PaymentState.FAILED
    payment.failure_code = (intent.failure_code or intent.status)[:60]
    payment.failure_message = (intent.failure_message or _("The payment did not go through."))[:300]
    payment.save()
    s.last_failure = payment.failure_message
    s.save(update_fields=["last_failure"])
    _audit_both(
        Actor.system_actor(),
        AuditAction.SETTLEMENT_PAYMENT_FAILED,
        s,
        {"payment": payment.pk, "code": payment.failure_code, "message": payment.failure_message},
    )
    settlement_event(
        s,
        EventType.SETTLEMENT_FAILED,
        None,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
    )


def payments_resume(*, now: datetime | None = None, older_than: timedelta = RESUME_AFTER) -> int:
    """Finish payments and refunds a dead process left claimed (beat). Returns how many.

    Each row is leased first (its ``updated_at`` moved to now, only if nobody moved it since
    it was read), so two overlapping runs never both call Stripe for it; one row that fails
    is logged and the others still run."""
    now = now or timezone.now()
    cutoff = now - older_than
    done = 0
    for model, claimed, execute, arg in (
        (Payment, PaymentState.CLAIMED, payment_execute, "payment_id"),
        (Refund, RefundState.CLAIMED, refund_execute, "refund_id"),
    ):
        stale = model.objects.filter(state=claimed, created_at__lte=cutoff, updated_at__lte=cutoff)
        for pk in stale.order_by("pk").values_list("pk", flat=True)[:100]:
            if not model.objects.filter(pk=pk, state=claimed, updated_at__lte=cutoff).update(updated_at=now):
                continue  # another run took it
            try:
                execute(**{arg: pk})
            except Exception:  # one bad row must not stop the others; it is retried next run
                log.exception("resuming %s %s failed", model.__name__, pk)
                continue
            done += 1
    return done


# --- refunds ---------------------------------------------------------------------------------
def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def refund_issue(*, settlement: Settlement, gap_value_cents: int, dispute, actor: Actor) -> Refund | None:
    """Refund the cash paid for ``gap_value_cents`` of a paid settlement's gap (its share of
    cash and fee, rounded half up, never more than is left). Runs in the caller's transaction;
    Stripe is called once it commits (and by the beat if that call is lost). Idempotent per
    dispute. Returns the refund, or None when nothing is left to refund."""
    payment = Payment.objects.filter(settlement=settlement, state=PaymentState.SUCCEEDED).first()
    if payment is None or gap_value_cents <= 0 or settlement.gap_value_cents <= 0:
        return None
    key = f"refund:{settlement.pk}:dispute:{dispute.pk}"
    existing = Refund.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    share = min(gap_value_cents, settlement.gap_value_cents)
    refunded = (
        Refund.objects.filter(payment=payment)
        .exclude(state=RefundState.FAILED)
        .aggregate(a=Sum("amount_cents"), f=Sum("fee_cents"), g=Sum("gap_value_cents"))
    )
    cash = _half_up(settlement.cash_cents * share, settlement.gap_value_cents)
    fee = _half_up(settlement.fee_cents * share, settlement.gap_value_cents)
    left = payment.amount_cents - (refunded["a"] or 0)
    if cash + fee > left:
        fee = max(0, min(fee, left - cash))
        cash = min(cash, left - fee)
    if cash + fee <= 0:
        return None
    refund = Refund.objects.create(
        payment=payment,
        idempotency_key=key,
        amount_cents=cash + fee,
        fee_cents=fee,
        gap_value_cents=min(share, settlement.gap_value_cents - (refunded["g"] or 0)),
        reason=_("Dispute %(id)s decided in the payer's favour") % {"id": dispute.pk},
        dispute=dispute,
    )
    audit(
        actor=actor,
        action=AuditAction.SETTLEMENT_REFUNDED,
        obj=settlement,
        brand=settlement.payer,
        data={"refund": refund.pk, "amount_cents": refund.amount_cents, "state": "issued"},
    )
    refund_id = refund.pk

    def _start() -> None:
        from exchange.tasks import settlement_refund_task

        settlement_refund_task.delay(refund_id)

    transaction.on_commit(_start)
    return refund


def refund_execute(*, refund_id: int) -> Refund | None:
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.state not in (RefundState.CLAIMED, RefundState.PENDING):
        return refund
    try:
        result = stripe_client.refund_find_or_create(
            refund_id=refund.pk,
            payment_intent=refund.payment.stripe_payment_intent_id,
            amount_cents=refund.amount_cents,
            idempotency_key=refund.idempotency_key,
        )
    except stripe_client.StripeUnavailable as exc:
        log.warning("refund %s: Stripe did not answer (%s); the beat retries it", refund.pk, exc)
        return refund
    _fault("after_refund")
    return refund_apply(refund_id=refund.pk, result=result)


def refund_apply(*, refund_id: int, result: stripe_client.RefundResult) -> Refund:
    """Record a refund's outcome once: success posts the mirror of the refunded part."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.state in (RefundState.SUCCEEDED, RefundState.FAILED):
            return refund
        if result.id and not refund.stripe_refund_id:
            refund.stripe_refund_id = result.id
        if result.status == "succeeded":
            s = (
                Settlement.objects.select_for_update()
                .select_related("payer", "payee", "campaign__proposal")
                .get(pk=refund.payment.settlement_id)
            )
            posted = rules.post_refund(
                settlement=s,
                refund_id=refund.pk,
                gap_value_cents=refund.gap_value_cents,
                cash_cents=refund.amount_cents - refund.fee_cents,
                fee_cents=refund.fee_cents,
            )
            refund.state = RefundState.SUCCEEDED
            refund.succeeded_at = timezone.now()
            refund.ledger_txn = posted.txn
            refund.save()
            total = Refund.objects.filter(payment=refund.payment, state=RefundState.SUCCEEDED).aggregate(
                a=Sum("amount_cents")
            )["a"]
            if total >= refund.payment.amount_cents:
                s.state = SettlementState.REFUNDED
                s.save(update_fields=["state"])
            settlement_event(s, EventType.SETTLEMENT_REFUNDED, None, refund_cents=refund.amount_cents)
        elif result.status in ("failed", "canceled"):
            refund.state = RefundState.FAILED
            refund.save()
        else:
            refund.state = RefundState.PENDING
            refund.save()
    return refund


# --- webhooks --------------------------------------------------------------------------------
def _payment_of(obj: dict) -> Payment | None:
    if not isinstance(obj, dict):
        return None
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    q = Q(stripe_payment_intent_id=str(obj.get("id") or "")[:255])
    pk = str(meta.get(stripe_client.PAYMENT_KEY, ""))
    if pk.isascii() and pk.isdecimal() and len(pk) < 19:
        q |= Q(pk=int(pk))
    return Payment.objects.filter(q).first()


def stripe_event_handle(*, event: dict) -> str:
    """Apply one verified webhook event, at most once (its id is stored in the same
    transaction). Returns what happened, for the log and the response body."""
    event_id, kind = str(event.get("id") or ""), str(event.get("type") or "")
    if not event_id:
        return "ignored: no id"
    data = event.get("data") if isinstance(event.get("data"), dict) else {}
    obj = data.get("object") if isinstance(data.get("object"), dict) else {}
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = StripeEvent.objects.create(event_id=event_id[:100], type=kind[:80])
        except IntegrityError:
            return "duplicate"
        outcome = "ignored"
        if kind in ("payment_intent.succeeded", "payment_intent.payment_failed"):
            payment = _payment_of(obj)
            try:
                intent = stripe_client._intent(obj) if payment is not None else None
            except (KeyError, TypeError, ValueError):
                # Signed, but not a PaymentIntent: recorded as seen, nothing applied (the beat
                # and reconciliation read the payment from Stripe itself).
                payment, intent = None, None
                outcome = "ignored: not a PaymentIntent"
            if payment is not None:
                if kind == "payment_intent.payment_failed" and not intent.failure_code:
                    intent = stripe_client.Intent(**{**intent.__dict__, "failure_code": "payment_failed"})
                payment = payment_apply(payment_id=payment.pk, intent=intent)
                outcome = f"payment {payment.pk}: {payment.state}"
            elif outcome == "ignored":
                outcome = "unknown payment"
        elif kind == "charge.refunded":
            pi = obj.get("payment_intent") or ""
            payment = Payment.objects.filter(stripe_payment_intent_id=pi).first() if pi else None
            refunds = ((obj.get("refunds") or {}).get("data")) or []
            applied = 0
            for r in refunds:
                meta = r.get("metadata") or {}
                rid = str(meta.get(stripe_client.REFUND_KEY, ""))
                q = Q(stripe_refund_id=r.get("id"))
                if rid.isdigit():
                    q |= Q(pk=int(rid))
                refund = Refund.objects.filter(q).first()
                if refund is not None:
                    refund_apply(refund_id=refund.pk, result=stripe_client._refund(r))
                    applied += 1
            outcome = f"refunds applied: {applied}" if payment else "unknown payment"
        record.outcome = outcome[:200]
        record.save(update_fields=["outcome"])
    return outcome


# --- reconciliation --------------------------------------------------------------------------
def reconcile() -> list[str]:
    """Every difference between what we recorded and what Stripe holds: payments whose
    PaymentIntent is missing, in another amount or state; PaymentIntents we never recorded;
    refunds likewise; succeeded payments and refunds without their ledger transaction (or
    with another cash amount); paid settlements without a succeeded payment."""
    problems: list[str] = []
    intents = {i.id: i for i in stripe_client.payment_intents_all()}
    ours = {p.stripe_payment_intent_id: p for p in Payment.objects.exclude(stripe_payment_intent_id=None)}
    for pi_id, p in ours.items():
        i = intents.get(pi_id)
        if i is None:
            problems.append(f"payment {p.pk}: PaymentIntent {pi_id} not found at Stripe")
            continue
        if i.amount_cents != p.amount_cents:
            problems.append(f"payment {p.pk}: {p.amount_cents} recorded, Stripe has {i.amount_cents} ({pi_id})")
        succeeded = i.status == "succeeded"
        if succeeded != (p.state == PaymentState.SUCCEEDED):
            problems.append(f"payment {p.pk}: {p.state} recorded, Stripe says {i.status} ({pi_id})")
    for pi_id, i in intents.items():
        if pi_id not in ours:
            problems.append(
                f"PaymentIntent {pi_id} ({i.status}, {i.amount_cents} {i.currency}) has no payment recorded"
            )
    refunds = Refund.objects.select_related("payment")
    for pi_id in {r.payment.stripe_payment_intent_id for r in refunds if r.payment.stripe_payment_intent_id}:
        at_stripe = {r.id: r for r in stripe_client.refunds_of(pi_id)}
        mine = {
            r.stripe_refund_id: r for r in refunds if r.payment.stripe_payment_intent_id == pi_id and r.stripe_refund_id
        }
        for rid, r in mine.items():
            theirs = at_stripe.get(rid)
            if theirs is None:
                problems.append(f"refund {r.pk}: {rid} not found at Stripe")
            elif theirs.amount_cents != r.amount_cents or (theirs.status == "succeeded") != (
                r.state == RefundState.SUCCEEDED
            ):
                problems.append(
                    f"refund {r.pk}: {r.amount_cents} {r.state} recorded, Stripe has {theirs.amount_cents} {theirs.status}"
                )
        for rid, theirs in at_stripe.items():
            if rid not in mine:
                problems.append(f"refund {rid} at Stripe ({theirs.amount_cents}) has no refund recorded")
    for p in Payment.objects.filter(state=PaymentState.SUCCEEDED):
        cleared = LedgerEntry.objects.filter(
            transaction__idempotency_key=f"payment:{p.pk}:succeeded", account__kind=AccountKind.STRIPE_CLEARING
        ).aggregate(s=Sum("amount_cents"))["s"]
        if cleared != p.amount_cents:
            problems.append(f"payment {p.pk}: ledger clears {cleared or 0}, payment is {p.amount_cents}")
    for r in Refund.objects.filter(state=RefundState.SUCCEEDED):
        cleared = LedgerEntry.objects.filter(
            transaction__idempotency_key=f"refund:{r.pk}:succeeded", account__kind=AccountKind.STRIPE_CLEARING
        ).aggregate(s=Sum("amount_cents"))["s"]
        if cleared != -r.amount_cents:
            problems.append(f"refund {r.pk}: ledger returns {-(cleared or 0)}, refund is {r.amount_cents}")
    for s in Settlement.objects.filter(state__in=(SettlementState.PAID, SettlementState.REFUNDED)):
        if not Payment.objects.filter(settlement=s, state=PaymentState.SUCCEEDED).exists():
            problems.append(f"settlement {s.pk}: {s.state} without a succeeded payment")
    stray = LedgerTransaction.objects.filter(reason="settlement").exclude(
        idempotency_key__in=[
            f"payment:{pk}:succeeded"
            for pk in Payment.objects.filter(state=PaymentState.SUCCEEDED).values_list("pk", flat=True)
        ]
    )
    for t in stray:
        problems.append(f"ledger transaction {t.pk} ({t.idempotency_key}) books a payment not recorded as succeeded")
    return problems


def payment_list(*, brand: Brand):
    """The brand's payments (as payer), newest first, for its billing page."""
    return Payment.objects.filter(settlement__payer=brand).select_related("settlement__payee").order_by("-created_at")
