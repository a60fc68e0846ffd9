"""A process killed between Stripe's answer and our database write, then a retry: exactly one
PaymentIntent at Stripe (localstripe), one ledger effect, the settlement paid once."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from exchange import services, stripe_client
from exchange.models import LedgerTransaction, Payment, PaymentState, Settlement, SettlementState
from exchange.services import stripe_sync
from tests.fixtures_stripe import save_card
from tests.support.workers import ROOT, worker_env

pytestmark = pytest.mark.django_db(transaction=True)

PAY = """
import django, sys
django.setup()
from exchange.models import Settlement
from exchange.services import payments
from partners.actors import Actor
from partners.models import User
payments.settlement_pay(actor=Actor(user=User.objects.get(pk=int(sys.argv[1]))), settlement=Settlement.objects.get(pk=int(sys.argv[2])))
print("not reached")
"""


def _ours(payment_id: int) -> list:
    return [i for i in stripe_client.payment_intents_all() if i.metadata.get("huiliu_payment") == str(payment_id)]


def test_a_crash_after_the_stripe_call_then_a_retry_charges_once(
    stripe_on, settings, completed, toys, toys_owner, toys_actor
):
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    save_card(actor=toys_actor, brand=toys)
    env = worker_env(
        {
            "DJANGO_SETTINGS_MODULE": "huiliu.settings",
            "DEBUG": "1",
            "STRIPE_SECRET_KEY": settings.STRIPE_SECRET_KEY,
            "STRIPE_PUBLISHABLE_KEY": settings.STRIPE_PUBLISHABLE_KEY,
            "STRIPE_API_BASE": settings.STRIPE_API_BASE,
            "HUILIU_FAULT": "after_payment_intent",
        }
    )
    run = subprocess.run(
        [sys.executable, "-c", PAY, str(toys_owner.pk), str(s.pk)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 17, run.stderr[-2000:]  # killed right after Stripe charged the card
    payment = Payment.objects.get(settlement=s)
    assert payment.state == PaymentState.CLAIMED and payment.stripe_payment_intent_id is None
    assert [i.status for i in _ours(payment.pk)] == ["succeeded"], "Stripe charged; we never wrote it down"

    # The beat finds the claimed row and finishes it: the same PaymentIntent, not a second.
    assert stripe_sync.payments_resume(older_than=timedelta(0)) == 1
    stripe_sync.payments_resume(older_than=timedelta(0))  # and again: nothing to do
    payment.refresh_from_db()
    (intent,) = _ours(payment.pk)
    assert payment.state == PaymentState.SUCCEEDED and payment.stripe_payment_intent_id == intent.id
    assert Settlement.objects.get(pk=s.pk).state == SettlementState.PAID
    assert LedgerTransaction.objects.filter(reason="settlement").count() == 1
