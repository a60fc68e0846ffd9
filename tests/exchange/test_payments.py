"""Paying a settlement by card against localstripe: exactly once, whatever arrives first."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from exchange import services, stripe_client
from exchange.ledger.posting import account
from exchange.models import (
    AccountKind,
    BillingProfile,
    DomainEvent,
    EventType,
    LedgerTransaction,
    Payment,
    PaymentState,
    Settlement,
    SettlementState,
    StripeEvent,
)
from exchange.services import payments, refunds, stripe_sync
from tests.fixtures_stripe import CARD_DECLINED_ON_CHARGE, save_card, signed

pytestmark = pytest.mark.django_db


@pytest.fixture
def owed(stripe_on, completed, toys, toys_actor):
    """A settlement Tiny Toys owes, chosen as cash, with a card saved."""
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    return s


def _intents_for(payment_id: int) -> list:
    return [i for i in stripe_client.payment_intents_all() if i.metadata.get("huiliu_payment") == str(payment_id)]


def test_paying_charges_the_card_once_and_books_the_cash(owed, toys, coffee, toys_actor):
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    owed.refresh_from_db()
    assert payment.state == PaymentState.SUCCEEDED and owed.state == SettlementState.PAID
    assert payment.amount_cents == owed.cash_cents + owed.fee_cents
    (intent,) = _intents_for(payment.pk)
    assert (intent.status, intent.amount_cents, intent.currency) == ("succeeded", payment.amount_cents, "CNY")
    assert account(brand=None, kind=AccountKind.STRIPE_CLEARING).balance_cents == payment.amount_cents
    assert account(brand=None, kind=AccountKind.FEES).balance_cents == -owed.fee_cents
    assert account(brand=coffee, kind=AccountKind.CASH).balance_cents == -owed.cash_cents
    assert account(brand=toys, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == 0, "the gap is cleared"
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_PAID).count() == 1
    with pytest.raises(ValidationError) as err:  # a second click
        payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert err.value.error_dict["settlement"][0].code == "settlement_not_open"
    assert len(_intents_for(payment.pk)) == 1


def test_a_declined_card_keeps_the_debt_open_with_the_reason(owed, toys, toys_actor):
    save_card(actor=toys_actor, brand=toys, number=CARD_DECLINED_ON_CHARGE)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    owed.refresh_from_db()
    assert payment.state == PaymentState.FAILED and payment.failure_code == "card_declined"
    assert owed.state == SettlementState.CASH_PENDING and "declined" in owed.last_failure
    event = DomainEvent.objects.get(type=EventType.SETTLEMENT_FAILED)
    assert event.payload["failure_code"] == "card_declined" and "declined" in event.payload["failure_message"]
    assert not LedgerTransaction.objects.filter(reason="settlement").exists()
    # A new card, a new attempt: the debt is paid once.
    save_card(actor=toys_actor, brand=toys)
    second = payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert (second.attempt, second.state) == (2, PaymentState.SUCCEEDED)


def test_only_the_payers_owner_pays_and_only_a_cash_settlement(stripe_on, completed, toys, coffee_actor, toys_actor):
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    save_card(actor=toys_actor, brand=toys)
    with pytest.raises(ValidationError) as err:
        payments.settlement_pay(actor=toys_actor, settlement=s)
    assert err.value.error_dict["settlement"][0].code == "settlement_not_open"
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    with pytest.raises(ValidationError) as err:
        payments.settlement_pay(actor=coffee_actor, settlement=s)
    assert err.value.error_dict["settlement"][0].code == "permission_denied"
    assert not Payment.objects.exists()


def test_without_a_saved_card_nothing_is_claimed(owed, toys_actor):
    with pytest.raises(ValidationError) as err:
        payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert err.value.error_dict["settlement"][0].code == "no_payment_method"
    assert not Payment.objects.exists()


def test_the_webhook_arriving_before_the_api_response_books_once(owed, toys, toys_actor, client):
    save_card(actor=toys_actor, brand=toys)
    payment = payments._claim(toys_actor, owed)
    profile = BillingProfile.objects.get(brand=toys)
    intent = stripe_client.payment_intent_find_or_create(
        payment_id=payment.pk,
        settlement_id=owed.pk,
        amount_cents=payment.amount_cents,
        currency="CNY",
        customer=profile.stripe_customer_id,
        payment_method=profile.payment_method_id,
        idempotency_key=payment.idempotency_key,
        description="t",
    )
    pi = stripe_client._client().v1.payment_intents.retrieve(intent.id).to_dict()
    body, sig = signed({"id": "evt_early_1", "type": "payment_intent.succeeded", "data": {"object": pi}})
    assert (
        client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig).status_code
        == 200
    )
    payments.payment_apply(payment_id=payment.pk, intent=intent)  # the API response, late
    payments.payment_execute(payment_id=payment.pk)  # and a retried task
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.PAID
    assert len(_intents_for(payment.pk)) == 1


def test_a_replayed_webhook_has_one_effect_and_a_bad_signature_none(owed, toys, toys_actor, client):
    save_card(actor=toys_actor, brand=toys)
    payment = payments._claim(toys_actor, owed)
    payments.payment_execute(payment_id=payment.pk)
    pi = stripe_client._client().v1.payment_intents.retrieve(Payment.objects.get().stripe_payment_intent_id).to_dict()
    event = {"id": "evt_replay_1", "type": "payment_intent.succeeded", "data": {"object": pi}}
    body, sig = signed(event)
    bad_body, _ = signed({**event, "id": "evt_forged"})
    answer = client.post("/stripe/webhook/", bad_body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
    assert answer.status_code == 400 and not StripeEvent.objects.exists()
    unsigned = client.post("/stripe/webhook/", body, content_type="application/json")
    assert unsigned.status_code == 400
    for _ in range(3):
        assert (
            client.post(
                "/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig
            ).status_code
            == 200
        )
    assert StripeEvent.objects.filter(event_id="evt_replay_1").count() == 1
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_PAID).count() == 1


def test_reconcile_reports_a_mismatch_made_on_purpose(owed, toys, toys_actor, capsys):
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    call_command("reconcile_stripe")
    assert "match Stripe" in capsys.readouterr().out
    # A charge made behind the platform's back, and a payment row that lies about its amount.
    stripe_client._client().v1.payment_intents.create(
        params={
            "amount": 999,
            "currency": "cny",
            "customer": BillingProfile.objects.get(brand=toys).stripe_customer_id,
            "payment_method": BillingProfile.objects.get(brand=toys).payment_method_id,
            "confirm": True,
            "metadata": {"huiliu_payment": "999999"},
        }
    )
    Payment.objects.filter(pk=payment.pk).update(amount_cents=payment.amount_cents + 1)
    with pytest.raises(SystemExit) as exit_:
        call_command("reconcile_stripe")
    err = capsys.readouterr().err
    assert exit_.value.code == 1
    assert "has no payment recorded" in err
    assert f"payment {payment.pk}: {payment.amount_cents + 1} recorded, Stripe has {payment.amount_cents}" in err
    assert f"payment {payment.pk}: ledger clears {payment.amount_cents}" in err
    Payment.objects.filter(pk=payment.pk).update(amount_cents=payment.amount_cents)


def test_a_dispute_decided_for_the_payer_after_payment_refunds_the_difference_once(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from django.db import transaction

    from exchange.ledger import rules
    from exchange.models import Dispute, Refund, RefundState
    from exchange.services.settlements import settlement_after_dispute

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    paid_gap = owed.gap_value_cents
    # The platform finds Bean House's WeCom delivery overstated by ¥300 of value.
    txn = LedgerTransaction.objects.filter(
        reason="delivery", entries__account__brand=coffee, entries__account__kind=AccountKind.VALUE_DELIVERED
    ).first()
    value = txn.data["value_cents"]
    dispute = Dispute.objects.create(
        campaign=owed.campaign,
        subject="result",
        opened_by=toys,
        respondent=coffee,
        reason="reach_overstated",
        statement="后台曝光少三成",
        state="resolved",
        outcome="upheld",
        decision="按后台数据调整",
        resolved_by=admin_actor.user,
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rules.delivery_correct(
            txn=txn, key=f"dispute:{dispute.pk}:report:{txn.data['report']}", value_cents=value - 30_000
        )
        after = settlement_after_dispute(campaign=owed.campaign, dispute=dispute, actor=admin_actor)
        assert after.refund_value_cents == 30_000
        refunds.refund_issue(
            settlement=after.settlement, gap_value_cents=after.refund_value_cents, dispute=dispute, actor=admin_actor
        )
    refund = Refund.objects.get()
    expected_cash = (owed.cash_cents * 30_000 * 2 + paid_gap) // (2 * paid_gap)
    assert refund.state == RefundState.SUCCEEDED and refund.amount_cents - refund.fee_cents == expected_cash
    (at_stripe,) = stripe_client.refunds_of(payment.stripe_payment_intent_id)
    assert (at_stripe.id, at_stripe.amount_cents) == (refund.stripe_refund_id, refund.amount_cents)
    # Issuing again (a retried decision) refunds nothing more.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        refunds.refund_issue(settlement=owed, gap_value_cents=30_000, dispute=dispute, actor=admin_actor)
    refunds.refund_execute(refund_id=refund.pk)
    assert Refund.objects.count() == 1 and len(stripe_client.refunds_of(payment.stripe_payment_intent_id)) == 1
    assert account(brand=toys, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == 0
    assert (
        account(brand=None, kind=AccountKind.STRIPE_CLEARING).balance_cents
        == payment.amount_cents - refund.amount_cents
    )
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_REFUNDED).count() == 1
    call_command("reconcile_stripe")


def test_an_admin_decision_on_a_paid_settlement_refunds_through_the_dispute_service(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.models import DeliveryReport, Refund, RefundState
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    report = DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=coffee).first()
    dispute = disputes.dispute_open(
        actor=toys_actor,
        campaign=owed.campaign,
        subject="result",
        reason="figures_wrong",
        statement="后台统计的曝光只有报告的一半",
    )
    assert settlement_held(owed)
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(
            actor=admin_actor,
            dispute=dispute,
            outcome="upheld",
            decision="按后台数据，交付减半。",
            adjustments={report.pk: report.reach // 2},
        )
    refund = Refund.objects.get()
    assert refund.state == RefundState.SUCCEEDED and refund.dispute_id == dispute.pk
    (at_stripe,) = stripe_client.refunds_of(payment.stripe_payment_intent_id)
    assert at_stripe.amount_cents == refund.amount_cents
    call_command("reconcile_stripe")
    call_command("check_ledger")


def settlement_held(s) -> bool:
    from exchange.services.settlements import held

    return held(s.campaign_id)


def test_a_charge_refunded_webhook_applies_a_refund_once(owed, toys, coffee, toys_actor, admin_actor, client):
    from exchange.models import Refund, RefundState

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    dispute = _decided(owed, toys, coffee, admin_actor)
    refund = refunds.refund_issue(settlement=owed, gap_value_cents=10_000, dispute=dispute, actor=admin_actor)
    made = stripe_client.refund_find_or_create(
        refund_id=refund.pk,
        payment_intent=payment.stripe_payment_intent_id,
        amount_cents=refund.amount_cents,
        idempotency_key=refund.idempotency_key,
    )
    charge = {
        "id": "ch_test",
        "object": "charge",
        "payment_intent": payment.stripe_payment_intent_id,
        "refunds": {
            "data": [
                {
                    "id": made.id,
                    "amount": made.amount_cents,
                    "status": "succeeded",
                    "payment_intent": payment.stripe_payment_intent_id,
                    "metadata": made.metadata,
                }
            ]
        },
    }
    body, sig = signed({"id": "evt_refund_1", "type": "charge.refunded", "data": {"object": charge}})
    for _ in range(2):
        answer = client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert answer.status_code == 200
    refund.refresh_from_db()
    assert refund.state == RefundState.SUCCEEDED and refund.stripe_refund_id == made.id
    assert LedgerTransaction.objects.filter(reason="refund").count() == 1
    refunds.refund_execute(refund_id=refund.pk)  # the lost task, run late: nothing more
    assert len(stripe_client.refunds_of(payment.stripe_payment_intent_id)) == 1
    assert Refund.objects.count() == 1


def test_a_later_dispute_on_a_paid_settlement_never_refunds_the_same_difference_again(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.models import DeliveryReport, Refund
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    report = DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=coffee).first()
    first = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="figures_wrong", statement="少了一成"
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(
            actor=admin_actor,
            dispute=first,
            outcome="upheld",
            decision="按后台数据，交付按九成计。",
            adjustments={report.pk: report.reach * 9 // 10},
        )
    (refunded,) = Refund.objects.all()
    # A second dispute on the same result, rejected: the figures stand, nothing more comes back.
    second = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="other", statement="再核对一次"
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(actor=admin_actor, dispute=second, outcome="rejected", decision="数据无误。")
    assert list(Refund.objects.values_list("pk", flat=True)) == [refunded.pk]
    assert [r.amount_cents for r in stripe_client.refunds_of(payment.stripe_payment_intent_id)] == [
        refunded.amount_cents
    ]
    call_command("reconcile_stripe")


def test_no_decision_while_a_card_payment_is_in_flight(owed, toys, coffee, toys_actor, admin_actor):
    from exchange.models import DeliveryReport, DisputeState
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payment = payments._claim(toys_actor, owed)  # claimed: Stripe has not answered yet
    report = DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=coffee).first()
    dispute = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="figures_wrong", statement="只有一半"
    )
    with pytest.raises(ValidationError) as caught:
        disputes.dispute_resolve(
            actor=admin_actor,
            dispute=dispute,
            outcome="upheld",
            decision="减半",
            adjustments={report.pk: report.reach // 2},
        )
    assert caught.value.error_dict["dispute"][0].code == "payment_in_progress"
    dispute.refresh_from_db()
    report.refresh_from_db()
    assert dispute.state != DisputeState.RESOLVED and report.reach > 0
    # Stripe answers; the charge books the figures it was made for, then the admin decides.
    payments.payment_execute(payment_id=payment.pk)
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.PAID
    disputes.dispute_resolve(
        actor=admin_actor,
        dispute=dispute,
        outcome="upheld",
        decision="减半",
        adjustments={report.pk: report.reach // 2},
    )


def test_overlapping_resume_runs_call_stripe_once_per_row_and_a_bad_row_stops_nothing(
    stripe_on, completed, toys, coffee, toys_actor, coffee_actor, monkeypatch
):
    from datetime import timedelta

    from django.utils import timezone

    first = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=first, choice="cash")
    save_card(actor=toys_actor, brand=toys)
    stuck = payments._claim(toys_actor, first)  # a process died before calling Stripe
    later = timezone.now() + timedelta(minutes=5)
    calls = []
    real = payments.payment_execute

    def counting(*, payment_id):
        calls.append(payment_id)
        if len(calls) == 1:
            raise RuntimeError("Stripe exploded")  # this row fails once; the run carries on
        return real(payment_id=payment_id)

    monkeypatch.setattr(stripe_sync, "payment_execute", counting)
    assert stripe_sync.payments_resume(now=later) == 0 and calls == [stuck.pk]
    # A second run overlapping the first (same moment): the row is leased, nobody calls Stripe.
    assert stripe_sync.payments_resume(now=later) == 0 and calls == [stuck.pk]
    # After the lease expires the next run finishes it, once.
    assert stripe_sync.payments_resume(now=later + timedelta(minutes=5)) == 1
    assert calls == [stuck.pk, stuck.pk]
    assert Settlement.objects.get(pk=first.pk).state == SettlementState.PAID
    assert len(_intents_for(stuck.pk)) == 1


def _decided(owed, toys, coffee, admin_actor, refund_value_cents=10_000):
    """A dispute decided for the payer by hand: the campaign's reciprocity moved as a decision
    moves it, so ``refund_value_cents`` of the paid gap is the payer's to get back."""
    from exchange.ledger import rules
    from exchange.models import Dispute, TxnReason

    dispute = Dispute.objects.create(
        campaign=owed.campaign,
        subject="result",
        opened_by=toys,
        respondent=coffee,
        reason="figures_wrong",
        statement="x",
        state="resolved",
        outcome="upheld",
        decision="y",
        resolved_by=admin_actor.user,
    )
    still = owed.gap_value_cents - refund_value_cents
    rules.reciprocity_sync(
        campaign=owed.campaign,
        owed={toys.pk: still, coffee.pk: -still},
        key=f"reciprocity:dispute:{dispute.pk}",
        reason=TxnReason.DISPUTE_RESOLUTION,
    )
    return dispute


def _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor, gap_value_cents=10_000):
    """A paid settlement and a refund of part of it, issued (its task not run) and made at Stripe."""
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    dispute = _decided(owed, toys, coffee, admin_actor, gap_value_cents)
    refund = refunds.refund_issue(settlement=owed, gap_value_cents=gap_value_cents, dispute=dispute, actor=admin_actor)
    return payment, refund


def test_a_charge_refunded_webhook_without_its_refunds_list_asks_stripe_for_them(
    owed, toys, coffee, toys_actor, admin_actor, client, django_capture_on_commit_callbacks
):
    from exchange.models import RefundState

    payment, refund = _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor)
    made = stripe_client.refund_find_or_create(
        refund_id=refund.pk,
        payment_intent=payment.stripe_payment_intent_id,
        amount_cents=refund.amount_cents,
        idempotency_key=refund.idempotency_key,
    )
    # Stripe's current API sends the charge without its refunds.
    charge = {"id": "ch_x", "object": "charge", "payment_intent": payment.stripe_payment_intent_id, "refunded": True}
    body, sig = signed({"id": "evt_refunded_bare", "type": "charge.refunded", "data": {"object": charge}})
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
    assert answer.status_code == 200
    refund.refresh_from_db()
    assert (refund.state, refund.stripe_refund_id) == (RefundState.SUCCEEDED, made.id)
    assert len(stripe_client.refunds_of(payment.stripe_payment_intent_id)) == 1, "found, not made again"
    assert LedgerTransaction.objects.filter(reason="refund").count() == 1


def test_a_refund_updated_webhook_applies_the_refund_once(owed, toys, coffee, toys_actor, admin_actor, client):
    from exchange.models import RefundState

    payment, refund = _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor)
    made = stripe_client.refund_find_or_create(
        refund_id=refund.pk,
        payment_intent=payment.stripe_payment_intent_id,
        amount_cents=refund.amount_cents,
        idempotency_key=refund.idempotency_key,
    )
    obj = {
        "id": made.id,
        "object": "refund",
        "amount": made.amount_cents,
        "status": "succeeded",
        "payment_intent": payment.stripe_payment_intent_id,
        "metadata": made.metadata,
    }
    for n in range(2):
        body, sig = signed({"id": f"evt_refund_upd_{n}", "type": "refund.updated", "data": {"object": obj}})
        answer = client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert answer.status_code == 200
    refund.refresh_from_db()
    assert refund.state == RefundState.SUCCEEDED
    assert LedgerTransaction.objects.filter(reason="refund").count() == 1
    assert StripeEvent.objects.get(event_id="evt_refund_upd_0").outcome == "refund applied"


def test_the_beat_asks_stripe_again_about_a_pending_refund_not_before_ten_minutes(
    owed, toys, coffee, toys_actor, admin_actor
):
    from datetime import timedelta

    from django.utils import timezone

    from exchange.models import RefundState

    payment, refund = _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor)
    made = stripe_client.refund_find_or_create(
        refund_id=refund.pk,
        payment_intent=payment.stripe_payment_intent_id,
        amount_cents=refund.amount_cents,
        idempotency_key=refund.idempotency_key,
    )
    pending = stripe_client.RefundResult(id=made.id, status="pending", amount_cents=made.amount_cents)
    assert refunds.refund_apply(refund_id=refund.pk, result=pending).state == RefundState.PENDING
    now = timezone.now()
    assert stripe_sync.payments_resume(now=now + timedelta(minutes=2)) == 0
    refund.refresh_from_db()
    assert refund.state == RefundState.PENDING, "a pending refund is not polled every minute"
    assert stripe_sync.payments_resume(now=now + timedelta(minutes=11)) == 1
    refund.refresh_from_db()
    assert refund.state == RefundState.SUCCEEDED  # localstripe's refund has succeeded meanwhile
    assert len(stripe_client.refunds_of(payment.stripe_payment_intent_id)) == 1


def test_a_refund_stripe_refuses_is_audited_shown_to_admins_and_retried_once(
    owed, toys, coffee, toys_actor, admin_actor, admin_user, django_capture_on_commit_callbacks
):
    from django.test import Client

    from exchange.models import Refund, RefundState
    from partners.models import AuditAction, AuditEvent

    payment, refund = _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor)
    refused = stripe_client.RefundResult(id="re_refused", status="failed", amount_cents=refund.amount_cents)
    assert refunds.refund_apply(refund_id=refund.pk, result=refused).state == RefundState.FAILED
    audited = AuditEvent.objects.filter(action=AuditAction.SETTLEMENT_REFUNDED, brand=toys).order_by("pk")
    assert [e.data.get("state") for e in audited] == ["issued", "failed"]
    assert [r.pk for r in refunds.refunds_failed()] == [refund.pk]
    admin = Client()
    admin.force_login(admin_user)
    page = admin.get("/review/settlement/").content.decode()
    assert f'data-refund="{refund.pk}"' in page
    owner = Client()
    owner.force_login(toys_actor.user)
    assert owner.post(f"/review/refunds/{refund.pk}/retry/").status_code == 403
    assert Refund.objects.count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        answer = admin.post(f"/review/refunds/{refund.pk}/retry/")
    assert answer.status_code == 302
    retry = Refund.objects.exclude(pk=refund.pk).get()
    assert retry.state == RefundState.SUCCEEDED and retry.amount_cents == refund.amount_cents
    (at_stripe,) = stripe_client.refunds_of(payment.stripe_payment_intent_id)
    assert at_stripe.id == retry.stripe_refund_id
    assert refunds.refund_retry(actor=admin_actor, refund=refund).pk == retry.pk, "a second retry is the same one"
    assert refunds.refunds_failed() == []
    with pytest.raises(ValidationError) as err:
        refunds.refund_retry(actor=admin_actor, refund=retry)
    assert err.value.error_dict["refund"][0].code == "refund_not_failed"
    assert LedgerTransaction.objects.filter(reason="refund").count() == 1
    call_command("check_ledger")


def test_a_decision_that_swaps_the_sides_of_a_paid_settlement_refunds_it_all_and_the_other_brand_owes_credit(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.ledger import rules
    from exchange.models import DeliveryReport, Refund, RefundState
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    paid_gap = owed.gap_value_cents
    # Bean House (the payee) delivered a tenth of what it reported: it is the lighter side now.
    dispute = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="figures_wrong", statement="曝光只有一成"
    )
    reports = DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=coffee)
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(
            actor=admin_actor,
            dispute=dispute,
            outcome="upheld",
            decision="按后台数据，咖啡的交付按一成计。",
            adjustments={r.pk: r.reach // 10 for r in reports},
        )
    (refund,) = Refund.objects.all()
    assert refund.state == RefundState.SUCCEEDED and refund.gap_value_cents == paid_gap
    assert refund.amount_cents == payment.amount_cents, "all the payer paid comes back"
    owed.refresh_from_db()
    assert owed.state == SettlementState.REFUNDED and owed.payer_id == toys.pk, "the receipt's figures stand"
    delivered = rules.delivered_by_brand(owed.campaign)
    corrected = delivered[toys.pk] - delivered[coffee.pk]
    assert corrected > 0
    # Bean House owes the corrected gap as traffic credit; Tiny Toys is owed it; no cash is left.
    assert account(brand=coffee, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == corrected
    assert account(brand=toys, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == -corrected
    assert account(brand=None, kind=AccountKind.STRIPE_CLEARING).balance_cents == 0
    assert account(brand=coffee, kind=AccountKind.CASH).balance_cents == 0
    (updated,) = DomainEvent.objects.filter(type=EventType.SETTLEMENT_UPDATED, payload__change="sides_swapped")
    assert updated.payload["owed_by"] == coffee.slug and updated.payload["credit_value_cents"] == corrected
    assert updated.payload["refund_value_cents"] == paid_gap
    from exchange.notices import notice_line

    assert "owes the corrected gap" in notice_line(updated, coffee, "en")
    assert "owes" not in notice_line(updated, toys, "en")
    call_command("reconcile_stripe")
    call_command("check_ledger")


def test_a_later_decision_on_a_refunded_settlement_neither_voids_nor_reopens_it(
    owed, toys, coffee, toys_actor, coffee_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.models import DeliveryReport, Refund
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payments.settlement_pay(actor=toys_actor, settlement=owed)
    reports = list(DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=toys))
    first = disputes.dispute_open(
        actor=coffee_actor, campaign=owed.campaign, subject="result", reason="other", statement="重新核对"
    )
    # Tiny Toys in fact delivered about as much as Bean House: within the tolerance, all is refunded.
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(
            actor=admin_actor,
            dispute=first,
            outcome="upheld",
            decision="玩具的交付按后台数据计。",
            adjustments={r.pk: r.reach * 7 // 3 for r in reports},
        )
    owed.refresh_from_db()
    assert owed.state == SettlementState.REFUNDED
    figures = (owed.gap_value_cents, owed.cash_cents, owed.fee_cents, owed.payer_id)
    opened = DomainEvent.objects.filter(type=EventType.SETTLEMENT_OPENED).count()
    second = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="other", statement="再核对一次"
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(actor=admin_actor, dispute=second, outcome="rejected", decision="数据无误。")
    owed.refresh_from_db()
    assert owed.state == SettlementState.REFUNDED, "not voided, not reopened"
    assert (owed.gap_value_cents, owed.cash_cents, owed.fee_cents, owed.payer_id) == figures
    assert DomainEvent.objects.filter(type=EventType.SETTLEMENT_OPENED).count() == opened
    assert Refund.objects.count() == 1
    call_command("check_ledger")


def test_a_failed_refund_a_later_refund_covers_is_neither_retried_nor_listed(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.models import DeliveryReport, Refund, RefundState
    from exchange.services import disputes

    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    report = DeliveryReport.objects.filter(campaign=owed.campaign, placement__leg__promoter=coffee).first()
    first = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="figures_wrong", statement="少了一成"
    )
    disputes.dispute_resolve(  # its refund task never runs here: Stripe's refusal is applied by hand
        actor=admin_actor,
        dispute=first,
        outcome="upheld",
        decision="按后台数据，交付按九成计。",
        adjustments={report.pk: report.reach * 9 // 10},
    )
    (refund,) = Refund.objects.all()
    refused = stripe_client.RefundResult(id="re_refused", status="failed", amount_cents=refund.amount_cents)
    refunds.refund_apply(refund_id=refund.pk, result=refused)
    assert [r.pk for r in refunds.refunds_failed()] == [refund.pk]
    # A second dispute, rejected: the figures stand, and what is still owed back — the failed
    # refund's part — is refunded by this decision.
    second = disputes.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="other", statement="再核对一次"
    )
    with django_capture_on_commit_callbacks(execute=True):
        disputes.dispute_resolve(actor=admin_actor, dispute=second, outcome="rejected", decision="数据无误。")
    later = Refund.objects.exclude(pk=refund.pk).get()
    assert later.state == RefundState.SUCCEEDED and later.gap_value_cents == refund.gap_value_cents
    assert refunds.refunds_failed() == [], "nothing is left for the failed one to return"
    with pytest.raises(ValidationError) as err:
        refunds.refund_retry(actor=admin_actor, refund=refund)
    assert err.value.error_dict["refund"][0].code == "nothing_left_to_refund"
    assert Refund.objects.count() == 2
    assert [r.amount_cents for r in stripe_client.refunds_of(payment.stripe_payment_intent_id)] == [later.amount_cents]
    call_command("check_ledger")


def test_a_settlement_below_the_minimum_charge_cannot_be_paid_by_card(owed, toys, toys_actor, settings, client):
    save_card(actor=toys_actor, brand=toys)
    settings.STRIPE_MIN_CHARGE_CENTS = owed.total_cents + 1
    with pytest.raises(ValidationError) as err:
        payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert err.value.error_dict["settlement"][0].code == "below_minimum_charge"
    assert "settle it as traffic credit" in err.value.error_dict["settlement"][0].message
    assert not Payment.objects.exists() and stripe_client.payment_intents_all() == []
    owed.state, owed.choice = SettlementState.OPEN, ""
    owed.save()
    with pytest.raises(ValidationError) as err:
        services.settlement_choose(actor=toys_actor, settlement=owed, choice="cash")
    assert err.value.error_dict["settlement"][0].code == "below_minimum_charge"
    client.force_login(toys_actor.user)
    page = client.get(f"/settlements/{owed.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="choose-cash"' not in page and 'id="below-minimum"' in page


def test_a_request_stripe_refuses_fails_the_attempt_with_the_reason_and_charges_nothing(owed, toys, toys_actor):
    profile = save_card(actor=toys_actor, brand=toys)
    profile.payment_method_id = "pm_removed_from_stripe"  # the card was deleted in Stripe's dashboard
    profile.save()
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    owed.refresh_from_db()
    assert payment.state == PaymentState.FAILED and payment.failure_code == "stripe_refused"
    assert owed.state == SettlementState.CASH_PENDING, "the debt stays open"
    assert owed.last_failure_text == "The card service refused this payment; nothing was charged."
    assert stripe_client.payment_intents_all() == []
    assert not LedgerTransaction.objects.filter(reason="settlement").exists()
    # The beat does not retry a refused attempt; the payer saves a card and pays again.
    assert stripe_sync.payments_resume(older_than=payments.RESUME_AFTER * 0) == 0
    save_card(actor=toys_actor, brand=toys)
    assert payments.settlement_pay(actor=toys_actor, settlement=owed).state == PaymentState.SUCCEEDED


def test_a_card_whose_bank_asks_for_confirmation_is_not_left_half_charged(owed, toys, toys_actor):
    profile = save_card(actor=toys_actor, brand=toys)
    client = stripe_client._client()
    pm = client.v1.payment_methods.create(
        params={"type": "card", "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2031, "cvc": "123"}}
    )
    client.v1.payment_methods.attach(pm["id"], params={"customer": profile.stripe_customer_id})
    profile.payment_method_id = pm["id"]
    profile.save()
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    owed.refresh_from_db()
    assert payment.state == PaymentState.FAILED and payment.failure_code == "authentication_required"
    (intent,) = _intents_for(payment.pk)
    assert intent.status == "canceled", "cancelled at Stripe: it can never be captured later"
    assert owed.state == SettlementState.CASH_PENDING and "confirm" in owed.last_failure_text
    assert not LedgerTransaction.objects.filter(reason="settlement").exists()


def test_webhooks_about_another_deployments_or_customers_intents_change_nothing(
    owed, toys, toys_actor, client, settings
):
    save_card(actor=toys_actor, brand=toys)
    payment = payments._claim(toys_actor, owed)  # claimed, no intent recorded yet
    amount = payment.amount_cents

    def event(n, **intent):
        obj = {
            "id": f"pi_other_{n}",
            "object": "payment_intent",
            "status": "succeeded",
            "amount": amount,
            "currency": "cny",
            "customer": BillingProfile.objects.get(brand=toys).stripe_customer_id,
            "metadata": {stripe_client.PAYMENT_KEY: str(payment.pk), stripe_client.DEPLOYMENT_KEY: "huiliu"},
            **intent,
        }
        return signed({"id": f"evt_other_{n}", "type": "payment_intent.succeeded", "data": {"object": obj}})

    settings.STRIPE_DEPLOYMENT = "huiliu"
    staging = event(1, metadata={stripe_client.PAYMENT_KEY: str(payment.pk), stripe_client.DEPLOYMENT_KEY: "staging"})
    stranger = event(2, customer="cus_someone_else")
    for body, sig in (staging, stranger):
        answer = client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert answer.status_code == 200
    payment.refresh_from_db()
    assert payment.state == PaymentState.CLAIMED and payment.stripe_payment_intent_id is None
    # Once the payment has its own intent, an event about another intent naming it is ignored.
    payment.stripe_payment_intent_id = "pi_its_own"
    payment.save()
    body, sig = event(3)
    client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
    payment.refresh_from_db()
    assert payment.state == PaymentState.CLAIMED
    assert not LedgerTransaction.objects.filter(reason="settlement").exists()
    assert StripeEvent.objects.count() == 3


def test_a_refund_stripe_refuses_outright_is_failed_with_its_reason(owed, toys, coffee, toys_actor, admin_actor):
    from exchange.models import RefundState

    payment, refund = _paid_with_refund(owed, toys, coffee, toys_actor, admin_actor)
    # The charge is gone at Stripe (say, a test-mode object deleted): Stripe refuses the refund.
    Payment.objects.filter(pk=payment.pk).update(stripe_payment_intent_id="pi_gone_from_stripe")
    refunds.refund_execute(refund_id=refund.pk)
    refund.refresh_from_db()
    assert refund.state == RefundState.FAILED and refund.failure_message
    assert stripe_client.refunds_of(payment.stripe_payment_intent_id) == []
    assert [r.pk for r in refunds.refunds_failed()] == [refund.pk]


def _late_success_event(payment, profile, n=1):
    obj = {
        "id": f"pi_late_{n}",
        "object": "payment_intent",
        "status": "succeeded",
        "amount": payment.amount_cents,
        "currency": "cny",
        "customer": profile.stripe_customer_id,
        "metadata": {stripe_client.PAYMENT_KEY: str(payment.pk), stripe_client.DEPLOYMENT_KEY: "huiliu"},
    }
    return signed({"id": f"evt_late_{n}", "type": "payment_intent.succeeded", "data": {"object": obj}})


def test_an_attempt_recorded_failed_that_stripe_then_says_charged_is_booked_never_lost(owed, toys, toys_actor, client):
    profile = save_card(actor=toys_actor, brand=toys)
    profile.payment_method_id = "pm_removed_from_stripe"
    profile.save()
    failed = payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert failed.state == PaymentState.FAILED
    services.settlement_choose(actor=toys_actor, settlement=owed, choice="credit")  # the payer gave up on cash
    body, sig = _late_success_event(failed, profile)
    assert (
        client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig).status_code
        == 200
    )
    failed.refresh_from_db()
    owed.refresh_from_db()
    assert failed.state == PaymentState.SUCCEEDED and failed.stripe_payment_intent_id == "pi_late_1"
    assert owed.state == SettlementState.PAID and owed.choice == "cash", "the cash clears the credit it had chosen"
    assert account(brand=toys, kind=AccountKind.TRAFFIC_CREDIT).balance_cents == 0
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1


def test_a_late_charge_on_a_settlement_another_attempt_paid_is_flagged_for_a_refund_not_booked_twice(
    owed, toys, toys_actor, client
):
    from partners.models import AuditAction, AuditEvent

    profile = save_card(actor=toys_actor, brand=toys)
    good_card = profile.payment_method_id
    profile.payment_method_id = "pm_removed_from_stripe"
    profile.save()
    failed = payments.settlement_pay(actor=toys_actor, settlement=owed)
    profile.payment_method_id = good_card
    profile.save()
    paid = payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert paid.state == PaymentState.SUCCEEDED
    body, sig = _late_success_event(failed, profile, 2)
    client.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
    failed.refresh_from_db()
    assert failed.state == PaymentState.FAILED
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1
    flagged = AuditEvent.objects.filter(action=AuditAction.SETTLEMENT_PAYMENT_FAILED, data__needs_refund=True)
    assert flagged.filter(data__late_success="pi_late_2").exists()


def test_refunds_split_in_odd_parts_return_exactly_the_cash_and_the_fee(
    owed, toys, coffee, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from exchange.ledger import rules
    from exchange.models import Refund, RefundState, TxnReason

    # A tiny gap with figures that do not halve evenly: 2 of value, ¥10.01 cash, ¥0.50 fee.
    rules.reciprocity_sync(
        campaign=owed.campaign, owed={toys.pk: 2, coffee.pk: -2}, key="test:tiny", reason=TxnReason.DISPUTE_RESOLUTION
    )
    Settlement.objects.filter(pk=owed.pk).update(gap_value_cents=2, cash_cents=1001, fee_cents=50)
    owed.refresh_from_db()
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    assert payment.amount_cents == 1051
    for refund_value in (1, 2):  # two decisions: half the gap back, then all of it
        owed.refresh_from_db()
        dispute = _decided(owed, toys, coffee, admin_actor, refund_value)
        with django_capture_on_commit_callbacks(execute=True):
            refunds.refund_issue(settlement=owed, gap_value_cents=1, dispute=dispute, actor=admin_actor)
    done = list(Refund.objects.order_by("pk"))
    assert [r.state for r in done] == [RefundState.SUCCEEDED] * 2
    assert sum(r.amount_cents - r.fee_cents for r in done) == 1001 and sum(r.fee_cents for r in done) == 50
    assert account(brand=coffee, kind=AccountKind.CASH).balance_cents == 0
    assert account(brand=None, kind=AccountKind.FEES).balance_cents == 0
    assert account(brand=None, kind=AccountKind.STRIPE_CLEARING).balance_cents == 0
