"""The settlement and billing pages: who sees them, what each side can do, cash only with Stripe."""

from __future__ import annotations

import pytest
from django.test import Client

from exchange.models import Settlement, SettlementState
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.fixtures_stripe import save_card

pytestmark = pytest.mark.django_db


def _client(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def owed(completed):
    return Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))


def test_both_parties_see_the_settlement_and_outsiders_get_a_404(owed, coffee_owner, toys_owner, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_PUBLISHABLE_KEY = ""
    payer_page = _client(toys_owner).get(f"/settlements/{owed.pk}/").content.decode()
    assert 'id="choose-credit"' in payer_page and 'id="choose-cash"' not in payer_page, "no Stripe: credit only"
    payee_page = _client(coffee_owner).get(f"/settlements/{owed.pk}/").content.decode()
    assert 'id="settlement-figures"' in payee_page and 'id="choose-credit"' not in payee_page
    stranger = MembershipFactory(brand=BrandFactory(), user=UserFactory()).user
    assert _client(stranger).get(f"/settlements/{owed.pk}/").status_code == 404
    assert _client(stranger).post(f"/settlements/{owed.pk}/choose/", {"choice": "credit"}).status_code == 404
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.OPEN
    listing = _client(coffee_owner).get("/settlements/").content.decode()
    assert f'data-settlement="{owed.pk}"' in listing


def test_the_payer_carries_the_gap_as_credit_from_the_page(owed, toys_owner):
    answer = _client(toys_owner).post(f"/settlements/{owed.pk}/choose/", {"choice": "credit"}, follow=True)
    assert answer.status_code == 200
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.CREDITED


def test_the_payee_cannot_choose_for_the_payer(owed, coffee_owner):
    answer = _client(coffee_owner).post(f"/settlements/{owed.pk}/choose/", {"choice": "credit"}, follow=True)
    assert answer.status_code == 200 and Settlement.objects.get(pk=owed.pk).state == SettlementState.OPEN


def test_billing_is_for_owners_and_offers_a_card_form_when_stripe_is_configured(
    stripe_on, owed, toys, toys_owner, toys_actor
):
    marketer = MembershipFactory(brand=toys, user=UserFactory(), role="marketer").user
    assert _client(marketer).get(f"/dashboard/brands/{toys.slug}/billing/").status_code == 404
    looked = _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/billing/").content.decode()
    assert 'id="add-card-start"' in looked and 'id="card-form"' not in looked, "no SetupIntent for a mere visit"
    page = _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/billing/?card=new")
    html = page.content.decode()
    assert page.status_code == 200 and 'id="card-form"' in html and page["Cache-Control"] == "no-store"
    assert stripe_on.url in page["Content-Security-Policy"], "Stripe.js allowed on this page only"
    assert stripe_on.url not in _client(toys_owner).get(f"/settlements/{owed.pk}/")["Content-Security-Policy"]
    save_card(actor=toys_actor, brand=toys)
    assert "4242" in _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/billing/").content.decode()
    forged = _client(toys_owner).post(
        f"/dashboard/brands/{toys.slug}/billing/card/", {"setup_intent": "seti_forged"}, follow=True
    )
    assert forged.status_code == 200 and "4242" in forged.content.decode()  # refused, the saved card stays


def test_the_campaign_dashboard_shows_the_settlement_and_the_payers_credit_to_both_sides(
    owed, coffee_owner, toys_owner
):
    for user in (coffee_owner, toys_owner):
        html = _client(user).get(f"/campaigns/{owed.campaign_id}/").content.decode()
        assert 'id="reciprocity-settlement"' in html and f"/settlements/{owed.pk}/" in html
        assert 'id="reciprocity-promised"' in html


def test_admins_set_the_policy_and_see_who_carries_credit(owed, admin_user, toys_owner):
    from exchange.models import SettlementPolicy

    admin = _client(admin_user)
    page = admin.get("/review/settlement/").content.decode()
    assert 'id="credit-overview"' in page
    refused = admin.post(
        "/review/settlement/",
        {"tolerance_percent": "150", "cash_per_100_value": "80", "fee_basis_points": "200", "choose_within_days": "5"},
    )
    assert refused.status_code == 200 and SettlementPolicy.objects.get().tolerance_percent == 10
    saved = admin.post(
        "/review/settlement/",
        {"tolerance_percent": "5", "cash_per_100_value": "80", "fee_basis_points": "200", "choose_within_days": "5"},
    )
    assert saved.status_code == 302 and SettlementPolicy.objects.get().cash_per_100_value == 80
    assert _client(toys_owner).get("/review/settlement/").status_code == 403


def test_the_ledger_page_shows_balances_and_running_balances_to_the_brand_only(owed, toys, toys_owner, coffee_owner):
    import re

    from exchange.ledger.posting import account
    from huiliu.formatting import money

    html = _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/ledger/").content.decode()
    assert 'data-balance="traffic_credit"' in html and 'id="ledger-entries"' in html
    shown = dict(re.findall(r'data-balance="([a-z_]+)">([^<]+)<', html))
    delivered = account(brand=toys, kind="value_delivered").balance_cents
    assert delivered < 0 and shown["value_delivered"] == money(-delivered, "HLV"), "delivered reads positive, in HLV"
    assert shown["traffic_credit"] == money(owed.gap_value_cents, "HLV") and shown["cash"] == money(0)
    filtered = _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/ledger/?account=traffic_credit").content.decode()
    assert filtered.count('data-entry="') == 1
    assert _client(coffee_owner).get(f"/dashboard/brands/{toys.slug}/ledger/").status_code == 404


def test_a_paid_settlement_has_a_receipt_for_the_payer_with_what_was_charged_and_refunded(
    stripe_on, owed, toys, toys_owner, toys_actor, coffee_owner, admin_user
):
    from exchange import services
    from exchange.models import Refund, RefundState
    from exchange.services import payments
    from huiliu.formatting import money

    services.settlement_choose(actor=toys_actor, settlement=owed, choice="cash")
    save_card(actor=toys_actor, brand=toys)
    payment = payments.settlement_pay(actor=toys_actor, settlement=owed)
    owed.refresh_from_db()
    url = f"/settlements/{owed.pk}/receipts/{payment.attempt}/"
    settlement_page = _client(toys_owner).get(f"/settlements/{owed.pk}/").content.decode()
    assert f'href="{url}"' in settlement_page
    assert f'href="{url}"' in _client(toys_owner).get(f"/dashboard/brands/{toys.slug}/billing/").content.decode()
    answer = _client(toys_owner).get(url, HTTP_ACCEPT_LANGUAGE="en")
    html = answer.content.decode()
    assert answer.status_code == 200 and f"HL-{owed.pk:06d}-1" in html
    assert money(owed.cash_cents) in html and money(owed.fee_cents) in html and money(payment.amount_cents) in html
    assert payment.stripe_payment_intent_id in html and "Net paid" not in html
    assert _client(admin_user).get(url).status_code == 200
    assert _client(coffee_owner).get(url).status_code == 404, "the payee sees the settlement, not the payer's receipt"
    assert _client(toys_owner).get(f"/settlements/{owed.pk}/receipts/{payment.attempt + 1}/").status_code == 404
    # A refund since: listed, and the net that stays paid.
    Refund.objects.create(
        payment=payment,
        idempotency_key="test-refund",
        amount_cents=1_000,
        state=RefundState.SUCCEEDED,
        succeeded_at=payment.succeeded_at,
        reason="dispute decided",
    )
    html = _client(toys_owner).get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Net paid" in html and money(payment.amount_cents - 1_000) in html and "dispute decided" in html
