"""Bringing our payments and refunds in line with what Stripe holds (docs/PAYMENTS.md).

* ``stripe_event_handle`` — one verified webhook event, applied at most once (its StripeEvent
  row is written in the same transaction);
* ``payments_resume`` (beat) — finishes rows a dead process left claimed, and asks again about
  payments still processing and refunds still pending;
* ``reconcile`` — local payments, refunds and ledger cash against Stripe's objects.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from exchange import stripe_client
from exchange.models import (
    BillingProfile,
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
from exchange.services.payments import POLL_AFTER, RESUME_AFTER, payment_apply, payment_execute
from exchange.services.refunds import refund_apply, refund_execute, send_after_commit

log = logging.getLogger(__name__)


def payments_resume(*, now: datetime | None = None, older_than: timedelta = RESUME_AFTER) -> int:
    """Finish payments and refunds a dead process left claimed (beat). Returns how many.

    Each row is leased first (its ``updated_at`` moved to now, only if nobody moved it since
    it was read), so two overlapping runs never both call Stripe for it; one row that fails
    is logged and the others still run."""
    now = now or timezone.now()
    cutoff = now - older_than
    poll_cutoff = now - max(older_than, POLL_AFTER)
    done = 0
    for model, states, since, execute, arg in (
        (Payment, [PaymentState.CLAIMED], cutoff, payment_execute, "payment_id"),
        (Refund, [RefundState.CLAIMED], cutoff, refund_execute, "refund_id"),
        # Stripe answered "not yet" (a bank's asynchronous answer, a pending refund) and its
        # webhook has not come: ask again, less often.
        (Payment, [PaymentState.PROCESSING, PaymentState.REQUIRES_ACTION], poll_cutoff, payment_execute, "payment_id"),
        (Refund, [RefundState.PENDING], poll_cutoff, refund_execute, "refund_id"),
    ):
        stale = model.objects.filter(state__in=states, created_at__lte=since, updated_at__lte=since)
        for pk in stale.order_by("pk").values_list("pk", flat=True)[:100]:
            if not model.objects.filter(pk=pk, state__in=states, updated_at__lte=since).update(updated_at=now):
                continue  # another run took it
            try:
                execute(**{arg: pk})
            except Exception:  # one bad row must not stop the others; it is retried next run
                log.exception("resuming %s %s failed", model.__name__, pk)
                continue
            done += 1
    return done


# --- webhooks --------------------------------------------------------------------------------
def _row_id(value) -> int | None:
    value = str(value or "")
    return int(value) if value.isascii() and value.isdecimal() and len(value) < 19 else None


def _payment_of(obj: dict) -> Payment | None:
    """Our payment an event's PaymentIntent is about. By the intent's id once we have recorded
    it; before that (the webhook came before the API response), by the row id in its metadata
    — only when the metadata names this deployment, the row has no intent yet, and the intent
    is the payer's own customer's. Anything else is not ours (another deployment sharing the
    Stripe account, or a stray object)."""
    if not isinstance(obj, dict):
        return None
    pi_id = str(obj.get("id") or "")[:255]
    if pi_id:
        payment = Payment.objects.filter(stripe_payment_intent_id=pi_id).first()
        if payment is not None:
            return payment
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    pk = _row_id(meta.get(stripe_client.PAYMENT_KEY))
    if pk is None or not stripe_client.ours(meta):
        return None
    # (Or already this intent's: the API response may have recorded it since the lookup above.)
    payment = (
        Payment.objects.filter(pk=pk)
        .filter(Q(stripe_payment_intent_id=None) | Q(stripe_payment_intent_id="") | Q(stripe_payment_intent_id=pi_id))
        .select_related("settlement")
        .first()
    )
    if payment is None:
        return None
    customer = stripe_client.id_of(obj.get("customer"))
    if not BillingProfile.objects.filter(brand_id=payment.settlement.payer_id, stripe_customer_id=customer).exists():
        log.warning("webhook: intent %s names payment %s but not its payer's customer; ignored", pi_id, pk)
        return None
    return payment


def _refund_event_apply(obj) -> bool:
    """Apply a Refund object of a webhook to our refund row, if it is one of ours: by its id
    once recorded; else by the row id in its metadata, only when the metadata names this
    deployment, the row has no Stripe id yet and the refund is of the row's PaymentIntent."""
    if not isinstance(obj, dict) or obj.get("object", "refund") != "refund":
        return False
    rid = str(obj.get("id") or "")[:100]
    refund = Refund.objects.filter(stripe_refund_id=rid).first() if rid else None
    if refund is None:
        meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        pk = _row_id(meta.get(stripe_client.REFUND_KEY))
        if pk is None or not stripe_client.ours(meta):
            return False
        refund = (
            Refund.objects.filter(pk=pk)
            .filter(Q(stripe_refund_id=None) | Q(stripe_refund_id="") | Q(stripe_refund_id=rid))
            .select_related("payment")
            .first()
        )
        pi = stripe_client.id_of(obj.get("payment_intent"))
        if refund is None or not pi or pi != refund.payment.stripe_payment_intent_id:
            return False
    try:
        result = stripe_client._refund(obj)
    except (KeyError, TypeError, ValueError):
        return False
    refund_apply(refund_id=refund.pk, result=result)
    return True


def _refunds_check_after_commit(payment: Payment) -> None:
    open_ids = list(
        Refund.objects.filter(payment=payment, state__in=(RefundState.CLAIMED, RefundState.PENDING)).values_list(
            "pk", flat=True
        )
    )
    send_after_commit(open_ids)


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
            pi = stripe_client.id_of(obj.get("payment_intent"))
            payment = Payment.objects.filter(stripe_payment_intent_id=pi).first() if pi else None
            listed = obj.get("refunds") if isinstance(obj.get("refunds"), dict) else {}
            refunds = listed.get("data") if isinstance(listed.get("data"), list) else []
            applied = sum(_refund_event_apply(r) for r in refunds)
            if payment is not None and not refunds:
                # Stripe's current API no longer lists a charge's refunds in this event: ask
                # Stripe for each refund of the payment still open, once this commits.
                _refunds_check_after_commit(payment)
            outcome = f"refunds applied: {applied}" if payment else "unknown payment"
        elif kind in ("refund.created", "refund.updated", "refund.failed", "charge.refund.updated"):
            outcome = "refund applied" if _refund_event_apply(obj) else "unknown refund"
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
