"""Stripe for the tests: localstripe started once per session on a loopback port
(tests/support/localstripe.py), the settings pointed at it, and helpers that do what Stripe.js
does in the browser (confirm a SetupIntent with a test card) so service tests can save cards."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest

from tests.support import localstripe

WEBHOOK_SECRET = "whsec_huiliu_tests"
CARD_OK = "4242424242424242"
CARD_DECLINED_ON_CHARGE = "4000000000000341"  # saves fine, every charge is declined


@pytest.fixture(scope="session")
def localstripe_server():
    server = localstripe.start()
    yield server
    localstripe.stop(server)


@pytest.fixture
def stripe_on(settings, localstripe_server):
    settings.STRIPE_SECRET_KEY = "sk_test_huiliu"
    settings.STRIPE_PUBLISHABLE_KEY = "pk_test_huiliu"
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_JS_URL = localstripe_server.js_url
    localstripe_server.flush()  # the database was rolled back: so is Stripe
    return localstripe_server


def save_card(*, actor, brand, number: str = CARD_OK):
    """Save a test card for ``brand`` as its owner would through Stripe.js."""
    from exchange import stripe_client
    from exchange.services import payments

    _profile, client_secret = payments.billing_setup_start(actor=actor, brand=brand)
    setup_intent = client_secret.split("_secret_")[0]
    stripe_client._client().v1.setup_intents.confirm(
        setup_intent,
        params={
            "payment_method_data": {
                "type": "card",
                "card": {"number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"},
            }
        },
    )
    return payments.billing_card_save(actor=actor, brand=brand, setup_intent=setup_intent)


def signed(event: dict, secret: str = WEBHOOK_SECRET, at: int | None = None) -> tuple[bytes, str]:
    """The body and Stripe-Signature header Stripe would send for ``event``."""
    body = json.dumps(event).encode()
    ts = at or int(time.time())
    sig = hmac.new(secret.encode(), b"%d.%s" % (ts, body), hashlib.sha256).hexdigest()
    return body, f"t={ts},v1={sig}"
