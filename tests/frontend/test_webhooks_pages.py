"""The webhooks pages: the owner adds an endpoint and sees its secret once, rotates it,
disables it, reads the delivery log and replays; other people get a 404; bad input shows the
service's message next to the field and saves nothing; Chinese by default."""

from __future__ import annotations

import pytest
from django.test import Client

from exchange.models import DomainEvent, EventType, WebhookDelivery, WebhookEndpoint, WebhookState
from exchange.services import webhooks as hooks
from partners.actors import Actor
from tests.support.webhook_receiver import start_receiver, stop_receiver


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    stop_receiver(r)


def _url(brand, *parts):
    return f"/dashboard/brands/{brand.slug}/webhooks/" + "".join(f"{p}/" for p in parts)


def test_owner_adds_an_endpoint_and_sees_the_secret_once(loopback, owner_client, brand):
    page = owner_client.get(f"/dashboard/brands/{brand.slug}/")
    assert _url(brand) in page.content.decode()  # linked next to the API keys
    response = owner_client.post(
        _url(brand),
        {
            "url": "http://127.0.0.1:9/hook",
            "description": "CRM",
            "event_types": ["proposal.created", "proposal.accepted"],
        },
    )
    html = response.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    secret = hooks.endpoint_secrets(endpoint)[0]
    assert secret in html and response["Cache-Control"] == "no-store"
    assert endpoint.event_types == ["proposal.created", "proposal.accepted"]
    again = owner_client.get(_url(brand)).content.decode()
    assert secret not in again and "http://127.0.0.1:9/hook" in again
    assert "新的置换提案" in again  # event types as checkboxes with their Chinese labels


def test_bad_input_is_shown_and_nothing_saved(owner_client, brand):
    response = owner_client.post(_url(brand), {"url": "https://169.254.169.254/", "event_types": []})
    assert response.status_code == 200
    html = response.content.decode()
    assert "169.254.169.254" in html and 'class="error"' in html
    assert not WebhookEndpoint.objects.exists()


def test_people_other_than_the_owner_get_404(loopback, brand, owner, marketer, other_owner):
    endpoint, _ = hooks.endpoint_create(
        actor=Actor(user=owner), brand=brand, url="http://127.0.0.1:9/", event_types=["proposal.created"]
    )
    for user in (marketer, other_owner):
        client = Client()
        client.force_login(user)
        assert client.get(_url(brand)).status_code == 404
        assert client.get(_url(brand, endpoint.pk)).status_code == 404
        assert client.post(_url(brand, endpoint.pk, "rotate")).status_code == 404
    assert Client().get(_url(brand)).status_code == 302  # to sign-in


def test_rotate_disable_log_and_replay(
    loopback, owner_client, brand, owner, receiver, django_capture_on_commit_callbacks
):
    endpoint, first = hooks.endpoint_create(
        actor=Actor(user=owner), brand=brand, url=receiver.url, event_types=[EventType.PROPOSAL_MESSAGE]
    )
    receiver.status = 500
    event = DomainEvent.objects.create(type=EventType.PROPOSAL_MESSAGE, brand_ids=[brand.pk], payload={"message": 1})
    (delivery_id,) = hooks.deliveries_enqueue(event_id=event.pk)
    hooks.delivery_attempt(delivery_id=delivery_id)

    html = owner_client.get(_url(brand, endpoint.pk)).content.decode()
    assert f"msg_{event.pk}" in html and "500" in html and "nope" in html  # the log: event, status, snippet

    rotated = owner_client.post(_url(brand, endpoint.pk, "rotate"), {"rotated": ""})
    new = hooks.endpoint_secrets(WebhookEndpoint.objects.get())[0]
    assert new != first and new in rotated.content.decode() and rotated["Cache-Control"] == "no-store"
    again = owner_client.post(_url(brand, endpoint.pk, "rotate"), {"rotated": ""})  # a reload re-posts
    assert again.status_code == 302 and hooks.endpoint_secrets(WebhookEndpoint.objects.get())[0] == new

    receiver.status = None
    with django_capture_on_commit_callbacks(execute=True):
        owner_client.post(_url(brand, endpoint.pk, "deliveries", delivery_id, "replay"))
    assert WebhookDelivery.objects.get().state == WebhookState.SUCCEEDED

    owner_client.post(_url(brand, endpoint.pk, "toggle"))
    assert WebhookEndpoint.objects.get().enabled is False
    page = owner_client.get(_url(brand, endpoint.pk)).content.decode()
    assert "webhook-toggle" in page

    response = owner_client.post(
        _url(brand, endpoint.pk, "replay"), {"since": "2030-01-02T00:00", "until": "2030-01-01T00:00"}
    )
    assert response.status_code == 200 and 'class="error"' in response.content.decode()

    owner_client.post(_url(brand, endpoint.pk, "delete"))
    assert not WebhookEndpoint.objects.exists()
