"""End to end against a running app: localstripe charges the card and delivers its signed
webhooks to /stripe/webhook/ on the live server; each event is applied once."""

from __future__ import annotations

import time

import pytest

from exchange import services
from exchange.models import LedgerTransaction, Payment, PaymentState, Settlement, SettlementState, StripeEvent
from exchange.services import payments
from tests.fixtures_stripe import CARD_DECLINED_ON_CHARGE, WEBHOOK_SECRET, save_card

pytestmark = pytest.mark.django_db(transaction=True)
EVENTS = ["payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded"]


def _wait_for(predicate, seconds: float = 15.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def hooked(stripe_on, live_server):
    stripe_on.register_webhook(url=f"{live_server.url}/stripe/webhook/", secret=WEBHOOK_SECRET, events=EVENTS)
    return live_server


def test_a_settlement_paid_by_card_is_confirmed_by_stripes_own_webhook(hooked, completed, toys, toys_actor):
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=s)
    assert payment.state == PaymentState.SUCCEEDED
    assert _wait_for(lambda: StripeEvent.objects.filter(type="payment_intent.succeeded").exists()), "no webhook"
    event = StripeEvent.objects.get(type="payment_intent.succeeded")
    assert event.outcome == f"payment {payment.pk}: succeeded"  # found, already applied: no second effect
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1
    assert Settlement.objects.get(pk=s.pk).state == SettlementState.PAID


def test_a_decline_reported_by_webhook_leaves_the_debt_open(hooked, completed, toys, toys_actor):
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    save_card(actor=toys_actor, brand=toys, number=CARD_DECLINED_ON_CHARGE)
    payments.settlement_pay(actor=toys_actor, settlement=s)
    assert _wait_for(lambda: StripeEvent.objects.filter(type="payment_intent.payment_failed").exists())
    assert Payment.objects.get(settlement=s).state == PaymentState.FAILED
    s.refresh_from_db()
    assert s.state == SettlementState.CASH_PENDING and s.last_failure
