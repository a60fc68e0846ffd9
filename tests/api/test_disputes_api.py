"""GraphQL of disputes: openDispute, answerDispute, addDisputeEvidence, withdrawDispute for the
parties; resolveDispute for admins only; disputes / dispute scoped to the parties and staff;
evidence by https link; a constant number of queries however many disputes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from exchange import services
from exchange.models import DeliveryReport, Dispute, Settlement
from partners.actors import Actor
from partners.services import api_key_create
from tests.api.conftest import Gql, gid, session, with_key
from tests.exchange.delivery_support import placement_of
from tests.factories import BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

FIELDS = """id campaignId reportId subject reason reasonLabel statement state stateLabel answer outcome decision
 adjustment openedBy { slug } respondent { slug } evidence { id url note fileUrl side { slug } }"""
OPEN = (
    "mutation($c: ID!, $r: ID, $reason: DisputeReason!, $s: String!, $e: [EvidenceLinkInput!]) {"
    " openDispute(campaign: $c, report: $r, reason: $reason, statement: $s, evidence: $e) {"
    f" dispute {{ {FIELDS} }} errors {{ field code message }} }} }}"
)
ANSWER = (
    "mutation($d: ID!, $a: String!, $e: [EvidenceLinkInput!]) { answerDispute(dispute: $d, answer: $a, evidence: $e)"
    f" {{ dispute {{ {FIELDS} }} errors {{ field code }} }} }}"
)
ADD = (
    "mutation($d: ID!, $e: [EvidenceLinkInput!]!) { addDisputeEvidence(dispute: $d, evidence: $e)"
    " { dispute { evidence { url } } errors { field code } } }"
)
WITHDRAW = "mutation($d: ID!) { withdrawDispute(dispute: $d) { dispute { state } errors { field code } } }"
RESOLVE = (
    "mutation($d: ID!, $o: DisputeOutcome!, $t: String!, $adj: [AdjustmentInput!]) {"
    " resolveDispute(dispute: $d, outcome: $o, decision: $t, adjustments: $adj) {"
    f" dispute {{ {FIELDS} }} errors {{ field code }} }} }}"
)
LIST = f"query($state: DisputeState, $c: ID) {{ disputes(first: 50, state: $state, campaign: $c) {{ edges {{ node {{ {FIELDS} }} }} }} }}"
ONE = f"query($id: ID!) {{ dispute(id: $id) {{ {FIELDS} }} }}"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def done(completed):
    """A completed campaign (real "now" inside the 14-day window: the fixture's windows lie ahead)."""
    campaign = completed(coffee_share=1.0, toys_share=0.5)
    return campaign


def coffee_report(campaign, coffee):
    return DeliveryReport.objects.get(campaign=campaign, placement=placement_of(campaign, coffee))


def _open(client, campaign, report=None, **kw):
    variables = {
        "c": gid("Campaign", campaign.pk),
        "r": gid("DeliveryReport", report.pk) if report else None,
        "reason": "REACH_OVERSTATED" if report else "FIGURES_WRONG",
        "s": "后台只有一万",
        "e": [{"url": "https://example.com/stats", "note": "后台"}],
    }
    variables.update(kw)
    return client(OPEN, variables)["openDispute"]


@pytest.fixture
def outsider(db):
    user = UserFactory()
    MembershipFactory(user=user, brand=BrandFactory(slug="outsider"), role="owner")
    return user


def test_a_party_opens_the_other_answers_and_an_admin_resolves(
    done, coffee, toys, coffee_owner, toys_owner, admin_user
):
    report = coffee_report(done, coffee)
    opened = _open(session(toys_owner), done, report)
    assert opened["errors"] == []
    d = opened["dispute"]
    assert (d["subject"], d["state"], d["openedBy"]["slug"], d["respondent"]["slug"]) == (
        "DELIVERY",
        "OPEN",
        "tiny-toys",
        "bean-house",
    )
    assert d["reportId"] == gid("DeliveryReport", report.pk) and d["evidence"][0]["url"] == "https://example.com/stats"
    assert d["evidence"][0]["fileUrl"] is None
    refused = session(toys_owner)(ANSWER, {"d": d["id"], "a": "x"})["answerDispute"]
    assert refused["errors"][0]["code"] == "permission_denied"
    answered = session(coffee_owner)(ANSWER, {"d": d["id"], "a": "我们的数据是两万", "e": []})["answerDispute"]
    assert answered["errors"] == [] and answered["dispute"]["state"] == "ANSWERED"
    added = session(toys_owner)(ADD, {"d": d["id"], "e": [{"url": "https://example.com/more"}]})["addDisputeEvidence"]
    assert added["errors"] == [] and len(added["dispute"]["evidence"]) == 2
    # Not for a party: resolving is the platform's.
    denied = session(toys_owner)(RESOLVE, {"d": d["id"], "o": "REJECTED", "t": "x"})["resolveDispute"]
    assert denied["errors"][0]["code"] == "permission_denied" and denied["dispute"] is None
    before = Settlement.objects.get(campaign=done).gap_value_cents
    resolved = session(admin_user)(
        RESOLVE,
        {
            "d": d["id"],
            "o": "UPHELD",
            "t": "按后台数据",
            "adj": [{"report": gid("DeliveryReport", report.pk), "reach": report.reach // 2}],
        },
    )["resolveDispute"]
    assert resolved["errors"] == []
    assert (resolved["dispute"]["state"], resolved["dispute"]["outcome"]) == ("RESOLVED", "UPHELD")
    assert str(report.pk) in resolved["dispute"]["adjustment"]
    assert Settlement.objects.get(campaign=done).gap_value_cents < before


def test_bad_input_comes_back_as_errors_and_changes_nothing(done, coffee, toys_owner, admin_user):
    report = coffee_report(done, coffee)
    bad_link = _open(session(toys_owner), done, report, e=[{"url": "http://example.com/"}])
    assert bad_link["errors"][0]["code"] == "evidence_invalid" and bad_link["dispute"] is None
    wrong_type = _open(session(toys_owner), done, None, c=gid("Brand", coffee.pk))
    assert wrong_type["errors"][0]["field"] == "campaign"
    assert not Dispute.objects.exists()
    d = _open(session(toys_owner), done, None)["dispute"]
    assert d["subject"] == "RESULT" and d["reportId"] is None
    again = _open(session(toys_owner), done, None)
    assert again["errors"][0]["code"] == "dispute_already_open"
    no_decision = session(admin_user)(RESOLVE, {"d": d["id"], "o": "REJECTED", "t": " "})["resolveDispute"]
    assert no_decision["errors"][0]["code"] == "decision_required"
    withdrawn = session(toys_owner)(WITHDRAW, {"d": d["id"]})["withdrawDispute"]
    assert withdrawn["errors"] == [] and withdrawn["dispute"]["state"] == "WITHDRAWN"


def test_reads_are_scoped_to_the_parties_and_staff(done, coffee, toys_owner, coffee_owner, admin_user, outsider):
    d = _open(session(toys_owner), done, coffee_report(done, coffee))["dispute"]
    for user in (toys_owner, coffee_owner, admin_user):
        assert session(user)(ONE, {"id": d["id"]})["dispute"]["id"] == d["id"]
        assert [e["node"]["id"] for e in session(user)(LIST)["disputes"]["edges"]] == [d["id"]]
    assert session(outsider)(ONE, {"id": d["id"]})["dispute"] is None
    assert session(outsider)(LIST)["disputes"]["edges"] == []
    assert session(outsider)(LIST, {"c": gid("Campaign", done.pk)})["disputes"]["edges"] == []
    assert Gql(Client())(ONE, {"id": d["id"]})["dispute"] is None
    refused = _open(session(outsider), done, None)
    assert refused["errors"][0]["code"] in {"not_found", "not_a_party"}
    anon = Gql(Client())(WITHDRAW, {"d": d["id"]})["withdrawDispute"]
    assert anon["errors"][0]["code"] == "unauthenticated"
    assert session(toys_owner)(LIST, {"state": "RESOLVED"})["disputes"]["edges"] == []


def test_a_read_only_key_cannot_open_and_a_write_key_can(done, coffee, toys, toys_owner):
    _k, read_only = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="ro", scopes=["read"])
    _k, writer = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="rw", scopes=["read", "write"])
    assert _open(with_key(read_only), done, None)["errors"][0]["code"] == "read_only_key"
    assert _open(with_key(writer), done, None)["errors"] == []


def test_the_list_costs_the_same_queries_however_many_disputes(
    done, coffee, toys, toys_actor, coffee_actor, toys_owner
):
    now = done.completed_at + timedelta(days=1)
    services.dispute_open(
        actor=toys_actor, campaign=done, subject="result", reason="other", statement="one",
        evidence=[{"url": "https://example.com/1"}], now=now,
    )  # fmt: skip
    client = session(toys_owner)
    with CaptureQueriesContext(connection) as one:
        client(LIST)
    for r in DeliveryReport.objects.filter(campaign=done):
        services.dispute_open(
            actor=coffee_actor if r.placement.leg.promoter_id == toys.pk else toys_actor,
            campaign=done, subject="delivery", delivery_report=r, reason="late", statement="late",
            evidence=[{"url": "https://example.com/2"}], now=now,
        )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        data = client(LIST)
    assert len(data["disputes"]["edges"]) == 1 + DeliveryReport.objects.filter(campaign=done).count()
    assert len(many.captured_queries) == len(one.captured_queries)
