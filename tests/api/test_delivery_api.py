"""GraphQL of delivery reports: ``reportDelivery`` (the promoter), ``confirmDelivery`` and
``disputeDelivery`` (the promoted side); ``deliveryReports(campaign:)``, ``deliveryReport(id:)``
and ``disputedDeliveryReports`` scoped to the two brands and admins; the proof image only as
an access-checked URL; a constant number of queries however many reports."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from exchange import services
from exchange.models import DeliveryReport
from exchange.states import DeliveryState
from partners.actors import Actor
from partners.models import ApiKeyScope, Role
from partners.services import api_key_create
from tests.api.conftest import Gql, gid, session, with_key
from tests.exchange.delivery_support import make_live_now, placement_of, upload
from tests.factories import BrandFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PROOF = "https://mp.weixin.qq.com/s/proof"
FIELDS = """id campaignId campaignPlacementId state stateLabel reach promised unit value { amountCents }
 proofUrl proofImageUrl note version deliveredAt confirmDueAt confirmedAt autoConfirmed
 disputeReason disputeReasonLabel disputeNote canAnswer
 promoter { slug } promoted { slug } placement { id side format quantity }"""
REPORT = (
    "mutation($p: ID!, $reach: BigInt!, $at: DateTime!, $url: String, $note: String) {"
    " reportDelivery(placement: $p, reach: $reach, deliveredAt: $at, proofUrl: $url, note: $note) {"
    f" report {{ {FIELDS} }} errors {{ field code message }} }} }}"
)
CONFIRM = f"mutation($r: ID!) {{ confirmDelivery(report: $r) {{ report {{ {FIELDS} }} errors {{ field code }} }} }}"
DISPUTE = (
    "mutation($r: ID!, $reason: DeliveryDisputeReason!, $note: String) {"
    f" disputeDelivery(report: $r, reason: $reason, note: $note) {{ report {{ {FIELDS} }} errors {{ field code }} }} }}"
)
LIST = f"query($c: ID!) {{ deliveryReports(campaign: $c) {{ {FIELDS} }} }}"
ONE = f"query($id: ID!) {{ deliveryReport(id: $id) {{ {FIELDS} }} }}"
DISPUTED = "{ disputedDeliveryReports(first: 50) { edges { node { id disputeReason disputeNote } } } }"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def live(campaign):
    return make_live_now(campaign)


@pytest.fixture
def cp(live, coffee):
    return placement_of(live, coffee)


@pytest.fixture
def as_coffee(coffee_owner):
    return session(coffee_owner)


@pytest.fixture
def as_toys(toys_owner):
    return session(toys_owner)


@pytest.fixture
def as_stranger(db):
    brand = BrandFactory(slug="stranger")
    owner = MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory(username="s@else.example")).user
    return session(owner)


def at(cp) -> str:
    return (cp.starts_at + timedelta(hours=3)).isoformat()


def reported(cp, coffee_actor) -> DeliveryReport:
    return services.delivery_report(
        actor=coffee_actor,
        placement=cp,
        reach=15_000,
        delivered_at=cp.starts_at + timedelta(hours=3),
        proof_url=PROOF,
        note="SECRET-DELIVERY-NOTE",
    )


def test_the_promoter_reports_by_campaign_placement_or_placement_id(as_coffee, cp, live):
    data = as_coffee(REPORT, {"p": gid("CampaignPlacement", cp.pk), "reach": 15000, "at": at(cp), "url": PROOF})
    payload = data["reportDelivery"]
    assert payload["errors"] == []
    r = payload["report"]
    assert (r["state"], r["reach"], r["promised"], r["unit"], r["proofUrl"]) == ("REPORTED", 15000, 20000, "CPM", PROOF)
    assert r["campaignId"] == gid("Campaign", live.pk) and r["campaignPlacementId"] == gid("CampaignPlacement", cp.pk)
    assert r["promoter"]["slug"] == "bean-house" and r["promoted"]["slug"] == "tiny-toys"
    assert r["placement"]["id"] == gid("Placement", cp.placement_id) and r["canAnswer"] is False
    assert r["value"]["amountCents"] > 0
    again = as_coffee(REPORT, {"p": gid("Placement", cp.placement_id), "reach": 14000, "at": at(cp), "url": PROOF})
    assert again["reportDelivery"]["report"]["version"] == 2
    assert DeliveryReport.objects.get().reach == 14000


def test_a_report_with_bad_figures_returns_every_error_and_changes_nothing(as_coffee, cp):
    data = as_coffee(REPORT, {"p": gid("CampaignPlacement", cp.pk), "reach": -3, "at": at(cp), "url": "http://x.cn/a"})
    payload = data["reportDelivery"]
    assert payload["report"] is None
    assert {(e["field"], e["code"]) for e in payload["errors"]} == {
        ("reach", "reach_negative"),
        ("proofUrl", "proof_url_not_https"),
    }
    assert not DeliveryReport.objects.exists()


def test_naive_times_are_read_in_beijing_time(as_coffee, cp):
    local = timezone.localtime(cp.starts_at + timedelta(hours=5)).replace(tzinfo=None)
    as_coffee(REPORT, {"p": gid("CampaignPlacement", cp.pk), "reach": 1, "at": local.isoformat(), "url": PROOF})
    assert DeliveryReport.objects.get().delivered_at == cp.starts_at + timedelta(hours=5)


def test_the_promoted_side_the_other_brand_anonymous_and_read_keys_cannot_report(
    as_toys, as_stranger, cp, coffee, coffee_owner
):
    _key, raw = api_key_create(actor=Actor(user=coffee_owner), brand=coffee, name="ro", scopes=[ApiKeyScope.READ])
    variables = {"p": gid("CampaignPlacement", cp.pk), "reach": 1, "at": at(cp), "url": PROOF}
    expected = {
        "toys": [("placement", "permission_denied")],
        "stranger": [("placement", "not_found")],
        "anon": [(None, "unauthenticated")],
        "read_key": [(None, "read_only_key")],
    }
    for name, caller in (
        ("toys", as_toys),
        ("stranger", as_stranger),
        ("anon", Gql(Client())),
        ("read_key", with_key(raw)),
    ):
        payload = caller(REPORT, variables)["reportDelivery"]
        assert [(e["field"], e["code"]) for e in payload["errors"]] == expected[name], name
        assert payload["report"] is None
    assert not DeliveryReport.objects.exists()


def test_a_wrong_id_type_is_refused(as_coffee, cp, coffee):
    payload = as_coffee(REPORT, {"p": gid("Brand", coffee.pk), "reach": 1, "at": at(cp), "url": PROOF})[
        "reportDelivery"
    ]
    assert [(e["field"], e["code"]) for e in payload["errors"]] == [("placement", "invalid_id")]


def test_the_promoted_side_confirms_and_sees_it_can_answer(as_toys, as_coffee, cp, coffee_actor):
    r = reported(cp, coffee_actor)
    assert as_toys(ONE, {"id": gid("DeliveryReport", r.pk)})["deliveryReport"]["canAnswer"] is True
    assert as_coffee(ONE, {"id": gid("DeliveryReport", r.pk)})["deliveryReport"]["canAnswer"] is False
    refused = as_coffee(CONFIRM, {"r": gid("DeliveryReport", r.pk)})["confirmDelivery"]
    assert refused["errors"] == [{"field": "report", "code": "permission_denied"}]
    payload = as_toys(CONFIRM, {"r": gid("DeliveryReport", r.pk)})["confirmDelivery"]
    assert payload["errors"] == [] and payload["report"]["state"] == "CONFIRMED"
    assert payload["report"]["confirmedAt"] and payload["report"]["autoConfirmed"] is False


def test_the_promoted_side_disputes_with_a_reason(as_toys, as_coffee, cp, coffee_actor):
    r = reported(cp, coffee_actor)
    bad = as_toys(DISPUTE, {"r": gid("DeliveryReport", r.pk), "reason": "OTHER"})["disputeDelivery"]
    assert bad["errors"] == [{"field": "note", "code": "reason_required"}]
    payload = as_toys(DISPUTE, {"r": gid("DeliveryReport", r.pk), "reason": "REACH_OVERSTATED", "note": "只有一万"})[
        "disputeDelivery"
    ]
    assert payload["errors"] == []
    assert (payload["report"]["state"], payload["report"]["disputeReason"]) == ("DISPUTED", "REACH_OVERSTATED")
    # visible to both sides
    for caller in (as_toys, as_coffee):
        (node,) = [e["node"] for e in caller(DISPUTED)["disputedDeliveryReports"]["edges"]]
        assert node["disputeNote"] == "只有一万"


def test_reports_are_seen_by_both_parties_and_admins_only(
    as_coffee, as_toys, as_stranger, as_admin, anon, cp, live, coffee_actor
):
    r = reported(cp, coffee_actor)
    variables = {"c": gid("Campaign", live.pk)}
    for caller in (as_coffee, as_toys, as_admin):
        (row,) = caller(LIST, variables)["deliveryReports"]
        assert row["note"] == "SECRET-DELIVERY-NOTE"
    for caller in (as_stranger, anon):
        assert caller(LIST, variables)["deliveryReports"] == []
        assert caller(ONE, {"id": gid("DeliveryReport", r.pk)})["deliveryReport"] is None
        confirm = caller(CONFIRM, {"r": gid("DeliveryReport", r.pk)})["confirmDelivery"]
        assert confirm["report"] is None and confirm["errors"]
    r.refresh_from_db()
    assert r.state == DeliveryState.REPORTED


def test_a_read_only_key_of_the_promoted_side_reads_but_cannot_answer(cp, coffee_actor, toys, toys_owner, live):
    r = reported(cp, coffee_actor)
    _key, raw = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="ro", scopes=[ApiKeyScope.READ])
    caller = with_key(raw)
    assert caller(LIST, {"c": gid("Campaign", live.pk)})["deliveryReports"][0]["canAnswer"] is False
    payload = caller(CONFIRM, {"r": gid("DeliveryReport", r.pk)})["confirmDelivery"]
    assert payload["errors"] == [{"field": None, "code": "read_only_key"}]
    _key, raw = api_key_create(actor=Actor(user=toys_owner), brand=toys, name="rw", scopes=["events:write"])
    assert with_key(raw)(CONFIRM, {"r": gid("DeliveryReport", r.pk)})["confirmDelivery"]["errors"] == []


def test_the_proof_image_is_an_access_checked_url(as_coffee, as_stranger, cp, coffee_actor, client, coffee_owner):
    r = services.delivery_report(
        actor=coffee_actor, placement=cp, reach=1, delivered_at=cp.starts_at + timedelta(hours=1), proof_image=upload()
    )
    url = as_coffee(ONE, {"id": gid("DeliveryReport", r.pk)})["deliveryReport"]["proofImageUrl"]
    assert url.startswith(f"http://testserver/campaigns/{r.campaign_id}/delivery/reports/{r.pk}/proof/?v=")
    assert "/media/" not in url and r.proof_image.name not in url
    path = url.removeprefix("http://testserver")
    client.force_login(coffee_owner)
    assert client.get(path)["Content-Type"] == "image/png"
    assert as_stranger.client.get(path).status_code == 404


def test_a_bad_campaign_id_is_a_graphql_error(as_coffee, coffee):
    errors = as_coffee.errors(LIST, {"c": gid("Brand", coffee.pk)})
    assert errors[0]["extensions"]["code"] == "invalid_id"


def test_listing_reports_costs_the_same_queries_for_one_or_three(
    as_coffee, live, coffee, toys, coffee_actor, toys_actor
):
    mine = placement_of(live, coffee)
    reported(mine, coffee_actor)
    variables = {"c": gid("Campaign", live.pk)}
    as_coffee(LIST, variables)  # warm the session and caches
    with CaptureQueriesContext(connection) as one:
        assert len(as_coffee(LIST, variables)["deliveryReports"]) == 1
    group = placement_of(live, coffee, "group_broadcast")
    reported(group, coffee_actor)
    theirs = placement_of(live, toys)
    services.delivery_report(
        actor=toys_actor, placement=theirs, reach=5, delivered_at=theirs.starts_at + timedelta(hours=2), proof_url=PROOF
    )
    with CaptureQueriesContext(connection) as three:
        assert len(as_coffee(LIST, variables)["deliveryReports"]) == 3
    assert len(three) == len(one), [q["sql"] for q in three.captured_queries]


def test_delivery_reports_for_uses_the_campaign_prefetch(live, coffee, coffee_actor, django_assert_num_queries):
    from api.exchange.delivery import delivery_reports_for
    from exchange import selectors

    reported(placement_of(live, coffee), coffee_actor)
    campaigns = list(selectors.with_delivery_reports(selectors.campaign_visible(actor=coffee_actor)))
    with django_assert_num_queries(0):
        (r,) = delivery_reports_for(campaigns[0])
        assert r.placement.placement.quantity == 20_000 and r.placement.leg.promoted.slug == "tiny-toys"


def test_delivery_reports_for_without_a_prefetch_is_one_query(live, coffee, toys, coffee_actor, toys_actor):
    from api.exchange.delivery import delivery_reports_for
    from exchange import selectors

    reported(placement_of(live, coffee), coffee_actor)
    theirs = placement_of(live, toys)
    services.delivery_report(
        actor=toys_actor, placement=theirs, reach=5, delivered_at=theirs.starts_at + timedelta(hours=2), proof_url=PROOF
    )
    campaign = selectors.campaign_visible(actor=coffee_actor).get()
    with CaptureQueriesContext(connection) as queries:
        rows = delivery_reports_for(campaign)
        assert [r.placement.leg.promoter.slug for r in rows] == ["bean-house", "tiny-toys"]
        assert all(r.placement.placement.quantity for r in rows)
    assert len(queries) == 1
