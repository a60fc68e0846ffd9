"""The lighter side settles an imbalance in Chromium against localstripe: it chooses cash on the
settlement page, saves a card on the billing page through Stripe.js (localstripe's mock of it),
and pays; Stripe's webhook reaches the running app and the settlement shows paid."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from exchange.models import LedgerTransaction, Settlement, SettlementState, StripeEvent
from tests.browser.conftest import PASSWORD, in_db
from tests.browser.test_proposals import sign_in
from tests.fixtures_stripe import WEBHOOK_SECRET

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def owed(stripe_on, live_server, completed, toys_owner):
    stripe_on.register_webhook(
        url=f"{live_server.url}/stripe/webhook/", secret=WEBHOOK_SECRET, events=["payment_intent.succeeded"]
    )

    def build():
        toys_owner.set_password(PASSWORD)
        toys_owner.save()
        return Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))

    return in_db(build)


def test_the_payer_saves_a_card_and_pays_a_settlement(owed, browser_page, live_server, toys):
    page = browser_page
    sign_in(page, live_server.url, "bo@toys.example")
    page.goto(f"{live_server.url}/settlements/{owed.pk}/")
    expect(page.locator("#settlement-figures [data-figure=total]")).to_contain_text("¥")
    page.shots.take("settlement-open")
    page.locator("#choose-cash").click()
    page.wait_for_load_state()
    page.locator("#add-card").click()
    page.wait_for_load_state()
    inputs = page.locator("#card-element input")
    expect(inputs).to_have_count(5)  # localstripe's Elements mock: number, month, year, cvc, postcode
    for placeholder, value in (
        ("number", "4242424242424242"),
        ("exp_month", "12"),
        ("exp_year", "31"),
        ("cvc", "123"),
        ("postal_code", "20000"),
    ):
        page.locator(f"#card-element input[placeholder={placeholder}]").fill(value)
    page.shots.take("billing-card")
    page.locator("#save-card").click()
    expect(page.locator("#saved-card")).to_contain_text("4242")
    page.goto(f"{live_server.url}/settlements/{owed.pk}/")
    page.locator("#pay-now").click()
    page.wait_for_load_state()
    expect(page.locator("#settlement-state")).to_have_text("已付款")
    expect(page.locator("#payment-list")).to_contain_text("¥")
    page.shots.take("settlement-paid")
    page.locator("#payment-list [data-receipt]").click()
    page.wait_for_load_state()
    expect(page.locator("#receipt-number")).to_have_text(f"HL-{owed.pk:06d}-1")
    expect(page.locator("#receipt-lines [data-line=total]")).to_contain_text("¥")
    page.shots.take("settlement-receipt")

    def settled():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if StripeEvent.objects.filter(type="payment_intent.succeeded").exists():
                break
            time.sleep(0.2)
        return (
            Settlement.objects.get(pk=owed.pk).state,
            LedgerTransaction.objects.filter(reason="settlement").count(),
            StripeEvent.objects.filter(type="payment_intent.succeeded").count(),
        )

    assert in_db(settled) == (SettlementState.PAID, 1, 1)
