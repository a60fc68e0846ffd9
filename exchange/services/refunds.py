"""Refunds of a paid settlement, exactly once (docs/PAYMENTS.md "Refunds").

* ``refund_issue`` — after a dispute decision in the payer's favour: a Refund row claimed in
  the decision's transaction, sent to Stripe once that commits (``refund_execute``: the refund
  made for this row if Stripe has one — its metadata names the row — else a new one);
* ``refund_apply`` — records Stripe's answer once (the webhook and the task both use it): a
  success posts the mirror of the refunded part to the ledger; a refusal is audited and listed
  for admins, who may ``refund_retry`` it.
"""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import stripe_client
from exchange.errors import ExchangeError as E
from exchange.ledger import rules
from exchange.models import (
    EventType,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    Settlement,
    SettlementState,
)
from exchange.services.common import error
from exchange.services.payments import fault
from exchange.services.settlements import refund_outstanding_value, settlement_event
from partners.actors import Actor
from partners.models import AuditAction
from partners.services import audit

log = logging.getLogger(__name__)


# --- refunds ---------------------------------------------------------------------------------
def _half_up(numerator: int, denominator: int) -> int:
    return (2 * numerator + denominator) // (2 * denominator)


def send_after_commit(refund_ids: list[int]) -> None:
    """Ask Stripe for these refunds once the caller's transaction commits (a Celery task each;
    the beat resumes any the task never ran)."""

    def _start() -> None:
        from exchange.tasks import settlement_refund_task

        for refund_id in refund_ids:
            settlement_refund_task.delay(refund_id)

    if refund_ids:
        transaction.on_commit(_start)


def _refund_amounts(settlement: Settlement, payment: Payment, gap_value_cents: int) -> tuple[int, int, int] | None:
    """(cash, fee, gap value) to refund for ``gap_value_cents`` of the settlement's gap: never
    more of the gap than is still to refund (``refund_outstanding_value``: earlier refunds and
    what the corrected figures still put on the payer count); its share of the cash and of the
    fee, each rounded half up and each capped by what is left of it (so the payee's cash and
    the platform's fees are returned exactly, however the refunds are split); the last part of
    the gap takes exactly what is left. None: nothing to refund."""
    share = min(gap_value_cents, refund_outstanding_value(settlement))
    if share <= 0 or settlement.gap_value_cents <= 0:
        return None
    done = (
        Refund.objects.filter(payment=payment)
        .exclude(state=RefundState.FAILED)
        .aggregate(a=Sum("amount_cents"), f=Sum("fee_cents"), g=Sum("gap_value_cents"))
    )
    fee_paid = min(settlement.fee_cents, payment.amount_cents)
    cash_left = max(0, payment.amount_cents - fee_paid - ((done["a"] or 0) - (done["f"] or 0)))
    fee_left = max(0, fee_paid - (done["f"] or 0))
    gap_left = settlement.gap_value_cents - (done["g"] or 0)
    share = min(share, gap_left)
    if share <= 0:
        return None
    if share == gap_left:
        cash, fee = cash_left, fee_left
    else:
        cash = min(cash_left, _half_up(settlement.cash_cents * share, settlement.gap_value_cents))
        fee = min(fee_left, _half_up(settlement.fee_cents * share, settlement.gap_value_cents))
    if cash + fee <= 0:
        return None
    return cash, fee, share


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
    amounts = _refund_amounts(settlement, payment, gap_value_cents)
    if amounts is None:
        return None
    cash, fee, share = amounts
    refund = Refund.objects.create(
        payment=payment,
        idempotency_key=key,
        amount_cents=cash + fee,
        fee_cents=fee,
        gap_value_cents=share,
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
    send_after_commit([refund.pk])
    return refund


def refund_retry(*, actor: Actor, refund: Refund) -> Refund:
    """A platform admin asks Stripe again for a refund Stripe refused (a new refund row for the
    same amount, so the failed one stays as it happened). Idempotent: a second call returns the
    same retry. Refused when the payment no longer has that much left to refund."""
    if not actor.is_admin:
        raise error("refund", _("Only platform admins retry a refund."), E.PERMISSION_DENIED)
    with transaction.atomic():
        failed = Refund.objects.select_for_update().select_related("payment__settlement").get(pk=refund.pk)
        if failed.state != RefundState.FAILED:
            raise error("refund", _("Only a failed refund can be retried."), E.REFUND_NOT_FAILED)
        key = f"{failed.idempotency_key}:retry"
        existing = Refund.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return existing
        payment = Payment.objects.select_for_update().get(pk=failed.payment_id)
        settlement = Settlement.objects.select_for_update().get(pk=payment.settlement_id)
        amounts = _refund_amounts(settlement, payment, failed.gap_value_cents)
        if amounts is None:
            # A later decision's refund already returns what this one would have (or the
            # corrected figures put it back on the payer): retrying would refund it twice.
            raise error(
                "refund",
                _("Nothing of this refund is left to return: a later refund already returns it."),
                E.NOTHING_LEFT_TO_REFUND,
            )
        cash, fee, share = amounts
        retry = Refund.objects.create(
            payment=payment,
            idempotency_key=key,
            amount_cents=cash + fee,
            fee_cents=fee,
            gap_value_cents=share,
            reason=failed.reason,
            dispute_id=failed.dispute_id,
        )
        audit(
            actor=actor,
            action=AuditAction.SETTLEMENT_REFUNDED,
            obj=failed.payment.settlement,
            brand=failed.payment.settlement.payer,
            data={"refund": retry.pk, "retry_of": failed.pk, "amount_cents": retry.amount_cents, "state": "issued"},
        )
        send_after_commit([retry.pk])
    return retry


def refunds_failed():
    """Refunds Stripe refused and nobody has retried yet (the admin settlement page)."""
    retried = Refund.objects.filter(idempotency_key__endswith=":retry").values_list("idempotency_key", flat=True)
    keys = {k.removesuffix(":retry") for k in retried}
    failed = [
        r
        for r in Refund.objects.filter(state=RefundState.FAILED)
        .select_related("payment__settlement__payer", "payment__settlement__payee")
        .order_by("-created_at")[:200]
        if r.idempotency_key not in keys
    ]
    # One whose settlement has nothing left to refund (a later decision's refund returned it)
    # needs no retry. Per distinct settlement, so a handful of queries at most.
    outstanding = {s_id: None for s_id in {r.payment.settlement_id for r in failed}}
    for r in failed:
        if outstanding[r.payment.settlement_id] is None:
            outstanding[r.payment.settlement_id] = refund_outstanding_value(r.payment.settlement)
    return [r for r in failed if outstanding[r.payment.settlement_id] > 0]


def refund_execute(*, refund_id: int) -> Refund | None:
    refund = Refund.objects.select_related("payment").filter(pk=refund_id).first()
    if refund is None or refund.state not in (RefundState.CLAIMED, RefundState.PENDING):
        return refund
    # Lease the row: of two processes running it at once (the task and the beat), one calls
    # Stripe.
    if not Refund.objects.filter(
        pk=refund.pk, state__in=(RefundState.CLAIMED, RefundState.PENDING), updated_at=refund.updated_at
    ).update(updated_at=timezone.now()):
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
    except stripe_client.StripeRefused as exc:
        # Refused for good (e.g. the charge was disputed at the bank, or already refunded in
        # Stripe's dashboard): recorded as failed with Stripe's reason, for an admin to act on.
        log.error("refund %s: Stripe refused it (%s %s)", refund.pk, exc.code, exc.message)
        result = stripe_client.RefundResult(id="", status="failed", amount_cents=refund.amount_cents)
        return refund_apply(refund_id=refund.pk, result=result, failure=exc.message)
    fault("after_refund")
    return refund_apply(refund_id=refund.pk, result=result)


def _audit_refund(s: Settlement, refund: Refund, state: str) -> None:
    audit(
        actor=Actor.system_actor(),
        action=AuditAction.SETTLEMENT_REFUNDED,
        obj=s,
        brand=s.payer,
        data={"refund": refund.pk, "amount_cents": refund.amount_cents, "state": state},
    )


def refund_apply(*, refund_id: int, result: stripe_client.RefundResult, failure: str = "") -> Refund:
    """Record a refund's outcome once: success posts the mirror of the refunded part."""
    with transaction.atomic():
        refund = Refund.objects.select_for_update().select_related("payment").get(pk=refund_id)
        if refund.state in (RefundState.SUCCEEDED, RefundState.FAILED):
            return refund
        if result.id and refund.stripe_refund_id and result.id != refund.stripe_refund_id:
            log.error("refund %s: %s is not its own (%s)", refund.pk, result.id, refund.stripe_refund_id)
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
            _audit_refund(s, refund, "succeeded")
            settlement_event(s, EventType.SETTLEMENT_REFUNDED, None, refund_cents=refund.amount_cents)
        elif result.status in ("failed", "canceled"):
            refund.state = RefundState.FAILED
            refund.failure_message = (failure or result.status)[:300]
            refund.save()
            # Money the payer is owed back did not move: the platform must act (the admin
            # settlement page lists failed refunds, with a retry).
            log.error("refund %s of payment %s failed at Stripe (%s)", refund.pk, refund.payment_id, result.status)
            s = Settlement.objects.select_related("payer").get(pk=refund.payment.settlement_id)
            _audit_refund(s, refund, "failed")
        else:
            refund.state = RefundState.PENDING
            refund.save()
    return refund
