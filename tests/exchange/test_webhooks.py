"""Webhooks: registered endpoints receive the outbox's events signed per Standard Webhooks
(verified with the `standardwebhooks` package), retried on a backoff, disabled after failing for
too long, replayable; secrets are stored encrypted and rotate with an overlap; the SSRF guard
refuses non-public addresses at registration and again at delivery."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone, translation
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from exchange import services, webhooks
from exchange.errors import ExchangeError as E
from exchange.models import (
    DomainEvent,
    EventType,
    Notification,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookState,
)
from exchange.services import webhooks as hooks
from huiliu import outbound
from huiliu.errors import error_items
from partners.actors import Actor
from partners.models import ApiKeyScope, AuditAction, AuditEvent, Role
from partners.services import api_key_create
from tests.factories import MembershipFactory, UserFactory
from tests.support.webhook_receiver import start_receiver, stop_receiver

ALL_EVENTS = [EventType.PROPOSAL_CREATED, EventType.PROPOSAL_MESSAGE, EventType.PROPOSAL_ACCEPTED]


@pytest.fixture
def loopback(settings):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    settings.WEBHOOK_RETRY_SCHEDULE = [5, 300, 1800, 7200, 18000, 36000]


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    stop_receiver(r)


@pytest.fixture
def endpoint(loopback, coffee, coffee_actor, receiver):
    ep, secret = hooks.endpoint_create(actor=coffee_actor, brand=coffee, url=receiver.url, event_types=ALL_EVENTS)
    receiver.secret = secret
    return ep


def _codes(exc: ValidationError) -> dict[str, str]:
    return {field: code for field, code, _m in error_items(exc)}


def _propose(coffee, toys, coffee_actor, coffee_wecom, place, capture):
    with capture(execute=True):
        return services.proposal_create(
            actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
        )


@pytest.fixture
def propose(coffee, toys, coffee_actor, coffee_wecom, place, django_capture_on_commit_callbacks):
    return lambda: _propose(coffee, toys, coffee_actor, coffee_wecom, place, django_capture_on_commit_callbacks)


# --- secrets ------------------------------------------------------------------------------------
def test_secret_is_shown_once_and_stored_encrypted(endpoint, receiver):
    secret = receiver.secret
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    stored = WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get()
    assert all(secret not in str(v) and secret[6:] not in str(v) for v in stored.values())
    assert webhooks.decrypt_secret(endpoint.secret_encrypted) == secret


def test_secret_survives_a_rotation_of_the_encryption_key(endpoint, receiver, settings):
    old_key = settings.WEBHOOK_SECRET_KEY or settings.SECRET_KEY
    settings.WEBHOOK_SECRET_KEY = "a-brand-new-encryption-key"
    settings.WEBHOOK_SECRET_KEYS_OLD = [old_key]
    assert webhooks.decrypt_secret(endpoint.secret_encrypted) == receiver.secret  # still opens
    token = webhooks.reencrypt_secret(endpoint.secret_encrypted)
    settings.WEBHOOK_SECRET_KEYS_OLD = []
    assert webhooks.decrypt_secret(token) == receiver.secret  # the new key alone opens it now


# --- delivery and signing -------------------------------------------------------------------------
def test_a_real_delivery_verifies_with_standardwebhooks(endpoint, receiver, propose):
    proposal = propose()
    (request,) = receiver.requests
    assert request.verified
    body = Webhook(receiver.secret).verify(request.body, request.headers)
    event = DomainEvent.objects.get(proposal=proposal)
    assert request.webhook_id == f"msg_{event.pk}"
    assert body["type"] == "proposal.created" and body["version"] == 1
    assert body["data"]["proposal"] == base64.b64encode(f"Proposal:{proposal.pk}".encode()).decode()
    assert body["data"]["initiator"] == "bean-house" and body["data"]["acted_by"] == "initiator"
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookState.SUCCEEDED and delivery.last_status_code == 200
    assert delivery.attempts == 1 and delivery.last_latency_ms is not None


def test_a_tampered_body_fails_verification(endpoint, receiver, propose):
    propose()
    (request,) = receiver.requests
    tampered = request.body.replace(b'"bean-house"', b'"evil-house"')
    assert tampered != request.body
    with pytest.raises(WebhookVerificationError):
        Webhook(receiver.secret).verify(tampered, request.headers)


def test_a_stale_timestamp_fails_verification(endpoint, receiver, propose, monkeypatch):
    import time as real_time

    monkeypatch.setattr(hooks.time, "time", lambda: real_time.monotonic() * 0 + 1_000_000_000)  # 2001
    propose()
    (request,) = receiver.requests
    assert request.headers["webhook-timestamp"] == "1000000000"
    with pytest.raises(WebhookVerificationError, match="too old"):
        Webhook(receiver.secret).verify(request.body, request.headers)


def test_other_party_endpoints_get_the_event_and_unsubscribed_ones_do_not(
    loopback, toys, toys_actor, coffee, coffee_actor, receiver, propose
):
    toys_ep, _ = hooks.endpoint_create(
        actor=toys_actor, brand=toys, url=receiver.url, event_types=[EventType.PROPOSAL_CREATED]
    )
    hooks.endpoint_create(actor=coffee_actor, brand=coffee, url=receiver.url, event_types=[EventType.PROPOSAL_DECLINED])
    proposal = propose()
    assert list(WebhookDelivery.objects.values_list("endpoint_id", flat=True)) == [toys_ep.pk]
    body = json.loads(receiver.requests[0].body)
    assert body["data"]["acted_by"] == "initiator"
    event = DomainEvent.objects.get(proposal=proposal)
    assert services.event_dispatch(event_id=event.pk) == []  # a second dispatch adds nothing
    assert hooks.deliveries_enqueue(event_id=event.pk) == []
    assert WebhookDelivery.objects.count() == 1 and len(receiver.requests) == 1


def test_a_disabled_endpoint_is_sent_nothing_but_can_replay_what_it_missed_once_enabled(
    endpoint, coffee_actor, propose, receiver
):
    hooks.endpoint_update(actor=coffee_actor, endpoint=endpoint, enabled=False)
    propose()
    missed = WebhookDelivery.objects.get()
    assert missed.state == WebhookState.SKIPPED and missed.attempts == 0 and receiver.requests == []
    assert hooks.deliveries_due() == []
    hooks.endpoint_update(actor=coffee_actor, endpoint=endpoint, enabled=True)
    now = timezone.now()
    assert receiver.requests == [], "enabling alone sends nothing"
    count = hooks.deliveries_replay_failed(
        actor=coffee_actor, endpoint=endpoint, since=now - timedelta(hours=1), until=now + timedelta(minutes=1)
    )
    assert count == 1
    missed.refresh_from_db()
    assert missed.state == WebhookState.PENDING
    assert hooks.delivery_attempt(delivery_id=missed.pk) is True
    assert len(receiver.requests) == 1


def test_a_brand_status_change_reaches_that_brand_s_endpoints_only(
    endpoint, receiver, coffee, toys, coffee_actor, toys_actor, admin_actor, django_capture_on_commit_callbacks
):
    from partners.services import brand_reinstate, brand_suspend

    hooks.endpoint_update(actor=coffee_actor, endpoint=endpoint, event_types=[EventType.BRAND_STATUS_CHANGED])
    other, _secret = hooks.endpoint_create(
        actor=toys_actor, brand=toys, url=receiver.url, event_types=[EventType.BRAND_STATUS_CHANGED]
    )
    with django_capture_on_commit_callbacks(execute=True):
        brand_suspend(actor=admin_actor, brand=coffee, reason="资质待复核")
    with django_capture_on_commit_callbacks(execute=True):
        brand_reinstate(actor=admin_actor, brand=coffee)
    bodies = [json.loads(r.body) for r in receiver.requests]
    assert [(b["type"], b["data"]["previous"], b["data"]["status"]) for b in bodies] == [
        ("brand.status_changed", "approved", "suspended"),
        ("brand.status_changed", "suspended", "approved"),
    ]
    assert bodies[0]["data"]["brand"] == coffee.slug and bodies[0]["data"]["reason"] == "资质待复核"
    assert not WebhookDelivery.objects.filter(endpoint=other).exists(), "another brand hears nothing"
    assert not Notification.objects.filter(event__type=EventType.BRAND_STATUS_CHANGED).exists()


def test_a_compressed_answer_is_not_inflated_into_the_log(endpoint, receiver, propose):
    receiver.status, receiver.gzip_body = 500, True
    propose()
    assert receiver.requests[0].headers["accept-encoding"] == "identity"
    attempt = WebhookAttempt.objects.get()
    assert attempt.response == "[gzip-encoded body not shown]"


def test_redirects_are_not_followed_and_the_response_is_capped(endpoint, receiver, propose):
    receiver.redirect_to = "http://127.0.0.1:1/elsewhere"
    propose()
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == WebhookState.FAILED and delivery.last_status_code == 302
    receiver.redirect_to = ""
    receiver.status = 500
    hooks.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at)
    delivery.refresh_from_db()
    assert delivery.last_status_code == 500 and len(delivery.last_response) == 1024
    assert WebhookAttempt.objects.filter(delivery=delivery).count() == 2


def test_a_timeout_is_a_failure(endpoint, receiver, propose, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 0.3
    receiver.delay = 1.0
    propose()
    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and attempt.status_code is None and "Timed out" in attempt.error


# --- retries ------------------------------------------------------------------------------------
def test_backoff_follows_the_schedule_with_jitter_then_gives_up(endpoint, receiver, propose, settings):
    receiver.status = 503
    propose()
    delivery = WebhookDelivery.objects.get()
    schedule = settings.WEBHOOK_RETRY_SCHEDULE
    for step, seconds in enumerate(schedule):
        delivery.refresh_from_db()
        assert delivery.state == WebhookState.FAILED and delivery.step == step + 1
        last = delivery.attempt_log.first().at
        wait = (delivery.next_attempt_at - last).total_seconds()
        assert seconds * 0.8 <= wait <= seconds * 1.2, (step, wait)
        assert (
            hooks.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at - timedelta(seconds=1)) is None
        )
        assert hooks.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) is False
    delivery.refresh_from_db()
    assert delivery.state == WebhookState.GAVE_UP and delivery.attempts == len(schedule) + 1
    assert len(receiver.requests) == len(schedule) + 1
    assert hooks.deliveries_due(now=timezone.now() + timedelta(days=30)) == []


def test_a_claimed_delivery_is_not_attempted_twice_until_its_lease_expires(endpoint, receiver, propose, settings):
    receiver.status = 500
    propose()
    delivery = WebhookDelivery.objects.get()
    due = delivery.next_attempt_at
    assert hooks.delivery_claim(delivery_id=delivery.pk, now=due)  # a worker took it, then died
    assert hooks.delivery_attempt(delivery_id=delivery.pk, now=due) is None
    assert hooks.deliveries_due(now=due) == []
    later = due + timedelta(seconds=settings.WEBHOOK_LEASE_SECONDS + settings.WEBHOOK_TIMEOUT_SECONDS + 1)
    assert hooks.deliveries_due(now=later) == [delivery.pk]
    receiver.status = None
    assert hooks.delivery_attempt(delivery_id=delivery.pk, now=later) is True


def test_an_endpoint_failing_too_long_is_disabled_and_its_owner_emailed(
    endpoint, receiver, propose, coffee_owner, settings, django_capture_on_commit_callbacks
):
    receiver.status = 500
    propose()
    endpoint.refresh_from_db()
    started = endpoint.failing_since
    assert started is not None and endpoint.enabled
    delivery = WebhookDelivery.objects.get()
    mail.outbox.clear()
    within = started + timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS - 1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=within)
    with django_capture_on_commit_callbacks(execute=True):
        hooks.delivery_attempt(delivery_id=delivery.pk, now=within)
    endpoint.refresh_from_db()
    assert endpoint.enabled and mail.outbox == []
    beyond = started + timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS, minutes=1)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(next_attempt_at=beyond)
    with django_capture_on_commit_callbacks(execute=True):
        hooks.delivery_attempt(delivery_id=delivery.pk, now=beyond)
    endpoint.refresh_from_db()
    assert not endpoint.enabled and endpoint.disabled_reason == "failing"
    assert "72 hours" in endpoint.disabled_reason_text
    with translation.override("zh-hans"):
        assert "72" in endpoint.disabled_reason_text and "hours" not in endpoint.disabled_reason_text
    assert [m.to for m in mail.outbox] == [[coffee_owner.email]]
    assert endpoint.url in mail.outbox[0].body
    assert AuditEvent.objects.filter(action=AuditAction.WEBHOOK_DISABLED).count() == 1
    assert hooks.deliveries_due(now=beyond + timedelta(days=2)) == []  # nothing is sent to it any more


def test_a_success_ends_the_failure_streak(endpoint, receiver, propose):
    receiver.fail_first = 1
    propose()
    endpoint.refresh_from_db()
    assert endpoint.failing_since is not None
    delivery = WebhookDelivery.objects.get()
    assert hooks.delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) is True
    endpoint.refresh_from_db()
    assert endpoint.failing_since is None


# --- rotation -----------------------------------------------------------------------------------
def test_during_the_overlap_both_secrets_verify_and_after_it_only_the_new_one(
    endpoint, receiver, propose, coffee_actor, settings
):
    old = receiver.secret
    endpoint, new = hooks.endpoint_rotate_secret(actor=coffee_actor, endpoint=endpoint)
    assert new != old and new.startswith("whsec_")
    receiver.secret = new
    propose()
    (request,) = receiver.requests
    assert len(request.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(request.body, request.headers)
    Webhook(new).verify(request.body, request.headers)
    # after the overlap: a replay is signed with the new secret only
    after = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS, minutes=1)
    delivery = WebhookDelivery.objects.get()
    hooks.delivery_replay(actor=coffee_actor, delivery=delivery, now=after)
    hooks.delivery_attempt(delivery_id=delivery.pk, now=after)
    replayed = receiver.requests[-1]
    assert replayed.webhook_id == request.webhook_id and len(receiver.requests) >= 2
    assert len(replayed.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(replayed.body, replayed.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(replayed.body, replayed.headers)


# --- replay -------------------------------------------------------------------------------------
def test_replay_of_failed_deliveries_in_a_range(endpoint, receiver, propose, coffee_actor, coffee, toys):
    receiver.status = 500
    proposal = propose()
    services.proposal_message_send(actor=coffee_actor, proposal=proposal, body="hello")
    for event in DomainEvent.objects.filter(dispatched_at__isnull=True):
        services.event_dispatch(event_id=event.pk)
    first, second = WebhookDelivery.objects.order_by("created_at", "id")
    WebhookDelivery.objects.filter(pk=second.pk).update(state=WebhookState.GAVE_UP)
    WebhookDelivery.objects.filter(pk=first.pk).update(created_at=timezone.now() - timedelta(days=3))
    receiver.status = None
    now = timezone.now()
    count = hooks.deliveries_replay_failed(
        actor=coffee_actor, endpoint=endpoint, since=now - timedelta(days=1), until=now + timedelta(minutes=1)
    )
    assert count == 1
    second.refresh_from_db()
    assert second.state == WebhookState.PENDING and second.step == 0
    assert hooks.delivery_attempt(delivery_id=second.pk) is True
    first.refresh_from_db()
    assert first.state == WebhookState.FAILED  # outside the range: untouched
    with pytest.raises(ValidationError) as exc:
        hooks.deliveries_replay_failed(actor=coffee_actor, endpoint=endpoint, since=now, until=now)
    assert _codes(exc.value) == {"until": E.INVALID_RANGE}


def test_replay_is_refused_for_a_disabled_endpoint(endpoint, receiver, propose, coffee_actor):
    propose()
    hooks.endpoint_update(actor=coffee_actor, endpoint=endpoint, enabled=False)
    with pytest.raises(ValidationError) as exc:
        hooks.delivery_replay(actor=coffee_actor, delivery=WebhookDelivery.objects.get())
    assert _codes(exc.value) == {"delivery": E.ENDPOINT_DISABLED}


def test_the_previous_secret_is_forgotten_once_its_overlap_ends(endpoint, coffee_actor):
    endpoint, _new = hooks.endpoint_rotate_secret(actor=coffee_actor, endpoint=endpoint)
    assert endpoint.previous_secret_encrypted
    assert hooks.expired_secrets_clear(now=endpoint.previous_secret_expires_at - timedelta(seconds=1)) == 0
    assert hooks.expired_secrets_clear(now=endpoint.previous_secret_expires_at) == 1
    endpoint.refresh_from_db()
    assert endpoint.previous_secret_encrypted == "" and endpoint.previous_secret_expires_at is None
    assert len(hooks.endpoint_secrets(endpoint)) == 1


# --- SSRF ---------------------------------------------------------------------------------------
@pytest.fixture
def dns(monkeypatch):
    answers: dict[str, list[str]] = {}
    monkeypatch.setattr(outbound, "resolve", lambda host, port: answers.get(host) or (_ for _ in ()).throw(OSError()))
    return answers


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("https://10.0.0.8/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://192.168.1.1/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://169.254.169.254/latest/meta-data/", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://100.100.100.200/latest/meta-data/", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://127.0.0.1/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://[::1]/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://[::ffff:127.0.0.1]/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://[fd00:ec2::254]/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://[fec0::1]/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://224.0.0.1/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://0.0.0.0/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://internal.example/hook", E.WEBHOOK_URL_NOT_PUBLIC),
        ("https://nowhere.example/hook", E.WEBHOOK_URL_UNRESOLVABLE),
        ("http://crm.example/hook", E.WEBHOOK_URL_NOT_HTTPS),
        ("ftp://crm.example/hook", E.WEBHOOK_URL_INVALID),
        ("https://user:pw@crm.example/hook", E.WEBHOOK_URL_INVALID),
        ("https://crm.example:99999/hook", E.WEBHOOK_URL_INVALID),
        ("/relative", E.WEBHOOK_URL_INVALID),
        ("", E.REQUIRED),
    ],
)
def test_registration_refuses_addresses_that_are_not_public(dns, coffee, coffee_actor, url, code):
    dns["crm.example"] = ["93.184.216.34"]
    dns["internal.example"] = ["93.184.216.34", "10.1.2.3"]  # one bad answer is enough
    with pytest.raises(ValidationError) as exc:
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url=url, event_types=ALL_EVENTS)
    assert _codes(exc.value) == {"url": code}
    assert not WebhookEndpoint.objects.exists()


def test_a_refused_host_name_does_not_reveal_the_private_address_it_resolves_to(dns, coffee, coffee_actor):
    dns["intranet.example"] = ["10.20.30.40"]
    with pytest.raises(ValidationError) as exc:
        hooks.endpoint_create(
            actor=coffee_actor, brand=coffee, url="https://intranet.example/h", event_types=ALL_EVENTS
        )
    message = exc.value.error_dict["url"][0].messages[0]
    assert "10.20.30.40" not in message and "private" in message
    with pytest.raises(ValidationError) as exc:  # an address typed in is said back
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="https://10.20.30.40/h", event_types=ALL_EVENTS)
    assert "10.20.30.40" in exc.value.error_dict["url"][0].messages[0]


def test_loopback_is_allowed_only_when_the_setting_says_so(settings, coffee, coffee_actor):
    settings.WEBHOOK_ALLOW_LOOPBACK = False
    with pytest.raises(ValidationError):
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="http://127.0.0.1:9/h", event_types=ALL_EVENTS)
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    ep, _ = hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="http://127.0.0.1:9/h", event_types=ALL_EVENTS)
    assert ep.pk
    with pytest.raises(ValidationError) as exc:  # loopback allowed is not private allowed
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="https://10.0.0.1/h", event_types=ALL_EVENTS)
    assert _codes(exc.value) == {"url": E.WEBHOOK_URL_NOT_PUBLIC}


def test_a_host_that_resolves_to_a_private_address_at_delivery_is_not_contacted(
    dns, coffee, coffee_actor, propose, monkeypatch
):
    dns["crm.example"] = ["93.184.216.34"]
    ep, _ = hooks.endpoint_create(
        actor=coffee_actor, brand=coffee, url="https://crm.example/hook", event_types=ALL_EVENTS
    )
    dns["crm.example"] = ["169.254.169.254"]  # DNS rebinding after registration
    posted = []
    monkeypatch.setattr(hooks, "_post", lambda *a, **k: posted.append(a))
    propose()
    assert posted == []
    attempt = WebhookAttempt.objects.get()
    assert not attempt.succeeded and "private" in attempt.error and "169.254.169.254" not in attempt.error
    assert WebhookDelivery.objects.get().state == WebhookState.FAILED


def test_the_request_goes_to_the_address_that_was_checked(dns, coffee, coffee_actor, propose, monkeypatch):
    dns["crm.example"] = ["93.184.216.34"]
    hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="https://crm.example/in?x=1", event_types=ALL_EVENTS)
    seen = []
    monkeypatch.setattr(hooks, "_post", lambda target, body, headers: seen.append(target) or hooks.Outcome(200, 5))
    propose()
    (target,) = seen
    assert [str(a) for a in target.addresses] == ["93.184.216.34"]
    assert (target.host, target.port, target.path) == ("crm.example", 443, "/in?x=1")


# --- input and permissions ----------------------------------------------------------------------
def test_bad_input_is_refused_field_by_field_and_nothing_is_saved(loopback, coffee, coffee_actor):
    with pytest.raises(ValidationError) as exc:
        hooks.endpoint_create(
            actor=coffee_actor, brand=coffee, url="https://10.0.0.1/", event_types=[], description="x" * 300
        )
    assert _codes(exc.value) == {
        "url": E.WEBHOOK_URL_NOT_PUBLIC,
        "event_types": E.EVENT_TYPES_REQUIRED,
        "description": "invalid",  # huiliu.text: too long
    }
    with pytest.raises(ValidationError) as exc:
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="http://127.0.0.1/", event_types=["nope"])
    assert _codes(exc.value) == {"event_types": E.UNKNOWN_EVENT_TYPE}
    assert not WebhookEndpoint.objects.exists()


def test_only_the_owner_or_a_webhooks_key_may_manage(loopback, coffee, coffee_owner, toys_actor):
    marketer = MembershipFactory(brand=coffee, role=Role.MARKETER, user=UserFactory(username="mk@bean.example")).user
    _k, _raw = api_key_create(actor=Actor(user=coffee_owner), brand=coffee, name="w", scopes=[ApiKeyScope.WRITE])
    hook_key, _raw2 = api_key_create(
        actor=Actor(user=coffee_owner), brand=coffee, name="h", scopes=[ApiKeyScope.WEBHOOKS_MANAGE]
    )
    for actor in (Actor(user=marketer), Actor(api_key=_k), toys_actor):
        with pytest.raises(ValidationError) as exc:
            hooks.endpoint_create(actor=actor, brand=coffee, url="http://127.0.0.1/", event_types=ALL_EVENTS)
        assert _codes(exc.value) == {"brand": E.PERMISSION_DENIED}
    ep, _ = hooks.endpoint_create(
        actor=Actor(api_key=hook_key), brand=coffee, url="http://127.0.0.1/", event_types=ALL_EVENTS
    )
    assert ep.brand_id == coffee.pk


def test_a_brand_has_a_bounded_number_of_endpoints(loopback, coffee, coffee_actor, settings):
    settings.WEBHOOK_MAX_ENDPOINTS_PER_BRAND = 2
    for _ in range(2):
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="http://127.0.0.1/", event_types=ALL_EVENTS)
    with pytest.raises(ValidationError) as exc:
        hooks.endpoint_create(actor=coffee_actor, brand=coffee, url="http://127.0.0.1/", event_types=ALL_EVENTS)
    assert _codes(exc.value) == {"brand": E.TOO_MANY_ENDPOINTS}


def test_payload_of_an_event_type_without_a_builder_keeps_only_scalars(coffee, toys, monkeypatch):
    monkeypatch.delitem(webhooks.FIELDS, EventType.CONVERSIONS_CONFIRMED)  # as for a type added later
    event = DomainEvent.objects.create(
        type=EventType.CONVERSIONS_CONFIRMED,
        brand_ids=[coffee.pk, toys.pk],
        payload={"count": 3, "amount_cents": 1200, "rows": [{"phone": "138..."}], "campaign": 7},
    )
    data = webhooks.payload(event)["data"]
    assert data["count"] == 3 and data["amount_cents"] == 1200 and "rows" not in data
    assert data["campaign"] == base64.b64encode(b"Campaign:7").decode()
    assert data["webhook_id"] == f"msg_{event.pk}" and data["proposal"] is None


def test_a_reversal_does_not_send_the_reporters_external_id(coffee, toys):
    event = DomainEvent.objects.create(
        type=EventType.CONVERSION_REVERSED,
        brand_ids=[coffee.pk, toys.pk],
        payload={"campaign": 1, "leg": 2, "event": 3, "external_id": "ORDER-SECRET-1", "reason": "refund"},
    )
    body = webhooks.body_of(event).decode()
    assert "ORDER-SECRET-1" not in body
    assert webhooks.payload(event)["data"]["event"] == base64.b64encode(b"ReportedEvent:3").decode()


def test_reencrypt_command_moves_every_secret_to_the_new_key(endpoint, receiver, settings):
    from django.core.management import call_command

    old_key = settings.WEBHOOK_SECRET_KEY or settings.SECRET_KEY
    settings.WEBHOOK_SECRET_KEY = "the-next-encryption-key"
    settings.WEBHOOK_SECRET_KEYS_OLD = [old_key]
    call_command("webhooks_reencrypt")
    settings.WEBHOOK_SECRET_KEYS_OLD = []
    endpoint.refresh_from_db()
    assert hooks.endpoint_secrets(endpoint) == [receiver.secret]
    settings.WEBHOOK_SECRET_KEY = "a-key-nobody-used"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("webhooks_reencrypt")


def test_the_audit_trail_keeps_the_host_not_a_token_in_the_url(loopback, coffee, coffee_actor):
    ep, _ = hooks.endpoint_create(
        actor=coffee_actor, brand=coffee, url="http://127.0.0.1:9/in?token=RECEIVER-TOKEN", event_types=ALL_EVENTS
    )
    hooks.endpoint_update(actor=coffee_actor, endpoint=ep, url="http://127.0.0.1:9/in?token=OTHER-TOKEN")
    hooks.endpoint_delete(actor=coffee_actor, endpoint=ep)
    trail = list(AuditEvent.objects.filter(action__startswith="webhook.").order_by("id").values_list("action", "data"))
    assert [a for a, _d in trail] == ["webhook.created", "webhook.updated", "webhook.deleted"]
    assert "TOKEN" not in str(trail) and all("127.0.0.1" in str(d) for _a, d in trail)


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_for_one_delivery_claim_it_once(endpoint, receiver, propose):
    """One worker holds its claim uncommitted while a second asks for the same delivery: the
    second waits on the row, then sees it claimed (on PostgreSQL the re-check reads the new row)."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row-lock re-check semantics are PostgreSQL's")
    receiver.status = 500  # the first attempt fails: the delivery waits for its retry
    propose()
    delivery = WebhookDelivery.objects.get()
    due = delivery.next_attempt_at
    attempts = delivery.attempts
    claimed, release, results = threading.Event(), threading.Event(), {}

    def first():
        with transaction.atomic():
            results["first"] = hooks.delivery_claim(delivery_id=delivery.pk, now=due)
            claimed.set()
            release.wait(10)
        connections.close_all()

    def second():
        results["second"] = hooks.delivery_claim(delivery_id=delivery.pk, now=due)
        connections.close_all()

    a = threading.Thread(target=first)
    a.start()
    assert claimed.wait(10)
    b = threading.Thread(target=second)
    b.start()
    b.join(1.0)
    assert b.is_alive(), ("the second claim waits for the first worker's row lock", results)
    release.set()
    a.join(10)
    b.join(10)
    assert results["first"] is not None and results["second"] is None
    delivery.refresh_from_db()
    assert delivery.attempts == attempts + 1


def test_a_declined_cards_reason_reaches_the_payers_endpoints_only(loopback, coffee, coffee_actor, toys, toys_actor):
    payee_rx, payer_rx = start_receiver(), start_receiver()
    try:
        hooks.endpoint_create(
            actor=coffee_actor, brand=coffee, url=payee_rx.url, event_types=[EventType.SETTLEMENT_FAILED]
        )
        hooks.endpoint_create(actor=toys_actor, brand=toys, url=payer_rx.url, event_types=[EventType.SETTLEMENT_FAILED])
        event = DomainEvent.objects.create(
            type=EventType.SETTLEMENT_FAILED,
            brand_ids=[coffee.pk, toys.pk],
            payload={
                "settlement": 1,
                "payer": toys.slug,
                "payee": coffee.slug,
                "state": "cash_pending",
                "failure_code": "insufficient_funds",
                "failure_message": "余额不足",
            },
        )
        for delivery_id in hooks.deliveries_enqueue(event_id=event.pk):
            hooks.delivery_attempt(delivery_id=delivery_id)
        (to_payee,), (to_payer,) = payee_rx.requests, payer_rx.requests
        payer_data, payee_data = json.loads(to_payer.body)["data"], json.loads(to_payee.body)["data"]
        assert (payer_data["failure_code"], payer_data["failure_message"]) == ("insufficient_funds", "余额不足")
        assert "failure_code" not in payee_data and "余额不足" not in to_payee.body.decode()
        assert payee_data["payer"] == toys.slug and payee_data["state"] == "cash_pending"
    finally:
        stop_receiver(payee_rx)
        stop_receiver(payer_rx)
