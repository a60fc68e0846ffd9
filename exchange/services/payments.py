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
     (``stripe_sync.stripe_event_handle``) applies the same outcome through the same function, so whichever
     comes first wins and the other changes nothing.
  A process that dies between 2 and 3 leaves the row claimed; ``stripe_sync.payments_resume`` (beat) calls
  step 2 again, which finds the PaymentIntent instead of making a second.
Refunds live in ``exchange.services.refunds``; webhooks, the resume beat and reconciliation in
``exchange.services.stripe_sync``.
"""

from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import stripe_client
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.models import (
    BillingProfile,
    EventType,
    Payment,
    PaymentState,
    Settlement,
    SettlementChoice,
    SettlementState,
)
from exchange.services.common import error
from exchange.services.settlements import _audit_both, below_minimum, cash_enabled, held, settlement_event
from partners.actors import Actor
from partners.models import AuditAction, Brand, Role
from partners.services import audit

log = logging.getLogger(__name__)

LIVE_STATES = (PaymentState.CLAIMED, PaymentState.PROCESSING, PaymentState.REQUIRES_ACTION)
# A claimed row untouched this long lost its process: well beyond the longest a live call can
# take (two Stripe requests of at most STRIPE_TIMEOUT_SECONDS each), so the beat never calls
# Stripe for a row whose first call is still running.
RESUME_AFTER = timedelta(seconds=120)
POLL_AFTER = timedelta(minutes=10)  # a processing payment or pending refund is asked about again


def fault(point: str) -> None:
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
        below_minimum(s)
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
    # Lease the row (its ``updated_at`` moved only if nobody moved it since we read it): of two
    # processes resuming the same row, one calls Stripe.
    if not Payment.objects.filter(pk=payment.pk, state__in=LIVE_STATES, updated_at=payment.updated_at).update(
        updated_at=timezone.now()
    ):
        return payment
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
    except stripe_client.StripeRefused as exc:
        # Refused for good (no charge was made): retrying the same request cannot succeed, so
        # the attempt fails with the reason and the settlement stays payable (or credit).
        log.error("payment %s: Stripe refused the request (%s %s)", payment.pk, exc.code, exc.message)
        intent = stripe_client.Intent(
            id="",
            status="canceled",
            amount_cents=payment.amount_cents,
            currency=payment.currency,
            failure_code="stripe_refused",
            failure_message=exc.message,
        )
    fault("after_payment_intent")
    if intent.status == "requires_action":
        # The bank wants the cardholder to confirm (3-D Secure); nobody is there to do it for a
        # saved card charged off-session. Cancel the intent, so it can never be captured
        # later, and fail the attempt with what to do.
        try:
            intent = stripe_client.payment_intent_cancel(intent.id)
        except stripe_client.StripeUnavailable as exc:
            log.warning("payment %s: cancelling the unconfirmed intent failed (%s); retried", payment.pk, exc)
            return payment_apply(payment_id=payment.pk, intent=intent)
        intent = stripe_client.Intent(**{**intent.__dict__, "failure_code": "authentication_required"})
    return payment_apply(payment_id=payment.pk, intent=intent)


def payment_apply(*, payment_id: int, intent: stripe_client.Intent) -> Payment:
    """Record what Stripe says of a payment, in one transaction with the row locked: success
    marks the settlement paid and posts the ledger once; a decline fails the attempt and tells
    the payer why; anything in between is kept as it is."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("settlement").get(pk=payment_id)
        if payment.state == PaymentState.SUCCEEDED:
            return payment  # already applied (the webhook or the response came first)
        now = timezone.now()
        if payment.state == PaymentState.FAILED:
            # Settled as failed, yet Stripe says this attempt charged the card (a late answer
            # about an intent we could not read): the money moved, so it is booked — never lost.
            if intent.status == "succeeded" and intent.id in ("", payment.stripe_payment_intent_id or intent.id):
                _late_success(payment, intent, now)
            return payment
        if intent.id and payment.stripe_payment_intent_id and intent.id != payment.stripe_payment_intent_id:
            # Not this payment's PaymentIntent (another deployment's, or a forged match): the
            # payment's own intent decides it, never another one.
            log.error(
                "payment %s: intent %s is not its own (%s)", payment.pk, intent.id, payment.stripe_payment_intent_id
            )
            return payment
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


def _late_success(payment: Payment, intent: stripe_client.Intent, now: datetime) -> None:
    """A failed attempt Stripe says succeeded after all. Booked as the settlement's payment when
    nothing else paid it (the payer may have switched to credit meanwhile: the cash clears
    that credit); otherwise the platform holds a second charge: logged and audited for an admin
    to refund at Stripe (``reconcile_stripe`` lists it too)."""
    s = Settlement.objects.select_for_update().get(pk=payment.settlement_id)
    other = Payment.objects.filter(settlement=s).exclude(pk=payment.pk).exclude(state=PaymentState.FAILED).exists()
    wrong_amount = intent.amount_cents != payment.amount_cents or intent.currency.upper() != payment.currency
    if other or wrong_amount or s.state in (SettlementState.PAID, SettlementState.REFUNDED, SettlementState.VOID):
        log.error(
            "payment %s was charged (%s) after it was recorded as failed, but settlement %s is %s: "
            "refund the charge at Stripe",
            payment.pk,
            intent.id,
            s.pk,
            s.state,
        )
        _audit_both(
            Actor.system_actor(),
            AuditAction.SETTLEMENT_PAYMENT_FAILED,
            s,
            {"payment": payment.pk, "late_success": intent.id, "needs_refund": True},
        )
        return
    if intent.id and not payment.stripe_payment_intent_id:
        payment.stripe_payment_intent_id = intent.id
    s.choice = SettlementChoice.CASH
    s.defaulted = False
    s.save(update_fields=["choice", "defaulted"])
    _succeed(payment, intent, now)


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


def payment_list(*, brand: Brand):
    """The brand's payments (as payer), newest first, for its billing page."""
    return Payment.objects.filter(settlement__payer=brand).select_related("settlement__payee").order_by("-created_at")
