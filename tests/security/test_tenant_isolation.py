"""Tenant isolation: walk every object type of the schema and prove another brand's private
data never comes back.

The walk builds one query from the root `Query` that selects every field of every object
type reachable from it (each type once per path), fills required arguments, and runs it as
another brand's owner, another brand's API key and anonymously. The victim brand is approved
(its public profile is meant to be visible) and every private value it owns is a sentinel
string; none may appear in any response. A coverage check fails when a new type is added to
the schema without being reached by this walk.
"""

from __future__ import annotations

import json

import pytest
from django.test import Client
from graphql import GraphQLNonNull, GraphQLObjectType, GraphQLScalarType, get_named_type

from api.schema import schema
from matching.models import MatcherModel, Recommendation, TrainingRun, TrainingState
from partners.actors import Actor
from partners.models import ApiKey, Role
from partners.services import api_key_create, brand_channels_set, brand_update, membership_add
from tests.api.conftest import Gql, gid, session, with_key
from tests.factories import BrandFactory, MembershipFactory, UserFactory, category, valid_credit_code

SECRETS = {
    "legal": "SECRET-LEGAL-瑞幸",
    "reason": "SECRET-STATUS-REASON",
    "channel": "SECRET-CHANNEL-LABEL",
    "key": "SECRET-KEY-NAME",
    "member": "victim-secret-member@example.com",
    "description_update": "SECRET-AUDIT-FIELD",
    # matching: the victim's recommendations are its own; models and runs are the platform's.
    "reason_zh": "SECRET-REASON-中文",
    "reason_en": "SECRET-REASON-EN",
    "model_metric": "SECRET-MODEL-METRIC",
    "model_feature": "SECRET-MODEL-FEATURE",
    "training_message": "SECRET-TRAINING-MESSAGE",
    # exchange: the victim's proposal with a third brand, its thread and its inbox
    "revision_message": "SECRET-REVISION-MESSAGE",
    "placement_notes": "SECRET-PLACEMENT-NOTES",
    "thread": "SECRET-THREAD-MESSAGE",
    # delivery reports of the victim's campaign with that brand: its own and the third's
    "delivery_note": "SECRET-DELIVERY-NOTE",
    "delivery_proof": "https://proof.example/SECRET-DELIVERY-PROOF",
    "dispute_note": "SECRET-DISPUTE-NOTE",
    "dispute_evidence": "https://evidence.example/SECRET-DISPUTE-EVIDENCE",
    # ledger and settlement: the victim's entries (a memo) and the settlement it owes
    "ledger_memo": "SECRET-LEDGER-MEMO",
    "settlement_failure": "SECRET-SETTLEMENT-FAILURE",
    # exchange: an order the victim reported on its campaign with a fourth brand
    "external_order": "SECRET-EXTERNAL-ORDER",
    # exchange: the campaign that proposal became (its landing page, links and figures)
    "landing": "https://landing.victim.example/SECRET-LANDING",
    "gmv": "987654321",
    # webhooks: the victim's endpoint, its delivery log
    "webhook_url": "SECRET-WEBHOOK-URL",
    "webhook_description": "SECRET-WEBHOOK-DESCRIPTION",
    "webhook_response": "SECRET-WEBHOOK-RESPONSE",
    "webhook_attempt": "SECRET-WEBHOOK-ATTEMPT-ERROR",
}
ADMIN_ONLY = ("model_metric", "model_feature", "training_message")
CREDIT = valid_credit_code(424242)


@pytest.fixture
def victim(db):
    brand = BrandFactory(
        slug="victim",
        name="受害者",
        name_en="Victim",
        credit_code=CREDIT,
        legal_name=SECRETS["legal"],
        status_reason=SECRETS["reason"],
    )
    owner = MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory(username="victim-owner@example.com")).user
    actor = Actor(user=owner)
    UserFactory(username=SECRETS["member"])
    membership_add(actor=actor, brand=brand, email=SECRETS["member"], role=Role.VIEWER)
    brand_channels_set(
        actor=actor,
        brand=brand,
        channels=[
            {"type": "wecom", "label": SECRETS["channel"], "size": 9876543, "active_rate": 0.5},
        ],
    )
    brand_update(actor=actor, brand=brand, data={"legal_name": SECRETS["legal"] + " "})  # an audit event
    key, raw = api_key_create(actor=actor, brand=brand, name=SECRETS["key"], scopes=["read", "write"])
    with_key(raw)("{ myBrands { slug } }")  # sets last_used_at
    partner = BrandFactory(slug="victim-partner", category=category("food.bakery"))
    Recommendation.objects.create(
        brand=brand,
        partner=partner,
        rank=1,
        score=0.8765,
        components={"scale": 0.9, "positioning": 0.8, "audience": 0.7, "category": 0.6, "learned": 0.5},
        reasons_zh=[SECRETS["reason_zh"], "品类不冲突"],
        reasons_en=[SECRETS["reason_en"], "No direct competition"],
        model_version=1,
    )
    model = MatcherModel.objects.create(
        version=1,
        training_size=42,
        features=[SECRETS["model_feature"]],
        metrics={"auc": 0.7, "note": SECRETS["model_metric"]},
        artefact=b"artefact",
        is_active=True,
    )
    run = TrainingRun.objects.create(
        state=TrainingState.SUCCEEDED, model=model, message=SECRETS["training_message"], progress=1.0
    )
    proposal = _victim_proposal(actor, brand)
    placement = _victim_reported_campaign(actor, brand)
    endpoint, webhook_secret = _victim_webhook(brand)
    return {
        "brand": brand,
        "owner": owner,
        "key": key,
        "raw": raw,
        "run": run,
        "proposal": proposal,
        "placement": placement,
        "endpoint": endpoint,
        "webhook_secret": webhook_secret,
    }


def _victim_reported_campaign(actor, brand):
    """An accepted swap of the victim with a fourth brand, running now: the victim (promoted on
    the partner's leg) generated coupons and reported an order with a sentinel id. Returns the
    partner's campaign placement (the one with the coupons)."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange import services as exchange_services
    from exchange.models import CampaignPlacement

    partner = BrandFactory(slug="victim-swap", category=category("food.bakery"))
    partner_owner = MembershipFactory(brand=partner, role=Role.OWNER, user=UserFactory(username="p4@example.com")).user
    partner_channel = partner.channels.create(type="wecom", label="partner wecom", size=10_000, active_rate=0.5)
    start = timezone.localdate() + timedelta(days=2)
    spec = {"format": "direct_message", "quantity": 1000, "starts_on": start, "ends_on": start}
    proposal = exchange_services.proposal_create(
        actor=Actor(user=partner_owner),
        brand=partner,
        counterparty=brand,
        placements=[{**spec, "channel_id": partner_channel.pk}],
    )
    (theirs,) = proposal.revisions.get().placements.all()
    exchange_services.proposal_counter(
        actor=actor,
        proposal=proposal,
        revision=1,
        placements=[{**spec, "based_on_id": theirs.pk}, {**spec, "channel_id": brand.channels.get().pk}],
    )
    exchange_services.proposal_accept(actor=Actor(user=partner_owner), proposal=proposal, revision=2)
    now = timezone.now()
    CampaignPlacement.objects.filter(leg__campaign__proposal=proposal).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    cp = CampaignPlacement.objects.select_related("link").get(leg__campaign__proposal=proposal, leg__promoted=brand)
    exchange_services.coupon_batch_generate(actor=actor, placement=cp, size=3)
    result = exchange_services.conversions_report(
        actor=actor,
        brand=brand,
        rows=[
            {
                "external_id": SECRETS["external_order"],
                "amount_cents": 4242,
                "currency": "CNY",
                "occurred_at": now.isoformat(),
                "tracking_code": cp.link.code,
            }
        ],
    )
    assert result.new == 1
    return cp


def _victim_webhook(brand):
    """An endpoint of the victim with a delivery and an attempt in its log (written directly:
    the sentinel host need not resolve)."""
    from exchange import webhooks
    from exchange.models import DomainEvent, WebhookAttempt, WebhookDelivery, WebhookEndpoint

    secret = webhooks.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        brand=brand,
        url="https://hooks.example/" + SECRETS["webhook_url"],
        description=SECRETS["webhook_description"],
        event_types=["proposal.created"],
        secret_encrypted=webhooks.encrypt_secret(secret),
    )
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint,
        event=DomainEvent.objects.order_by("id").first(),
        state="failed",
        attempts=1,
        last_status_code=500,
        last_response=SECRETS["webhook_response"],
    )
    WebhookAttempt.objects.create(delivery=delivery, number=1, status_code=500, error=SECRETS["webhook_attempt"])
    return endpoint, secret


def _victim_proposal(actor, brand):
    """A proposal from the victim to a third brand, answered (so both sides' placements, an
    inbox entry for the victim and a thread exist) — none of it is the attacker's business."""
    from datetime import timedelta

    from django.utils import timezone

    from exchange import services as exchange_services
    from exchange.models import DomainEvent
    from exchange.services.notifications import event_dispatch

    third = BrandFactory(slug="victim-deal", category=category("toys.collectibles"))
    third_owner = MembershipFactory(brand=third, role=Role.OWNER, user=UserFactory(username="third@example.com")).user
    third_channel = third.channels.create(type="wecom", label="third wecom", size=10_000, active_rate=0.5)
    start = timezone.localdate() + timedelta(days=2)
    proposal = exchange_services.proposal_create(
        actor=actor,
        brand=brand,
        counterparty=third,
        placements=[
            {
                "channel_id": brand.channels.get().pk,
                "format": "direct_message",
                "quantity": 1000,
                "starts_on": start,
                "ends_on": start,
                "notes": SECRETS["placement_notes"],
            }
        ],
        message=SECRETS["revision_message"],
    )
    (placement,) = proposal.revisions.get().placements.all()
    exchange_services.proposal_counter(
        actor=Actor(user=third_owner),
        proposal=proposal,
        revision=1,
        placements=[
            {
                "based_on_id": placement.pk,
                "format": "direct_message",
                "quantity": 1000,
                "starts_on": start,
                "ends_on": start,
            },
            {
                "channel_id": third_channel.pk,
                "format": "direct_message",
                "quantity": 1000,
                "starts_on": start,
                "ends_on": start,
            },
        ],
    )
    exchange_services.proposal_message_send(actor=Actor(user=third_owner), proposal=proposal, body=SECRETS["thread"])
    _victim_campaign(actor, brand, proposal)
    _victim_deliveries(actor, Actor(user=third_owner), proposal)
    _victim_ledger(proposal)
    for event_id in DomainEvent.objects.values_list("pk", flat=True):
        event_dispatch(event_id=event_id)
    return proposal


def _victim_campaign(actor, brand, proposal):
    """The victim accepts: a campaign with a landing page of its own, tracking links and
    figures in the rollups — private to the two parties."""
    from exchange import services as exchange_services
    from exchange.services.rollups import day_of, rollup_add, visitors_add
    from exchange.services.tracking import leg_landing_set

    accepted = exchange_services.proposal_accept(actor=actor, proposal=proposal, revision=2)
    campaign = accepted.campaign
    leg_landing_set(actor=actor, leg=campaign.legs.get(promoted=brand), url=SECRETS["landing"])
    day = day_of(campaign.starts_at)
    for leg in campaign.legs.all():
        rollup_add({(leg.pk, day): {"clicks": 4, "gmv_cents": int(SECRETS["gmv"]), "new_members": 2}})
        visitors_add([(leg.pk, day, "victim-visitor")])
    return campaign


def _victim_deliveries(actor, third_actor, proposal):
    """The swap (accepted by _victim_campaign) live; the victim reported its delivery (a private note, a proof
    link) and disputed the third brand's report (a private note)."""
    from datetime import timedelta

    from exchange import services as exchange_services

    proposal.refresh_from_db()  # accepted by _victim_campaign
    campaign = proposal.campaign
    exchange_services.campaigns_advance(now=campaign.starts_at)
    at = campaign.starts_at + timedelta(hours=1)
    for cp in campaign.legs.get(promoter=campaign.brand_a).placements.all():
        exchange_services.delivery_report(
            actor=actor,
            placement=cp,
            reach=900,
            delivered_at=at,
            proof_url=SECRETS["delivery_proof"],
            note=SECRETS["delivery_note"],
            now=at,
        )
    for cp in campaign.legs.get(promoter=campaign.brand_b).placements.all():
        theirs = exchange_services.delivery_report(
            actor=third_actor, placement=cp, reach=950, delivered_at=at, proof_url="https://third.example/p", now=at
        )
        exchange_services.delivery_dispute(
            actor=actor,
            report=theirs,
            reason="other",
            note=SECRETS["dispute_note"],
            now=at + timedelta(hours=1),
            evidence=[{"url": SECRETS["dispute_evidence"]}],
        )


def _victim_ledger(proposal):
    """Value the victim delivered in its campaign (an entry with a private memo) and a
    settlement it owes on it (a private failure reason)."""
    from django.utils import timezone

    from exchange.ledger.posting import Line, account, ledger_post
    from exchange.models import Settlement

    proposal.refresh_from_db()
    campaign = proposal.campaign
    victim_id, third_id = campaign.brand_a_id, campaign.brand_b_id
    ledger_post(
        key="victim:delivery",
        reason="delivery",
        campaign=campaign,
        memo=SECRETS["ledger_memo"],
        lines=[
            Line(account(brand=victim_id, kind="value_delivered"), -12_345),
            Line(account(brand=third_id, kind="value_received"), 12_345),
        ],
    )
    Settlement.objects.create(
        campaign=campaign,
        payer_id=victim_id,
        payee_id=third_id,
        payer_delivered_cents=12_345,
        payee_delivered_cents=50_000,
        gap_value_cents=37_655,
        cash_cents=37_655,
        fee_cents=1_130,
        tolerance_percent=10,
        cash_per_100_value=100,
        fee_basis_points=300,
        choose_by=timezone.now(),
        last_failure=SECRETS["settlement_failure"],
    )


@pytest.fixture(autouse=True)
def _walk_budget(settings):
    """The walk selects every field of every type in one document, far beyond what any client
    asks; the cost limit (tested in tests/api/test_query_cost.py) is lifted for it alone."""
    settings.GRAPHQL_MAX_COST = 200_000


@pytest.fixture
def attacker(db):
    brand = BrandFactory(slug="attacker", name="攻击者", name_en="Attacker")
    owner = MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory(username="attacker@example.com")).user
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="attacker key", scopes=["read", "write"])
    return {"brand": brand, "owner": owner, "raw": raw}


def _root_args(
    victim_brand, run_pk: int = 1, proposal_pk: int = 1, placement_pk: int = 1, endpoint_pk: int = 1
) -> dict[str, str]:
    """Arguments for root fields that need them: aim every lookup at the victim."""
    from exchange.models import Campaign, DeliveryReport, Dispute, Settlement

    dispute = Dispute.objects.filter(campaign__proposal_id=proposal_pk).first()
    settlement = Settlement.objects.filter(campaign__proposal_id=proposal_pk).first()
    campaign = Campaign.objects.filter(proposal_id=proposal_pk).first()
    campaign_pk = campaign.pk if campaign else 1
    victim_id = gid("Brand", victim_brand.pk)
    report = DeliveryReport.objects.filter(campaign__proposal_id=proposal_pk, state="disputed").first()
    channel = victim_brand.channels.first()
    channel_id = gid("Channel", channel.pk if channel else 1)
    return {
        "proposals": "first: 20",
        "proposal": f'id: "{gid("Proposal", proposal_pk)}"',
        "notifications": "first: 20",
        "reportedEvents": "first: 20",
        "couponBatch": f'placement: "{gid("CampaignPlacement", placement_pk)}"',
        "campaigns": "first: 20",
        "campaign": f'id: "{gid("Campaign", campaign_pk)}"',
        "previewSwap": f'brand: "{victim_id}", counterparty: "{victim_id}", placements: [{{channel: "{channel_id}", '
        f'format: DIRECT_MESSAGE, quantity: 10, startsOn: "2030-01-01", endsOn: "2030-01-02"}}]',
        "brands": "first: 20",
        "recommendations": f'brand: "{victim_id}", first: 20',
        "matcherModels": "first: 20",
        "trainingRuns": "first: 20",
        "trainingRun": f'id: "{gid("TrainingRun", run_pk)}"',
        "brand": f'id: "{victim_id}"',
        "channels": f'brand: "{victim_id}"',
        "Brand.auditEvents": "limit: 100",
        "deliveryReports": f'campaign: "{gid("Campaign", report.campaign_id if report else 1)}"',
        "deliveryReport": f'id: "{gid("DeliveryReport", report.pk if report else 1)}"',
        "disputedDeliveryReports": "first: 100",
        "disputes": "first: 1",
        "dispute": f'id: "{gid("Dispute", dispute.pk if dispute else 1)}"',
        "ledger": f'brand: "{victim_id}"',
        "Ledger.entries": "first: 5",
        "creditBalance": f'brand: "{victim_id}"',
        "settlements": "first: 5",
        "settlement": f'id: "{gid("Settlement", settlement.pk if settlement else 1)}"',
        "webhookEndpoints": "first: 2",
        "webhookEndpoint": f'id: "{gid("WebhookEndpoint", endpoint_pk)}"',
        "WebhookEndpoint.deliveries": "first: 2",
    }


def build_walk(args: dict[str, str]) -> tuple[str, set[str]]:
    """A query selecting every field reachable from Query, and the object types it reaches."""
    reached: set[str] = set()

    def selection(gql_type: GraphQLObjectType, path: tuple[str, ...]) -> str:
        reached.add(gql_type.name)
        parts = []
        for name, field in gql_type.fields.items():
            named = get_named_type(field.type)
            required = [a for a, arg in field.args.items() if isinstance(arg.type, GraphQLNonNull)]
            is_root = gql_type is schema.graphql_schema.query_type
            arg_text = args.get(name, "") if is_root else args.get(f"{gql_type.name}.{name}", "")
            if required and not arg_text:
                raise AssertionError(f"add arguments for {gql_type.name}.{name} to _root_args")
            head = f"{name}({arg_text})" if arg_text else name
            if isinstance(named, GraphQLScalarType) or not hasattr(named, "fields"):
                parts.append(head)
            elif isinstance(named, GraphQLObjectType):
                if named.name in path:
                    reached.add(named.name)
                    continue  # cycle: already selected on this path
                parts.append(f"{head} {{ {selection(named, (*path, named.name))} }}")
            else:
                raise AssertionError(f"{gql_type.name}.{name} returns {named}; teach the walk about it")
        return " ".join(parts)

    query_type = schema.graphql_schema.query_type
    return "{ " + selection(query_type, (query_type.name,)) + " }", reached


def _secrets_of(victim) -> list[str]:
    key: ApiKey = victim["key"]
    key.refresh_from_db()
    from exchange.models import TrackingLink

    codes = list(TrackingLink.objects.filter(leg__campaign__proposal=victim["proposal"]).values_list("code", flat=True))
    assert codes
    link_code = victim["placement"].link.code
    return [
        *SECRETS.values(),
        CREDIT,
        key.prefix,
        key.key_hash,
        victim["raw"],
        "9876543",
        "victim-owner@example.com",
        link_code,
        *codes,
        victim["webhook_secret"],
        victim["endpoint"].secret_encrypted,
    ]


@pytest.mark.parametrize("caller", ["other_brand_owner", "other_brand_key", "anonymous"])
def test_walk_of_every_type_shows_no_private_data_of_another_brand(victim, attacker, caller):
    query, _reached = build_walk(
        _root_args(
            victim["brand"], victim["run"].pk, victim["proposal"].pk, victim["placement"].pk, victim["endpoint"].pk
        )
    )
    client = {
        "other_brand_owner": lambda: session(attacker["owner"]),
        "other_brand_key": lambda: with_key(attacker["raw"]),
        "anonymous": lambda: Gql(Client()),
    }[caller]()
    data = client(query)
    text = json.dumps(data, ensure_ascii=False)
    # The walk really reached the victim: its public profile is there …
    assert data["brand"]["slug"] == "victim"
    assert "victim" in [e["node"]["slug"] for e in data["brands"]["edges"]]
    # … its recommendations were asked for by ID and came back empty, as did the admin lists …
    assert data["recommendations"]["edges"] == []
    assert data["matcherModels"]["edges"] == [] and data["trainingRuns"]["edges"] == []
    assert data["activeMatcherModel"] is None and data["trainingRun"] is None
    # … its proposal was asked for by ID, its draft valued in its name: nothing came back.
    assert data["proposal"] is None and data["proposals"]["edges"] == [] and data["previewSwap"] is None
    # … its campaign's delivery reports were asked for by campaign and by ID: none came back.
    assert data["deliveryReports"] == [] and data["deliveryReport"] is None
    assert data["disputedDeliveryReports"]["edges"] == []
    # … its dispute (and its evidence) by ID and in the list: nothing.
    assert data["dispute"] is None and data["disputes"]["edges"] == []
    # … its ledger, its credit and its settlement: nothing.
    assert data["ledger"] is None and data["creditBalance"] is None
    assert data["settlement"] is None and data["settlements"]["edges"] == []
    # … its reported orders and its campaign placement's coupon batch likewise.
    assert data["reportedEvents"]["edges"] == [] and data["couponBatch"] is None
    # … its campaign was asked for by ID: nothing came back either.
    assert data["campaign"] is None and data["campaigns"]["edges"] == []
    # … its webhook endpoint was asked for by ID: nothing.
    assert data["webhookEndpoint"] is None and data["webhookEndpoints"]["edges"] == []
    # … and none of its private values appear anywhere.
    leaked = [s for s in _secrets_of(victim) if s in text]
    assert leaked == [], f"{caller} saw {leaked}"


def test_walk_as_the_owner_shows_private_data_but_never_key_secrets(victim, attacker):
    # The positive control: the same walk as the victim's owner does return its private data
    # (so the test above would catch a leak), yet never the key's hash or secret.
    query, _reached = build_walk(
        _root_args(
            victim["brand"], victim["run"].pk, victim["proposal"].pk, victim["placement"].pk, victim["endpoint"].pk
        )
    )
    text = json.dumps(session(victim["owner"])(query), ensure_ascii=False)
    for visible in (SECRETS["legal"], SECRETS["channel"], SECRETS["key"], CREDIT, victim["key"].prefix):
        assert visible in text
    assert SECRETS["reason_zh"] in text  # its own recommendations …
    for name in (
        "revision_message",
        "placement_notes",
        "thread",
        "delivery_note",
        "delivery_proof",
        "dispute_note",
        "dispute_evidence",
        "external_order",
        "landing",
        "gmv",
    ):
        # … its own proposal, thread, delivery reports and reported orders …
        assert SECRETS[name] in text, name
    for name in ADMIN_ONLY:  # … but not the platform's models and training runs
        assert SECRETS[name] not in text, name
    for name in ("webhook_url", "webhook_description", "webhook_response", "webhook_attempt"):  # … its webhooks …
        assert SECRETS[name] in text, name
    victim["key"].refresh_from_db()
    assert victim["key"].key_hash not in text
    assert victim["raw"].split("_", 2)[2] not in text
    # … but never a webhook signing secret, in the clear or encrypted
    assert victim["webhook_secret"] not in text and victim["webhook_secret"][6:] not in text
    assert victim["endpoint"].secret_encrypted not in text


def test_walk_as_an_admin_reaches_the_admin_only_matcher_data(victim, admin_user):
    # Positive control for the admin-only types: the walk selects their fields, so the
    # refusals above are real.
    query, _reached = build_walk(
        _root_args(
            victim["brand"], victim["run"].pk, victim["proposal"].pk, victim["placement"].pk, victim["endpoint"].pk
        )
    )
    data = session(admin_user)(query)
    text = json.dumps(data, ensure_ascii=False)
    for name in (*ADMIN_ONLY, "reason_zh"):
        assert SECRETS[name] in text, name
    assert data["trainingRun"]["model"]["version"] == 1


def test_walk_reaches_every_object_type_of_the_schema(db):
    from tests.factories import BrandFactory as _BF

    _query, reached = build_walk(_root_args(_BF()))
    type_map = schema.graphql_schema.type_map
    objects = {name for name, t in type_map.items() if isinstance(t, GraphQLObjectType) and not name.startswith("__")}
    mutation_only = _mutation_payload_types()
    missing = objects - reached - mutation_only - {schema.graphql_schema.mutation_type.name}
    assert missing == set(), f"types not covered by the isolation walk: {missing}"


def _mutation_payload_types() -> set[str]:
    """Payload types (`RegisterBrand` …), `Error` and per-row results: reached only through mutations, whose
    refusals are tested per mutation in tests/api/test_partners_mutations.py."""
    mutation = schema.graphql_schema.mutation_type
    names = set()
    for field in mutation.fields.values():
        payload = get_named_type(field.type)
        names.add(payload.name)
        for sub in payload.fields.values():
            named = get_named_type(sub.type)
            # `Error`, and the per-row results of batch mutations (`AcceptedRow`, `RejectedRow`):
            # plain values of one response, not objects (no Node) anyone could look up later.
            if isinstance(named, GraphQLObjectType) and not any(i.name == "Node" for i in named.interfaces):
                names.add(named.name)
    return names


def test_list_types_in_the_walk_are_not_silently_empty_for_the_owner(victim):
    # Guards the walk itself: nested lists (channels, apiKeys, auditEvents, memberships)
    # carry rows for the owner, so an empty answer for others is a real refusal.
    query, _ = build_walk(
        _root_args(
            victim["brand"], victim["run"].pk, victim["proposal"].pk, victim["placement"].pk, victim["endpoint"].pk
        )
    )
    data = session(victim["owner"])(query)
    brand = data["brand"]
    assert brand["channels"] and brand["apiKeys"] and brand["auditEvents"]
    assert data["me"]["memberships"]
    assert data["recommendations"]["edges"]
    assert data["proposals"]["edges"] and data["notifications"]["edges"]
    assert data["proposal"]["revisions"][1]["placements"]
    assert len(data["deliveryReports"]) == 2 and data["deliveryReport"]["state"] == "DISPUTED"
    assert data["disputedDeliveryReports"]["edges"]
    assert data["disputes"]["edges"] and data["dispute"]["evidence"][0]["url"]
    assert data["ledger"]["entries"]["edges"] and data["settlement"]["lastFailure"]
    assert data["settlements"]["edges"] and data["creditBalance"] is not None
    assert data["reportedEvents"]["edges"] and data["couponBatch"]["downloadUrl"]
    campaign = data["campaign"]
    assert data["campaigns"]["edges"] and campaign["legs"][0]["placements"][0]["link"]["code"]
    assert campaign["metrics"]["legs"][0]["totals"]["clicks"] == 4
    assert data["webhookEndpoint"]["deliveries"]["edges"][0]["node"]["attemptLog"]
