"""Webhooks through GraphQL: the owner and a webhooks:manage key register, rotate, list the log
and replay; another brand, a key without the scope and anonymous callers get nothing; the
secret appears only in the create/rotate payloads; the log's query count is constant."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from exchange.models import DomainEvent, EventType, WebhookDelivery, WebhookEndpoint, WebhookState
from exchange.services import webhooks as hooks
from partners.actors import Actor
from partners.models import ApiKeyScope
from partners.services import api_key_create
from tests.api.conftest import gid, session, with_key
from tests.support.webhook_receiver import start_receiver, stop_receiver

CREATE = """mutation($brand: ID!, $url: String!, $types: [ExchangeEventType!]!) {
  createWebhookEndpoint(brand: $brand, url: $url, eventTypes: $types, description: "CRM") {
    secret endpoint { id url eventTypes enabled } errors { field code message } } }"""
LOG = """query($id: ID!) { webhookEndpoint(id: $id) { url deliveries(first: 50) { edges { node {
  webhookId eventType state stateLabel attempts lastStatusCode body attemptLog { number statusCode } } } } } }"""


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    stop_receiver(r)


@pytest.fixture
def hook_key(brand, owner):
    return api_key_create(actor=Actor(user=owner), brand=brand, name="hooks", scopes=[ApiKeyScope.WEBHOOKS_MANAGE])


def _create(caller, brand, url="http://127.0.0.1:9/hook", types=("PROPOSAL_CREATED",)):
    return caller(CREATE, {"brand": gid("Brand", brand.pk), "url": url, "types": list(types)})["createWebhookEndpoint"]


def test_owner_registers_an_endpoint_and_sees_the_secret_once(loopback, brand, owner):
    caller = session(owner)
    result = _create(caller, brand)
    assert result["errors"] == [] and result["secret"].startswith("whsec_")
    assert result["endpoint"]["eventTypes"] == ["PROPOSAL_CREATED"] and result["endpoint"]["enabled"]
    endpoint = WebhookEndpoint.objects.get()
    assert result["secret"] not in endpoint.secret_encrypted
    listed = caller("{ webhookEndpoints(first: 10) { edges { node { id url description } } } }")
    assert [e["node"]["description"] for e in listed["webhookEndpoints"]["edges"]] == ["CRM"]


def test_a_webhooks_key_manages_endpoints_and_rotates(loopback, brand, hook_key):
    caller = with_key(hook_key[1])
    created = _create(caller, brand)
    assert created["errors"] == []
    rotated = caller(
        "mutation($id: ID!) { rotateWebhookSecret(endpoint: $id) { secret endpoint { previousSecretExpiresAt } errors { code } } }",
        {"id": created["endpoint"]["id"]},
    )["rotateWebhookSecret"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != created["secret"]
    assert rotated["endpoint"]["previousSecretExpiresAt"] is not None
    updated = caller(
        "mutation($id: ID!) { updateWebhookEndpoint(endpoint: $id, enabled: false, eventTypes: [PROPOSAL_ACCEPTED]) "
        "{ endpoint { enabled eventTypes disabledReason } errors { code } } }",
        {"id": created["endpoint"]["id"]},
    )["updateWebhookEndpoint"]
    assert updated["endpoint"]["enabled"] is False and updated["endpoint"]["eventTypes"] == ["PROPOSAL_ACCEPTED"]
    assert updated["endpoint"]["disabledReason"] in ("Disabled by the brand.", "已由品牌手动停用。")
    deleted = caller(
        "mutation($id: ID!) { deleteWebhookEndpoint(endpoint: $id) { deletedId errors { code } } }",
        {"id": created["endpoint"]["id"]},
    )["deleteWebhookEndpoint"]
    assert deleted["errors"] == [] and not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("scopes", [[ApiKeyScope.READ], [ApiKeyScope.WRITE], [ApiKeyScope.EVENTS_WRITE]])
def test_keys_without_the_webhooks_scope_are_refused_and_see_nothing(loopback, brand, owner, scopes):
    hooks.endpoint_create(
        actor=Actor(user=owner), brand=brand, url="http://127.0.0.1:9/", event_types=["proposal.created"]
    )
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="k", scopes=scopes)
    caller = with_key(raw)
    result = _create(caller, brand)
    assert {e["code"] for e in result["errors"]} & {"insufficient_scope", "read_only_key"}
    assert WebhookEndpoint.objects.count() == 1
    listing = "{ webhookEndpoints(first: 10) { edges { node { id } } } }"
    if ApiKeyScope.EVENTS_WRITE in scopes:  # no read scope at all: refused outright
        assert with_key(raw).raw(listing).json()["errors"][0]["extensions"]["code"] == "insufficient_scope"
    else:  # reads the brand, but not its endpoints
        assert caller(listing)["webhookEndpoints"]["edges"] == []


def test_another_brand_and_anonymous_get_nothing(loopback, brand, owner, other_brand, other_owner, anon):
    endpoint, _ = hooks.endpoint_create(
        actor=Actor(user=owner), brand=brand, url="http://127.0.0.1:9/", event_types=["proposal.created"]
    )
    endpoint_id = gid("WebhookEndpoint", endpoint.pk)
    for caller in (session(other_owner), anon):
        assert caller(LOG, {"id": endpoint_id})["webhookEndpoint"] is None
        assert caller("{ webhookEndpoints(first: 10) { edges { node { id } } } }")["webhookEndpoints"]["edges"] == []
        for mutation in (
            "mutation($id: ID!) { rotateWebhookSecret(endpoint: $id) { secret errors { code } } }",
            "mutation($id: ID!) { deleteWebhookEndpoint(endpoint: $id) { deletedId errors { code } } }",
        ):
            data = caller(mutation, {"id": endpoint_id})
            (payload,) = data.values()
            assert payload["errors"] and payload.get("secret") is None
    assert WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()
    result = _create(session(other_owner), brand)  # registering on someone else's brand
    assert {e["code"] for e in result["errors"]} == {"permission_denied"} and result["secret"] is None


def test_a_marketer_cannot_register_but_the_owner_can(loopback, brand, owner):
    from partners.models import Role
    from tests.factories import MembershipFactory, UserFactory

    marketer = MembershipFactory(brand=brand, role=Role.MARKETER, user=UserFactory(username="mk@x.example")).user
    assert {e["code"] for e in _create(session(marketer), brand)["errors"]} == {"permission_denied"}


def test_bad_input_comes_back_as_field_errors(loopback, brand, owner):
    result = _create(session(owner), brand, url="https://169.254.169.254/latest", types=[])
    assert {(e["field"], e["code"]) for e in result["errors"]} == {
        ("url", "webhook_url_not_public"),
        ("eventTypes", "event_types_required"),
    }
    bad_id = session(owner)(
        'mutation { replayWebhookDelivery(delivery: "QnJhbmQ6MQ==") { delivery { id } errors { field code } } }'
    )["replayWebhookDelivery"]
    assert bad_id["errors"] == [{"field": "delivery", "code": "invalid_id"}]


def _deliver_some(brand, owner, receiver, n):
    endpoint, secret = hooks.endpoint_create(
        actor=Actor(user=owner), brand=brand, url=receiver.url, event_types=[EventType.PROPOSAL_MESSAGE]
    )
    receiver.status = 500
    for i in range(n):
        event = DomainEvent.objects.create(
            type=EventType.PROPOSAL_MESSAGE, brand_ids=[brand.pk], payload={"preview": f"hi {i}", "message": i + 1}
        )
        (delivery_id,) = hooks.deliveries_enqueue(event_id=event.pk)
        hooks.delivery_attempt(delivery_id=delivery_id)
    return endpoint


def test_the_delivery_log_and_replay(loopback, brand, owner, receiver, django_capture_on_commit_callbacks):
    endpoint = _deliver_some(brand, owner, receiver, 2)
    caller = session(owner)
    log = caller(LOG, {"id": gid("WebhookEndpoint", endpoint.pk)})["webhookEndpoint"]["deliveries"]["edges"]
    assert len(log) == 2
    node = log[0]["node"]
    assert (
        node["state"] == "FAILED"
        and node["lastStatusCode"] == 500
        and node["attemptLog"] == [{"number": 1, "statusCode": 500}]
    )
    assert node["webhookId"].startswith("msg_") and '"type":"proposal.message"' in node["body"]
    receiver.status = None
    delivery = WebhookDelivery.objects.order_by("-created_at", "-id").first()
    with django_capture_on_commit_callbacks(execute=True):
        replayed = caller(
            "mutation($id: ID!) { replayWebhookDelivery(delivery: $id) { delivery { state attempts } errors { code } } }",
            {"id": gid("WebhookDelivery", delivery.pk)},
        )["replayWebhookDelivery"]
    assert replayed["errors"] == []
    delivery.refresh_from_db()
    assert delivery.state == WebhookState.SUCCEEDED  # eager: the replay ran on commit
    with django_capture_on_commit_callbacks(execute=True):
        count = caller(
            "mutation($id: ID!) { replayFailedWebhookDeliveries(endpoint: $id) { count errors { code } } }",
            {"id": gid("WebhookEndpoint", endpoint.pk)},
        )["replayFailedWebhookDeliveries"]
    assert count == {"count": 1, "errors": []}
    assert not WebhookDelivery.objects.exclude(state=WebhookState.SUCCEEDED).exists()
    assert len(set(r.webhook_id for r in receiver.requests)) == 2


def test_the_log_costs_the_same_queries_for_1_or_8_deliveries(loopback, brand, owner, receiver):
    endpoint = _deliver_some(brand, owner, receiver, 1)
    caller = session(owner)
    variables = {"id": gid("WebhookEndpoint", endpoint.pk)}
    caller(LOG, variables)
    with CaptureQueriesContext(connection) as one:
        caller(LOG, variables)
    for i in range(7):
        event = DomainEvent.objects.create(
            type=EventType.PROPOSAL_MESSAGE, brand_ids=[brand.pk], payload={"message": i}
        )
        (delivery_id,) = hooks.deliveries_enqueue(event_id=event.pk)
        hooks.delivery_attempt(delivery_id=delivery_id)
    with CaptureQueriesContext(connection) as eight:
        data = caller(LOG, variables)
    assert len(data["webhookEndpoint"]["deliveries"]["edges"]) == 8
    assert len(eight) == len(one), [q["sql"] for q in eight.captured_queries]
