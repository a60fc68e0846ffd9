"""GraphQL of coupons and reported events: the promoted brand reports and reverses, the other
party reads, anyone else is refused or sees nothing; read-only keys cannot write."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange.models import Coupon, LegDayMetrics, ReportedEvent
from exchange.services import conversions_report, coupon_batch_generate
from partners.actors import Actor
from partners.services import api_key_create
from tests.api.conftest import Gql, gid, session, with_key
from tests.factories import BrandFactory, MembershipFactory, UserFactory
from tests.fixtures_reported import click_on, order, placement_of

pytestmark = pytest.mark.django_db

REPORT = """
mutation($brand: ID!, $rows: [ConversionInput!]!) {
  reportConversions(brand: $brand, rows: $rows) {
    newCount
    accepted { index externalId duplicate event { id kind state amount { amountCents currency } attribution
               trackingCode reporter { slug } promoter { slug } canReverse campaignId } }
    rejected { index externalId code message }
    errors { field code message }
  }
}"""
MEMBERS = """
mutation($brand: ID!, $rows: [NewMemberInput!]!) {
  reportNewMembers(brand: $brand, rows: $rows) {
    newCount accepted { externalId duplicate event { kind state } } rejected { code } errors { code }
  }
}"""
REVERSE = """
mutation($event: ID!, $reason: ReverseReason!) {
  reverseReportedEvent(event: $event, reason: $reason) { event { state reversedReason reversedReasonLabel } errors { field code } }
}"""
GENERATE = """
mutation($placement: ID!, $size: Int!) {
  generateCoupons(placement: $placement, size: $size) { couponBatch { size redeemedCount downloadUrl placementId } errors { field code } }
}"""
LIST = """
query($campaign: ID) { reportedEvents(campaign: $campaign, first: 100) { edges { node {
  externalId state reporter { slug } promoter { slug } amount { formatted } trackingCode } } } }"""
BATCH = "query($p: ID!) { couponBatch(placement: $p) { size redeemedCount downloadUrl } }"


def _rows(cp, n, prefix="G"):
    return [
        {
            "externalId": f"{prefix}-{i}",
            "amountCents": 1000 + i,
            "currency": "CNY",
            "occurredAt": (timezone.now() - timedelta(minutes=5)).isoformat(),
            "trackingCode": cp.link.code,
        }
        for i in range(n)
    ]


@pytest.fixture
def toys_key(toys, toys_owner):
    return api_key_create(actor=Actor(user=toys_owner), brand=toys, name="shop", scopes=["read", "events:write"])[1]


@pytest.fixture
def toys_read_key(toys, toys_owner):
    return api_key_create(actor=Actor(user=toys_owner), brand=toys, name="ro", scopes=["read"])[1]


@pytest.fixture
def stranger():
    brand = BrandFactory(slug="stranger")
    return MembershipFactory(brand=brand, role="owner", user=UserFactory(username="s@x.example")).user


def test_write_key_reports_and_a_retry_says_duplicate(toys_leg, toys, toys_key, coffee):
    cp = placement_of(toys_leg)
    gql = with_key(toys_key)
    rows = _rows(cp, 3) + [{**_rows(cp, 1)[0], "externalId": "bad", "currency": "yuan"}]
    first = gql(REPORT, {"brand": gid("Brand", toys.pk), "rows": rows})["reportConversions"]
    assert first["errors"] == [] and first["newCount"] == 3
    assert [(a["index"], a["duplicate"]) for a in first["accepted"]] == [(0, False), (1, False), (2, False)]
    event = first["accepted"][0]["event"]
    assert (event["kind"], event["state"], event["attribution"]) == ("CONVERSION", "PENDING", "CODE")
    assert event["amount"] == {"amountCents": 1000, "currency": "CNY"}
    assert (event["reporter"]["slug"], event["promoter"]["slug"], event["canReverse"]) == (
        toys.slug,
        coffee.slug,
        True,
    )
    assert first["rejected"] == [
        {"index": 3, "externalId": "bad", "code": "invalid_currency", "message": first["rejected"][0]["message"]}
    ]
    again = gql(REPORT, {"brand": gid("Brand", toys.pk), "rows": rows})["reportConversions"]
    assert again["newCount"] == 0 and all(a["duplicate"] for a in again["accepted"])
    assert [a["event"]["id"] for a in again["accepted"]] == [a["event"]["id"] for a in first["accepted"]]
    assert ReportedEvent.objects.count() == 3


def test_new_members_through_graphql(toys_leg, toys, toys_key):
    click = click_on(toys_leg)
    rows = [{"externalId": "h1", "occurredAt": timezone.now().isoformat(), "clickId": click.click_id.hex}]
    out = with_key(toys_key)(MEMBERS, {"brand": gid("Brand", toys.pk), "rows": rows})["reportNewMembers"]
    assert out["newCount"] == 1 and out["accepted"][0]["event"] == {"kind": "NEW_MEMBER", "state": "PENDING"}
    assert LegDayMetrics.objects.get(leg=toys_leg).new_members == 1


def test_other_party_stranger_anonymous_and_read_key_cannot_report(
    toys_leg, toys, coffee_owner, stranger, toys_read_key
):
    cp = placement_of(toys_leg)
    variables = {"brand": gid("Brand", toys.pk), "rows": _rows(cp, 1)}
    callers = [
        ("permission_denied", session(coffee_owner)),  # the other party: it brought the traffic
        ("permission_denied", session(stranger)),  # the brand's public profile is visible, its reports not
        ("unauthenticated", Gql(Client())),
        ("read_only_key", with_key(toys_read_key)),
    ]
    for code, gql in callers:
        out = gql(REPORT, variables)["reportConversions"]
        assert [e["code"] for e in out["errors"]] == [code], code
        assert out["accepted"] == [] and out["rejected"] == []
    assert not ReportedEvent.objects.exists()


def test_more_than_500_rows_is_one_error_and_nothing_stored(toys_leg, toys, toys_key, settings):
    settings.EXCHANGE_REPORT_BATCH_MAX = 5  # the same rule as 500, in a request under the size limit
    out = with_key(toys_key)(REPORT, {"brand": gid("Brand", toys.pk), "rows": _rows(placement_of(toys_leg), 6)})
    assert [e["code"] for e in out["reportConversions"]["errors"]] == ["batch_too_large"]
    assert not ReportedEvent.objects.exists()


def test_reverse_by_reporter_and_refusals(toys_leg, toys, toys_actor, toys_key, coffee_owner, stranger):
    event = (
        conversions_report(
            actor=toys_actor, brand=toys, rows=[order("o1", tracking_code=placement_of(toys_leg).link.code)]
        )
        .accepted[0]
        .event
    )
    variables = {"event": gid("ReportedEvent", event.pk), "reason": "REFUND"}
    assert session(coffee_owner)(REVERSE, variables)["reverseReportedEvent"]["errors"][0]["code"] == "permission_denied"
    assert session(stranger)(REVERSE, variables)["reverseReportedEvent"]["errors"][0]["code"] == "not_found"
    wrong = with_key(toys_key)(REVERSE, {**variables, "event": gid("Brand", event.pk)})["reverseReportedEvent"]
    assert wrong["errors"][0]["code"] == "invalid_id"
    out = with_key(toys_key)(REVERSE, variables)["reverseReportedEvent"]
    assert out["errors"] == [] and out["event"]["state"] == "REVERSED" and out["event"]["reversedReason"] == "REFUND"
    again = with_key(toys_key)(REVERSE, variables)["reverseReportedEvent"]
    assert again["errors"][0]["code"] == "not_pending"


def test_both_parties_list_the_rows_others_see_none(toys_leg, toys, toys_actor, coffee_owner, stranger, admin_user):
    code = placement_of(toys_leg).link.code
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"L{i}", tracking_code=code) for i in range(3)])
    campaign = {"campaign": gid("Campaign", toys_leg.campaign_id)}
    for user in (coffee_owner, admin_user):
        edges = session(user)(LIST, campaign)["reportedEvents"]["edges"]
        assert len(edges) == 3 and edges[0]["node"]["reporter"]["slug"] == toys.slug
    assert session(stranger)(LIST, campaign)["reportedEvents"]["edges"] == []
    assert session(stranger)(LIST, {})["reportedEvents"]["edges"] == []
    assert Gql(Client())(LIST, {})["reportedEvents"]["edges"] == []


def test_listing_costs_the_same_queries_for_3_or_30_rows(toys_leg, toys, toys_actor, coffee_owner):
    code = placement_of(toys_leg).link.code
    gql = session(coffee_owner)
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"a{i}", tracking_code=code) for i in range(3)])
    with CaptureQueriesContext(connection) as few:
        assert len(gql(LIST)["reportedEvents"]["edges"]) == 3
    conversions_report(actor=toys_actor, brand=toys, rows=[order(f"b{i}", tracking_code=code) for i in range(27)])
    with CaptureQueriesContext(connection) as many:
        assert len(gql(LIST)["reportedEvents"]["edges"]) == 30
    assert len(many) == len(few)


def test_generate_coupons_by_the_promoted_side_only(toys_leg, toys_owner, coffee_owner, stranger, toys_read_key):
    cp = placement_of(toys_leg)
    variables = {"placement": gid("CampaignPlacement", cp.pk), "size": 40}
    assert session(coffee_owner)(GENERATE, variables)["generateCoupons"]["errors"][0]["code"] == "permission_denied"
    assert session(stranger)(GENERATE, variables)["generateCoupons"]["errors"][0]["code"] == "not_found"
    assert with_key(toys_read_key)(GENERATE, variables)["generateCoupons"]["errors"][0]["code"] == "read_only_key"
    too_many = session(toys_owner)(GENERATE, {**variables, "size": 5001})["generateCoupons"]
    assert too_many["errors"][0]["code"] == "coupon_batch_size"
    assert not Coupon.objects.exists()
    out = session(toys_owner)(GENERATE, variables)["generateCoupons"]
    assert out["errors"] == [] and out["couponBatch"]["size"] == 40 and out["couponBatch"]["redeemedCount"] == 0
    assert out["couponBatch"]["downloadUrl"].endswith(f"/placements/{cp.pk}/coupons.csv")


def test_coupon_batch_read_shows_the_download_to_parties_only(toys_leg, toys_actor, coffee_owner, admin_user, stranger):
    cp = placement_of(toys_leg)
    coupon_batch_generate(actor=toys_actor, placement=cp, size=7)
    variables = {"p": gid("CampaignPlacement", cp.pk)}
    party = session(coffee_owner)(BATCH, variables)["couponBatch"]
    assert party["size"] == 7 and party["downloadUrl"]
    staff = session(admin_user)(BATCH, variables)["couponBatch"]
    assert staff["size"] == 7 and staff["downloadUrl"] is None
    assert session(stranger)(BATCH, variables)["couponBatch"] is None


def test_reporting_needs_the_events_scope_and_coupons_the_write_scope(toys_leg, toys, toys_owner, toys_key):
    cp = placement_of(toys_leg)
    write_only = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="crm", scopes=["read", "write"])[1]
    report = with_key(write_only)(REPORT, {"brand": gid("Brand", toys.pk), "rows": _rows(cp, 1)})
    assert [e["code"] for e in report["reportConversions"]["errors"]] == ["insufficient_scope"]
    coupons = with_key(toys_key)(GENERATE, {"placement": gid("CampaignPlacement", cp.pk), "size": 5})
    assert [e["code"] for e in coupons["generateCoupons"]["errors"]] == ["insufficient_scope"]
    assert not ReportedEvent.objects.exists() and not Coupon.objects.exists()
