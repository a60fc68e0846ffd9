"""docs/WEBHOOKS.md documents one payload per event type (```json webhook=<type>``` blocks);
each is checked against the real payload builder fed by the real services, so the document
cannot drift: the same keys, the same kinds of values, the same enum values, ids of the same
GraphQL type. Event types no service on this branch emits yet (delivery, conversion, member)
are built from the example's own fields, which still checks the envelope and the id rules."""

from __future__ import annotations

import base64
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from exchange import services, webhooks
from exchange.models import DomainEvent, EventType
from exchange.services import campaigns as campaign_services

DOC = Path(__file__).resolve().parents[2] / "docs" / "WEBHOOKS.md"
BLOCK = re.compile(r"^```json webhook=([a-z_.]+)\n(.*?)^```", re.S | re.M)
EXACT = {"type", "version", "state", "acted_by", "reason"}
COMMON = {"webhook_id", "proposal", "acted_by"}


def _documented() -> dict[str, dict]:
    return {name: json.loads(body) for name, body in BLOCK.findall(DOC.read_text())}


def _gid_type(value: str) -> str:
    return base64.b64decode(value).decode().split(":", 1)[0]


def _same_shape(doc, real, path="") -> list[str]:
    problems = []
    if isinstance(doc, dict):
        if not isinstance(real, dict):
            return [f"{path}: documented an object, got {real!r}"]
        if set(doc) != set(real):
            problems.append(f"{path}: keys {sorted(doc)} documented, {sorted(real)} sent")
        for key in set(doc) & set(real):
            problems += _same_shape(doc[key], real[key], f"{path}.{key}")
        return problems
    name = path.rsplit(".", 1)[-1]
    if doc is None or real is None:
        if (doc is None) != (real is None):
            problems.append(f"{path}: {doc!r} documented, {real!r} sent")
    elif type(doc) is not type(real):
        problems.append(f"{path}: a {type(doc).__name__} documented, a {type(real).__name__} sent")
    elif name in EXACT and doc != real:
        problems.append(f"{path}: {doc!r} documented, {real!r} sent")
    elif name in webhooks.GRAPHQL_TYPES and _gid_type(doc) != _gid_type(real):
        problems.append(f"{path}: an id of a {_gid_type(doc)} documented, of a {_gid_type(real)} sent")
    return problems


@pytest.fixture
def real_payloads(accepted, coffee, toys, coffee_actor, toys_actor, coffee_wecom, place) -> dict[str, dict]:
    """Every event type the services emit, produced by the services themselves."""
    talk = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )
    services.proposal_message_send(actor=toys_actor, proposal=talk, body="周五前能确认排期吗？")
    services.proposal_decline(actor=toys_actor, proposal=talk, revision=1, reason="timing")
    withdrawn = services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )
    services.proposal_withdraw(actor=coffee_actor, proposal=withdrawn)
    services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )
    services.proposals_expire(now=timezone.now() + timedelta(days=30))
    campaign_services.campaigns_advance(now=timezone.now() + timedelta(days=60))
    from partners.actors import Actor as _Actor
    from partners.services import brand_suspend
    from tests.factories import AdminFactory

    brand_suspend(actor=_Actor(user=AdminFactory()), brand=toys, reason="营业执照过期，请更新")
    out = {}
    for event in DomainEvent.objects.select_related("proposal").order_by("id"):
        out.setdefault(event.type, webhooks.payload(event))
    return out


def test_every_event_type_has_a_documented_payload():
    assert set(_documented()) == set(EventType.values)


def test_documented_payloads_match_the_real_builder(real_payloads, accepted):
    documented = _documented()
    problems = {}
    for event_type in EventType.values:
        doc = documented[event_type]
        if event_type in real_payloads:
            real = real_payloads[event_type]
        else:  # not emitted on this branch yet: the example's own fields through the builder
            fields = {k: v for k, v in doc["data"].items() if k not in COMMON}
            for key, value in fields.items():
                if key in webhooks.GRAPHQL_TYPES and isinstance(value, str):
                    fields[key] = int(base64.b64decode(value).decode().split(":", 1)[1])
            event = DomainEvent.objects.create(
                type=event_type,
                proposal=accepted,
                brand_ids=[accepted.initiator_id, accepted.counterparty_id],
                actor_brand_id={"initiator": accepted.initiator_id, "counterparty": accepted.counterparty_id}.get(
                    doc["data"]["acted_by"]
                ),
                payload=fields,
            )
            real = webhooks.payload(event)
        found = _same_shape(doc, real)
        if found:
            problems[event_type] = found
    assert problems == {}
    assert set(real_payloads) >= {t for t in EventType.values if t.startswith(("proposal.", "campaign."))}, (
        "the services emitted every proposal and campaign event"
    )


CODE = re.compile(r"^```python example=([a-z-]+)\n(.*?)^```", re.S | re.M)
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)


def test_every_block_is_checked_or_plain_text():
    infos = [info for info, _body in FENCE.findall(DOC.read_text())]
    unchecked = [i for i in infos if not (i.startswith(("json webhook=", "python example=")) or i == "text")]
    assert unchecked == []
    assert {name for name, _ in CODE.findall(DOC.read_text())} == {"verify-library", "verify-by-hand"}


@pytest.fixture
def delivered(settings, coffee, toys, coffee_actor, coffee_wecom, place, django_capture_on_commit_callbacks):
    from exchange.services import webhooks as hooks
    from tests.support.webhook_receiver import start_receiver, stop_receiver

    settings.WEBHOOK_ALLOW_LOOPBACK = True
    receiver = start_receiver()
    _endpoint, receiver.secret = hooks.endpoint_create(
        actor=coffee_actor, brand=coffee, url=receiver.url, event_types=[EventType.PROPOSAL_CREATED]
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 10)]
        )
    yield receiver
    stop_receiver(receiver)


@pytest.mark.parametrize("name", ["verify-library", "verify-by-hand"])
def test_the_verification_examples_accept_a_real_delivery_and_refuse_a_tampered_one(delivered, name):
    code = dict(CODE.findall(DOC.read_text()))[name]
    (request,) = delivered.requests
    scope = {"secret": delivered.secret, "body": request.body, "headers": dict(request.headers)}
    exec(code, scope)  # noqa: S102 (the document's own example)
    assert scope["payload"]["type"] == "proposal.created"
    tampered = {**scope, "body": request.body.replace(b'"version":1', b'"version":2')}
    with pytest.raises(Exception, match="signature"):
        exec(code, tampered)  # noqa: S102
