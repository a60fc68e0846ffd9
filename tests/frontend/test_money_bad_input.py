"""Bad input on the settlement, dispute and Stripe webhook endpoints: a clear answer, never a
500, nothing changed. ``str.isdigit`` accepts "²", which ``int()`` refuses; a 30-digit reach
would overflow the ledger's amounts."""

from __future__ import annotations

import pytest
from django.test import Client

from exchange.models import DeliveryReport, DisputeState, SettlementPolicy
from exchange.services import disputes
from exchange.services.settlements import settlement_policy
from tests.fixtures_stripe import WEBHOOK_SECRET, signed

pytestmark = pytest.mark.django_db


def _signed_in(user) -> Client:
    c = Client(raise_request_exception=False)
    c.force_login(user)
    c.cookies.load({"django_language": "en"})
    return c


def test_a_unicode_digit_in_the_settlement_policy_is_refused(admin_user):
    before = settlement_policy().tolerance_percent
    r = _signed_in(admin_user).post(
        "/review/settlement/",
        {"tolerance_percent": "²", "cash_per_100_value": "100", "fee_basis_points": "300", "choose_within_days": "7"},
    )
    assert r.status_code in (200, 400)
    assert SettlementPolicy.objects.get(pk=1).tolerance_percent == before


def test_a_unicode_digit_as_the_report_of_a_new_dispute_is_not_found(completed, toys_owner):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    assert _signed_in(toys_owner).get(f"/campaigns/{campaign.pk}/disputes/new/?report=%C2%B2").status_code == 404


@pytest.mark.parametrize("reach", ["²", "9" * 30])
def test_an_unusable_corrected_reach_is_refused_and_the_dispute_stays_open(completed, toys_actor, admin_user, reach):
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    d = disputes.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="数据不符"
    )
    report = DeliveryReport.objects.filter(campaign=campaign).first()
    r = _signed_in(admin_user).post(
        f"/review/disputes/{d.pk}/", {"outcome": "upheld", "decision": "按后台数据", f"reach_{report.pk}": reach}
    )
    assert r.status_code in (200, 400)
    assert "whole number" in r.content.decode() or "more than can be reported" in r.content.decode()
    d.refresh_from_db()
    assert d.state != DisputeState.RESOLVED


def test_a_huge_corrected_reach_through_the_service_is_a_typed_error(completed, toys_actor, admin_actor):
    from django.core.exceptions import ValidationError

    campaign = completed(coffee_share=1.0, toys_share=0.5)
    d = disputes.dispute_open(
        actor=toys_actor, campaign=campaign, subject="result", reason="figures_wrong", statement="数据不符"
    )
    report = DeliveryReport.objects.filter(campaign=campaign).first()
    with pytest.raises(ValidationError) as caught:
        disputes.dispute_resolve(
            actor=admin_actor, dispute=d, outcome="upheld", decision="x", adjustments={report.pk: 10**30}
        )
    assert caught.value.error_dict["adjustments"][0].code == "reach_above_promised"


def test_webhook_bodies_that_are_not_signed_events_get_400(settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    c = Client(raise_request_exception=False)
    for body, sig in ((b"\xff\xfe", "t=1,v1=ab"), (b"{}", ""), (b"not json", "garbage"), (b"[]", "t=abc,v1=")):
        r = c.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert r.status_code == 400, body
    for event in (["x"], {"data": {}}):  # signed with the right secret, but not an event
        body, sig = signed(event)
        r = c.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert r.status_code == 400, event


def test_signed_payment_events_without_a_payment_intent_are_recorded_and_change_nothing(settings):
    from exchange.models import StripeEvent

    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    c = Client(raise_request_exception=False)
    odd = (
        {"id": "evt_odd_1", "type": "payment_intent.succeeded", "data": {"object": {"id": "pi_1"}}},
        {"id": "evt_odd_2", "type": "payment_intent.succeeded", "data": {"object": ["x"]}},
        {
            "id": "evt_odd_3",
            "type": "payment_intent.succeeded",
            "data": {"object": {"metadata": {"huiliu_payment": "²"}}},
        },
        {"id": "evt_odd_4", "type": "charge.refunded", "data": {"object": {"refunds": {"data": [{"id": "re_1"}]}}}},
    )
    for event in odd:
        body, sig = signed(event)
        r = c.post("/stripe/webhook/", body, content_type="application/json", HTTP_STRIPE_SIGNATURE=sig)
        assert r.status_code == 200, (event, r.status_code)
    assert StripeEvent.objects.count() == len(odd)
