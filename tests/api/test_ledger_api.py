"""GraphQL of the ledger and settlements: balances and entries for the brand's own people,
credit visible to swap partners, settlements to the parties; choosing and paying."""

from __future__ import annotations

import psycopg
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchange import services, stripe_client
from exchange.models import Settlement, SettlementState
from partners.actors import Actor
from partners.models import ApiKeyScope
from partners.services import api_key_create
from tests.api.conftest import gid, session, with_key
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.fixtures_stripe import save_card

pytestmark = pytest.mark.django_db

LEDGER = """query($b: ID!) { ledger(brand: $b) {
  brand { slug } balances { kind balance { amountCents currency } }
  entries(first: 50) { edges { node { accountKind amount { amountCents currency } balanceAfter { amountCents }
    reason reasonLabel campaignId postedAt } } } } }"""
SETTLEMENTS = """{ settlements(first: 10) { edges { node { id state payer { slug } payee { slug }
  gap { amountCents currency } cash { amountCents currency } fee { amountCents } total { amountCents } held } } } }"""
CHOOSE = """mutation($s: ID!, $c: SettlementChoice!) { chooseSettlement(settlement: $s, choice: $c) {
  settlement { state choice } errors { field code message } } }"""
PAY = """mutation($s: ID!) { paySettlement(settlement: $s) { paymentState settlement { state lastFailure }
  errors { field code message } } }"""


@pytest.fixture
def owed(completed):
    return Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))


def _key(brand, owner, scopes):
    return with_key(api_key_create(actor=Actor(user=owner), brand=brand, name="k", scopes=scopes)[1])


def test_a_brand_reads_its_ledger_with_running_balances(owed, coffee, coffee_owner):
    data = session(coffee_owner)(LEDGER, {"b": gid("Brand", coffee.pk)})["ledger"]
    balances = {b["kind"]: b["balance"] for b in data["balances"]}
    assert balances["VALUE_DELIVERED"]["currency"] == "HLV" and balances["CASH"]["currency"] == "CNY"
    assert balances["TRAFFIC_CREDIT"]["amountCents"] == -owed.gap_value_cents  # Bean House is owed
    entries = [e["node"] for e in data["entries"]["edges"]]
    assert {e["reason"] for e in entries} == {"DELIVERY", "RECIPROCITY"}
    assert all(e["amount"]["currency"] in ("HLV", "CNY") for e in entries)


def test_another_brand_and_anonymous_see_no_ledger_but_partners_see_credit(owed, coffee, toys, toys_owner, anon):
    stranger = MembershipFactory(brand=BrandFactory(), user=UserFactory()).user
    assert session(stranger)(LEDGER, {"b": gid("Brand", coffee.pk)})["ledger"] is None
    assert anon(LEDGER, {"b": gid("Brand", coffee.pk)})["ledger"] is None
    credit = "query($b: ID!) { creditBalance(brand: $b) { amountCents currency } }"
    assert session(toys_owner)(LEDGER, {"b": gid("Brand", coffee.pk)})["ledger"] is None, "a partner: credit only"
    assert session(toys_owner)(credit, {"b": gid("Brand", coffee.pk)})["creditBalance"] == {
        "amountCents": -owed.gap_value_cents,
        "currency": "HLV",
    }
    assert session(stranger)(credit, {"b": gid("Brand", coffee.pk)})["creditBalance"] is None
    assert session(stranger)(SETTLEMENTS)["settlements"]["edges"] == []
    assert session(toys_owner)(SETTLEMENTS)["settlements"]["edges"][0]["node"]["payer"]["slug"] == toys.slug


def test_ledger_entries_cost_the_same_queries_however_many(completed, coffee, coffee_owner, toys, toys_owner):
    caller = session(coffee_owner)
    completed(coffee_share=1.0, toys_share=0.5)
    with CaptureQueriesContext(connection) as few:
        caller(LEDGER, {"b": gid("Brand", coffee.pk)})
    from exchange.ledger.posting import Line, account, ledger_post

    for n in range(12):
        ledger_post(
            key=f"extra:{n}",
            reason="fee",
            lines=[Line(account(brand=coffee, kind="cash"), 100), Line(account(brand=None, kind="fees"), -100)],
        )
    with CaptureQueriesContext(connection) as many:
        caller(LEDGER, {"b": gid("Brand", coffee.pk)})
    assert len(many) == len(few)


def test_the_payer_chooses_credit_with_a_write_key_and_a_read_key_is_refused(owed, toys, toys_owner, coffee_owner):
    s = gid("Settlement", owed.pk)
    read = _key(toys, toys_owner, [ApiKeyScope.READ])
    refused = read(CHOOSE, {"s": s, "c": "CREDIT"})["chooseSettlement"]
    assert refused["errors"][0]["code"] == "read_only_key"
    other = session(coffee_owner)(CHOOSE, {"s": s, "c": "CREDIT"})["chooseSettlement"]
    assert other["errors"][0]["code"] == "permission_denied"
    done = _key(toys, toys_owner, [ApiKeyScope.READ, ApiKeyScope.WRITE])(CHOOSE, {"s": s, "c": "CREDIT"})
    assert done["chooseSettlement"] == {"settlement": {"state": "CREDITED", "choice": "CREDIT"}, "errors": []}
    stranger = MembershipFactory(brand=BrandFactory(), user=UserFactory()).user
    assert session(stranger)(CHOOSE, {"s": s, "c": "CASH"})["chooseSettlement"]["errors"][0]["code"] == "not_found"


def test_paying_needs_the_owner_in_person_never_a_key(
    stripe_on, owed, toys, toys_owner, toys_actor, django_capture_on_commit_callbacks
):
    s = gid("Settlement", owed.pk)
    session(toys_owner)(CHOOSE, {"s": s, "c": "CASH"})
    save_card(actor=toys_actor, brand=toys)
    key = _key(toys, toys_owner, [ApiKeyScope.READ, ApiKeyScope.WRITE])
    assert key(PAY, {"s": s})["paySettlement"]["errors"][0]["code"] == "permission_denied"
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.CASH_PENDING
    with django_capture_on_commit_callbacks(execute=True):
        paid = session(toys_owner)(PAY, {"s": s})["paySettlement"]
        # The mutation commits its claim first; the card is charged right after (never inside it).
        assert paid["errors"] == [] and paid["paymentState"] == "claimed"
    assert Settlement.objects.get(pk=owed.pk).state == SettlementState.PAID


@pytest.mark.django_db(transaction=True)
def test_pay_settlement_commits_its_claim_before_stripe_is_called(
    stripe_on, completed, toys, toys_owner, toys_actor, monkeypatch
):
    """A mutation runs in one transaction (ATOMIC_MUTATIONS): a Stripe call inside it would
    charge for a claim that a crash rolls back and that a webhook cannot find."""
    s = Settlement.objects.get(campaign=completed(coffee_share=1.0, toys_share=0.5))
    services.settlement_choose(actor=toys_actor, settlement=s, choice="cash")
    save_card(actor=toys_actor, brand=toys)
    seen = {}
    real = stripe_client.payment_intent_find_or_create

    def spy(**kw):
        db = connection.settings_dict
        with psycopg.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"] or 5432) as other:
            seen["claims_committed"] = other.execute("select count(*) from exchange_payment").fetchone()[0]
        return real(**kw)

    monkeypatch.setattr(stripe_client, "payment_intent_find_or_create", spy)
    out = session(toys_owner)(PAY, {"s": gid("Settlement", s.pk)})["paySettlement"]
    assert out["errors"] == []
    assert seen == {"claims_committed": 1}, "Stripe was called before the claim was committed"
    assert Settlement.objects.get(pk=s.pk).state == SettlementState.PAID


def test_a_decline_reason_is_for_the_payer_not_the_payee(owed, toys_owner, coffee_owner, client):
    Settlement.objects.filter(pk=owed.pk).update(
        last_failure="Your card has insufficient funds.", state=SettlementState.CASH_PENDING, choice="cash"
    )
    query = "query($s: ID!) { settlement(id: $s) { lastFailure } }"
    s = gid("Settlement", owed.pk)
    assert session(toys_owner)(query, {"s": s})["settlement"]["lastFailure"] == "Your card has insufficient funds."
    assert session(coffee_owner)(query, {"s": s})["settlement"]["lastFailure"] == ""
    client.force_login(coffee_owner)
    assert "insufficient funds" not in client.get(f"/settlements/{owed.pk}/").content.decode()
    client.force_login(toys_owner)
    assert "insufficient funds" in client.get(f"/settlements/{owed.pk}/").content.decode()


def test_held_costs_no_query_per_settlement_and_follows_an_open_dispute(owed, toys, toys_owner, toys_actor):
    caller = session(toys_owner)
    without_held = SETTLEMENTS.replace(" held }", " }")
    with CaptureQueriesContext(connection) as plain:
        caller(without_held)
    with CaptureQueriesContext(connection) as with_held:
        data = caller(SETTLEMENTS)
    assert len(with_held) == len(plain), "held is computed in the list's own query"
    assert data["settlements"]["edges"][0]["node"]["held"] is False
    services.dispute_open(
        actor=toys_actor, campaign=owed.campaign, subject="result", reason="figures_wrong", statement="曝光不足"
    )
    assert caller(SETTLEMENTS)["settlements"]["edges"][0]["node"]["held"] is True
