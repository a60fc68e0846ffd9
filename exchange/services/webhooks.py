"""Webhooks to partner systems: endpoints, delivery from the outbox, replay (docs/WEBHOOKS.md).

A brand's owner (or a key with ``webhooks:manage``) registers endpoints; the secret comes back
once from ``endpoint_create`` / ``endpoint_rotate_secret`` and is stored encrypted.
``deliveries_enqueue`` (called by the outbox dispatch) writes one delivery per subscribed
endpoint and event — unique, so dispatching twice changes nothing. ``delivery_attempt`` claims a
delivery with a lease before the request (a worker killed mid-request leaves a claim that
expires; the sweep retries it), re-checks the address (SSRF, DNS may have changed) and connects
to the very address it checked, then settles: 2xx succeeded, anything else retried on the
schedule, gave up after its last step. An endpoint failing without a single success for
WEBHOOK_DISABLE_AFTER_HOURS is disabled and its owners e-mailed.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import certifi
import urllib3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exchange import conf, webhooks
from exchange.errors import ExchangeError as E
from exchange.models import DomainEvent, EventType, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from exchange.models.webhooks import RETRYABLE_STATES, DisabledReason, WebhookState
from exchange.services.common import error
from huiliu.outbound import OutboundRefused, Refusal, is_loopback, public_addresses
from huiliu.text import clean_free_text
from partners.actors import Actor
from partners.models import ApiKeyScope, AuditAction, Brand, Role
from partners.services import audit

log = logging.getLogger(__name__)

SNIPPET_BYTES = 1024
MAX_URL = 500


# --- who may ------------------------------------------------------------------------------------
def can_manage_webhooks(actor: Actor, brand_id: int) -> bool:
    """A brand's owner, or an active key of that brand holding ``webhooks:manage``."""
    if actor.system:
        return True
    key = actor.api_key
    if key is not None:
        return key.is_active and key.brand_id == brand_id and key.has_scope(ApiKeyScope.WEBHOOKS_MANAGE)
    return actor.roles.get(brand_id) == Role.OWNER


def _check_manage(actor: Actor, brand_id: int) -> None:
    if not can_manage_webhooks(actor, brand_id):
        raise error(
            "brand",
            _("Only the brand's owner or a key with the webhooks:manage scope can manage webhooks."),
            E.PERMISSION_DENIED,
        )


# --- input --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """Where a request goes: the URL's parts and the checked addresses to connect to."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: list


def url_check(url: str, *, field: str = "url") -> Target:
    """Refuse a URL a webhook may not be sent to: not absolute https (http only to loopback when
    WEBHOOK_ALLOW_LOOPBACK), credentials in it, or a host resolving to any non-public address."""
    if not isinstance(url, str) or not url.strip():
        raise error(field, _("Enter the endpoint's address."), E.REQUIRED)
    url = url.strip()
    if len(url) > MAX_URL:
        raise error(
            field, _("An endpoint address is at most %(n)d characters.") % {"n": MAX_URL}, E.WEBHOOK_URL_INVALID
        )
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise error(field, _("This is not a valid web address."), E.WEBHOOK_URL_INVALID)
    try:
        parts = urlsplit(url)
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise error(field, _("This is not a valid web address."), E.WEBHOOK_URL_INVALID) from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not host:
        raise error(field, _("Enter an absolute https:// address."), E.WEBHOOK_URL_INVALID)
    if parts.username is not None or parts.password is not None:
        raise error(field, _("An endpoint address cannot contain a user name or password."), E.WEBHOOK_URL_INVALID)
    port = port or (443 if scheme == "https" else 80)
    allow_loopback = conf.webhook_allow_loopback()
    try:
        addresses = public_addresses(host, port, allow_loopback=allow_loopback)
    except OutboundRefused as exc:
        if exc.reason == Refusal.UNRESOLVABLE:
            raise error(
                field, _("The endpoint's host name does not resolve to an address."), E.WEBHOOK_URL_UNRESOLVABLE
            ) from None
        if exc.address == host.strip("[]"):  # an address typed in: saying it back reveals nothing
            message = _(
                "The endpoint must be on the public internet, not a private, loopback or metadata address (%(ip)s)."
            ) % {"ip": exc.address}
        else:
            # A host name: never say what it resolved to (that would turn the form into a probe of
            # the platform's internal DNS).
            message = _(
                "The endpoint's host name resolves to a private, loopback or metadata address; "
                "it must be on the public internet."
            )
        raise error(field, message, E.WEBHOOK_URL_NOT_PUBLIC) from None
    if scheme != "https" and not (allow_loopback and all(is_loopback(ip) for ip in addresses)):
        raise error(field, _("The endpoint must be an https:// address."), E.WEBHOOK_URL_NOT_HTTPS)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)


def _host(url: str) -> str:
    """What the audit trail keeps of an endpoint's URL: its host (a path or query may carry the
    receiver's own token, and brand members of every role read the trail)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _clean_event_types(event_types, field: str = "event_types") -> list[str]:
    values = [getattr(t, "value", t) for t in (event_types or [])]
    if not values:
        raise error(field, _("Choose at least one event type."), E.EVENT_TYPES_REQUIRED)
    unknown = [v for v in values if v not in EventType.values]
    if unknown:
        raise error(
            field,
            _("Unknown event type: %(types)s.") % {"types": ", ".join(str(u)[:40] for u in unknown[:3])},
            E.UNKNOWN_EVENT_TYPE,
        )
    return sorted(set(values), key=EventType.values.index)


def _clean_description(description) -> str:
    try:
        return clean_free_text(description or "", _("What this endpoint is for"), max_length=200)
    except ValidationError as exc:
        raise ValidationError({"description": exc}) from None


# --- endpoints ----------------------------------------------------------------------------------
@transaction.atomic
def endpoint_create(
    *, actor: Actor, brand: Brand, url: str, event_types: list[str], description: str = "", enabled: bool = True
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint for ``brand``. Returns (endpoint, signing secret); the secret is never
    shown again (rotate to get a new one)."""
    _check_manage(actor, brand.pk)
    errors: dict[str, ValidationError] = {}
    for _field, check in (
        ("url", lambda: url_check(url)),
        ("event_types", lambda: _clean_event_types(event_types)),
        ("description", lambda: _clean_description(description)),
    ):
        try:
            check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    Brand.objects.select_for_update().filter(pk=brand.pk).first()  # one count at a time per brand
    if WebhookEndpoint.objects.filter(brand=brand).count() >= conf.webhook_max_endpoints():
        raise error(
            "brand",
            _("A brand can have at most %(n)d webhook endpoints.") % {"n": conf.webhook_max_endpoints()},
            E.TOO_MANY_ENDPOINTS,
        )
    secret = webhooks.new_secret()
    endpoint = WebhookEndpoint.objects.create(
        brand=brand,
        url=url.strip(),
        description=_clean_description(description),
        event_types=_clean_event_types(event_types),
        enabled=bool(enabled),
        secret_encrypted=webhooks.encrypt_secret(secret),
        created_by=actor.user,
    )
    audit(
        actor=actor,
        action=AuditAction.WEBHOOK_CREATED,
        obj=endpoint,
        brand=brand,
        data={"host": _host(endpoint.url), "event_types": endpoint.event_types},
    )
    return endpoint, secret


@transaction.atomic
def endpoint_update(
    *,
    actor: Actor,
    endpoint: WebhookEndpoint,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    """Change what is given (None: unchanged). Enabling an endpoint clears why it was disabled
    and its failure streak; its pending retries resume."""
    _check_manage(actor, endpoint.brand_id)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    errors: dict[str, ValidationError] = {}
    changed: dict[str, object] = {}
    checks = []
    if url is not None:
        checks.append(("url", lambda: url_check(url) and url.strip()))
    if event_types is not None:
        checks.append(("event_types", lambda: _clean_event_types(event_types)))
    if description is not None:
        checks.append(("description", lambda: _clean_description(description)))
    for field, check in checks:
        try:
            changed[field] = check()
        except ValidationError as exc:
            errors.update(exc.error_dict)
    if errors:
        raise ValidationError(errors)
    for field, value in changed.items():
        setattr(endpoint, field, value)
    if enabled is not None and bool(enabled) != endpoint.enabled:
        endpoint.enabled = bool(enabled)
        changed["enabled"] = endpoint.enabled
        if endpoint.enabled:
            endpoint.disabled_reason = ""
            endpoint.failing_since = None
        else:
            endpoint.disabled_reason = DisabledReason.BY_BRAND
    endpoint.save()
    if changed:
        if "url" in changed:
            changed["url"] = _host(endpoint.url)
        audit(actor=actor, action=AuditAction.WEBHOOK_UPDATED, obj=endpoint, brand=endpoint.brand, data=changed)
    return endpoint


@transaction.atomic
def endpoint_rotate_secret(
    *, actor: Actor, endpoint: WebhookEndpoint, now: datetime | None = None
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret, returned once. The current one keeps signing beside it for
    WEBHOOK_SECRET_OVERLAP_HOURS (a rotation during an overlap ends the older one)."""
    _check_manage(actor, endpoint.brand_id)
    now = now or timezone.now()
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    secret = webhooks.new_secret()
    endpoint.previous_secret_encrypted = endpoint.secret_encrypted
    endpoint.previous_secret_expires_at = now + timedelta(hours=conf.webhook_secret_overlap_hours())
    endpoint.secret_encrypted = webhooks.encrypt_secret(secret)
    endpoint.secret_rotated_at = now
    endpoint.save()
    audit(actor=actor, action=AuditAction.WEBHOOK_SECRET_ROTATED, obj=endpoint, brand=endpoint.brand)
    return endpoint, secret


@transaction.atomic
def endpoint_delete(*, actor: Actor, endpoint: WebhookEndpoint) -> None:
    """Remove the endpoint with its deliveries and log."""
    _check_manage(actor, endpoint.brand_id)
    audit(
        actor=actor,
        action=AuditAction.WEBHOOK_DELETED,
        obj=endpoint,
        brand=endpoint.brand,
        data={"host": _host(endpoint.url)},
    )
    endpoint.delete()


def expired_secrets_clear(*, now: datetime | None = None) -> int:
    """Forget previous signing secrets whose overlap has ended (beat): a secret that no longer
    signs is not kept, even encrypted. Returns how many endpoints were cleared."""
    now = now or timezone.now()
    return WebhookEndpoint.objects.filter(previous_secret_expires_at__lte=now).update(
        previous_secret_encrypted="", previous_secret_expires_at=None
    )


def endpoint_secrets(endpoint: WebhookEndpoint, now: datetime | None = None) -> list[str]:
    """The secrets signing now: the current one, and the previous one during the overlap."""
    now = now or timezone.now()
    out = [webhooks.decrypt_secret(endpoint.secret_encrypted)]
    if (
        endpoint.previous_secret_encrypted
        and endpoint.previous_secret_expires_at is not None
        and now < endpoint.previous_secret_expires_at
    ):
        out.append(webhooks.decrypt_secret(endpoint.previous_secret_encrypted))
    return out


# --- delivery -----------------------------------------------------------------------------------
def deliveries_enqueue(*, event_id: int) -> list[int]:
    """One delivery per endpoint of the brands concerned that subscribes to the event's type
    (unique per endpoint and event: calling twice adds nothing). Both parties' endpoints get it,
    the acting brand's too (``data.acted_by`` tells). A disabled endpoint's delivery is kept as
    ``skipped`` — never sent, but replayable once the endpoint is enabled again. Returns the ids
    of deliveries not yet attempted, for the caller to start."""
    event = DomainEvent.objects.filter(pk=event_id).only("pk", "type", "brand_ids").first()
    if event is None or not event.brand_ids:
        return []
    # Subscriptions are matched here rather than with a JSON ``contains`` lookup, which SQLite
    # (the embedded default) lacks; a brand has at most WEBHOOK_MAX_ENDPOINTS_PER_BRAND of them.
    endpoints = WebhookEndpoint.objects.filter(brand_id__in=event.brand_ids).values_list("pk", "event_types", "enabled")
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=pk,
                event_id=event.pk,
                state=WebhookState.PENDING if enabled else WebhookState.SKIPPED,
            )
            for pk, types, enabled in endpoints
            if event.type in types
        ],
        ignore_conflicts=True,
    )
    return deliveries_pending(event_id=event.pk)


def deliveries_pending(*, event_id: int) -> list[int]:
    """The event's deliveries not attempted yet (what the dispatch task starts)."""
    return list(
        WebhookDelivery.objects.filter(event_id=event_id, state=WebhookState.PENDING).values_list("pk", flat=True)
    )


def retry_delay(step: int, *, rng: random.Random | None = None) -> float | None:
    """Seconds before the retry after the ``step``-th failed attempt (0-based), jittered ±20 %
    so a recovering receiver is not hit by every delivery at once; None: give up."""
    schedule = conf.webhook_retry_schedule()
    if step >= len(schedule):
        return None
    return schedule[step] * (rng or random).uniform(0.8, 1.2)


@dataclass
class Outcome:
    status_code: int | None = None
    latency_ms: int | None = None
    response: str = ""
    error: str = ""
    refused: bool = False  # no connection at all (the next checked address may be tried)

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body`` to a checked address of ``target`` — the next one only when the previous
    refused the connection (``localhost`` is ::1 and 127.0.0.1) — never to the name again (no
    DNS rebinding), with the Host header and TLS name of the URL; no redirects, no retries."""
    outcome = Outcome(error=_("No address to connect to."))
    for ip in target.addresses:
        outcome = _post_to(str(ip), target, body, headers)
        if not outcome.refused:
            break
    return outcome


def _post_to(ip: str, target: Target, body: bytes, headers: dict[str, str]) -> Outcome:
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if target.port == default_port else f"{target.host}:{target.port}"
    if ":" in target.host and not target.host.startswith("["):
        host_header = f"[{target.host}]" if target.port == default_port else f"[{target.host}]:{target.port}"
    timeout = urllib3.Timeout(total=conf.webhook_timeout_seconds())
    if target.scheme == "https":
        pool = urllib3.HTTPSConnectionPool(
            ip,
            target.port,
            timeout=timeout,
            retries=False,
            cert_reqs="CERT_REQUIRED",
            ca_certs=certifi.where(),
            server_hostname=target.host,
            assert_hostname=target.host,
        )
    else:
        pool = urllib3.HTTPConnectionPool(ip, target.port, timeout=timeout, retries=False)
    started = time.monotonic()
    try:
        response = pool.urlopen(
            "POST",
            target.path,
            body=body,
            # Ask for a plain body: the log shows the start of it, and decompressing what a
            # receiver sends would let it make us inflate a bomb.
            headers={**headers, "host": host_header, "accept-encoding": "identity"},
            redirect=False,
            retries=False,
            preload_content=False,
            assert_same_host=False,
        )
        try:
            snippet = response.read(SNIPPET_BYTES, decode_content=False) or b""
        finally:
            response.release_conn()
        encoding = (response.headers.get("content-encoding") or "identity").strip().lower()
        shown = snippet[:SNIPPET_BYTES].decode("utf-8", "replace")[:SNIPPET_BYTES]
        if encoding != "identity":  # compressed anyway: bytes, not text — say so, never inflate
            shown = f"[{encoding[:20]}-encoded body not shown]"
        return Outcome(
            status_code=response.status,
            latency_ms=int((time.monotonic() - started) * 1000),
            response=shown,
        )
    except urllib3.exceptions.NewConnectionError as exc:
        return Outcome(latency_ms=int((time.monotonic() - started) * 1000), error=_describe(exc), refused=True)
    except urllib3.exceptions.HTTPError as exc:
        return Outcome(latency_ms=int((time.monotonic() - started) * 1000), error=_describe(exc))
    finally:
        pool.close()


def _describe(exc: Exception) -> str:
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return _("Timed out after %(s)s s.") % {"s": conf.webhook_timeout_seconds()}
    if isinstance(exc, urllib3.exceptions.SSLError):
        return _("TLS error: %(e)s") % {"e": str(exc)[:200]}
    return _("Connection failed: %(e)s") % {"e": str(exc)[:200]}


def delivery_claim(*, delivery_id: int, now: datetime) -> datetime | None:
    """Take the delivery for one attempt (a lease): only if it is due, not settled, its endpoint
    enabled and no live worker holds it. Returns the lease (the settle must still hold it).

    No join in the UPDATE: with one, Django moves the conditions into ``id IN (SELECT … JOIN
    …)``, and PostgreSQL's re-check of a row another worker just claimed would read the
    subquery's stale ``claimed_until`` — two workers could claim the same attempt."""
    lease = now + timedelta(seconds=conf.webhook_lease_seconds() + conf.webhook_timeout_seconds())
    enabled = WebhookEndpoint.objects.filter(enabled=True).values("pk")
    claimed = (
        WebhookDelivery.objects.filter(
            pk=delivery_id, state__in=RETRYABLE_STATES, next_attempt_at__lte=now, endpoint_id__in=enabled
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=lease, attempts=F("attempts") + 1)
    )
    return lease if claimed else None


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> bool | None:
    """Make one attempt if the delivery is due and unclaimed. Returns True (delivered), False
    (failed; retried or given up) or None (not this call's to make)."""
    now = now or timezone.now()
    lease = delivery_claim(delivery_id=delivery_id, now=now)
    if lease is None:
        return None
    delivery = (
        WebhookDelivery.objects.select_related(
            "endpoint__brand", "event__proposal", "event__proposal__initiator", "event__proposal__counterparty"
        )
        .filter(pk=delivery_id)
        .first()
    )
    if delivery is None:  # its endpoint was deleted meanwhile
        return None
    endpoint = delivery.endpoint
    try:
        body = webhooks.body_of(delivery.event, for_brand=endpoint.brand.slug)
        target = url_check(endpoint.url)  # again: DNS may answer differently than at registration
    except ValidationError as exc:
        outcome = Outcome(error=exc.messages[0][:300])
    except Exception:  # a bug or a bad secret key must end as a recorded failure, not a loop
        log.exception("webhook delivery %s could not be prepared", delivery_id)
        outcome = Outcome(error=_("The delivery could not be prepared; the platform was alerted."))
    else:
        try:
            headers = webhooks.signed_headers(
                secrets_=endpoint_secrets(endpoint, now),
                msg_id=delivery.webhook_id,
                timestamp=int(time.time()),
                body=body,
            )
        except Exception:
            log.exception("webhook delivery %s could not be signed", delivery_id)
            outcome = Outcome(error=_("The delivery could not be signed; the platform was alerted."))
        else:
            outcome = _post(target, body, headers)
    delivery_settle(delivery=delivery, outcome=outcome, now=now, lease=lease)
    return outcome.succeeded


@transaction.atomic
def delivery_settle(
    *, delivery: WebhookDelivery, outcome: Outcome, now: datetime | None = None, lease: datetime | None = None
) -> None:
    """Record the attempt and decide what follows (success, the next retry, or giving up), then
    the endpoint's health: a success ends its failure streak; a streak longer than the
    threshold disables it. With ``lease``, only while this worker still holds the claim: a
    worker that outlived its lease records its attempt but leaves the delivery to the one that
    took it over."""
    now = now or timezone.now()
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=delivery.attempts,
        at=now,
        status_code=outcome.status_code,
        latency_ms=outcome.latency_ms,
        response=outcome.response[:SNIPPET_BYTES],
        error=outcome.error[:300],
        succeeded=outcome.succeeded,
    )
    fields = {
        "claimed_until": None,
        "last_status_code": outcome.status_code,
        "last_latency_ms": outcome.latency_ms,
        "last_response": outcome.response[:SNIPPET_BYTES],
        "last_error": outcome.error[:300],
        "updated_at": now,
    }
    if outcome.succeeded:
        fields.update(state=WebhookState.SUCCEEDED, succeeded_at=now)
    else:
        delay = retry_delay(delivery.step)
        if delay is None:
            fields.update(state=WebhookState.GAVE_UP)
        else:
            fields.update(
                state=WebhookState.FAILED, step=delivery.step + 1, next_attempt_at=now + timedelta(seconds=delay)
            )
    mine = WebhookDelivery.objects.filter(pk=delivery.pk)
    if lease is not None:
        mine = mine.filter(claimed_until=lease)
    if not mine.update(**fields):
        return
    endpoint = WebhookEndpoint.objects.select_for_update().filter(pk=delivery.endpoint_id).first()
    if endpoint is None:
        return
    if outcome.succeeded:
        if endpoint.failing_since is not None:
            endpoint.failing_since = None
            endpoint.save(update_fields=["failing_since", "updated_at"])
        return
    if endpoint.failing_since is None:
        endpoint.failing_since = now
        endpoint.save(update_fields=["failing_since", "updated_at"])
    elif endpoint.enabled and now - endpoint.failing_since > timedelta(hours=conf.webhook_disable_after_hours()):
        endpoint_disable_failing(endpoint=endpoint, now=now)


def endpoint_disable_failing(*, endpoint: WebhookEndpoint, now: datetime) -> None:
    """Disable an endpoint that has failed for too long (in the caller's transaction) and tell
    its owners by e-mail once that commits."""
    endpoint.disabled_reason = DisabledReason.FAILING
    endpoint.enabled = False
    endpoint.save(update_fields=["enabled", "disabled_reason", "updated_at"])
    audit(
        actor=Actor.system_actor(),
        action=AuditAction.WEBHOOK_DISABLED,
        obj=endpoint,
        brand=endpoint.brand,
        data={"failing_since": endpoint.failing_since.isoformat()},
    )
    endpoint_id = endpoint.pk

    def _notify() -> None:
        from exchange.tasks import webhook_disabled_notify_task  # tasks import the services

        webhook_disabled_notify_task.delay(endpoint_id)

    transaction.on_commit(_notify)


def endpoint_disabled_notify(*, endpoint_id: int) -> int:
    """E-mail the brand's owners that the endpoint was disabled (each in their language).
    Returns how many were sent."""
    from django.core.mail import EmailMessage

    from partners.models import Membership

    endpoint = WebhookEndpoint.objects.select_related("brand").filter(pk=endpoint_id).first()
    if endpoint is None or endpoint.enabled:
        return 0
    owners = Membership.objects.filter(
        brand_id=endpoint.brand_id, role=Role.OWNER, user__is_active=True
    ).select_related("user")
    sent = 0
    for membership in owners:
        user = membership.user
        if not user.email:
            continue
        with translation.override(user.language or settings.LANGUAGE_CODE):
            subject = _("Huiliu: your webhook endpoint was disabled")
            body = _(
                "Every delivery to %(url)s failed for more than %(h)d hours, so it was disabled. "
                "Fix the endpoint, enable it again and replay what it missed: %(page)s"
            ) % {
                "url": endpoint.url,
                "h": conf.webhook_disable_after_hours(),
                "page": f"{settings.SITE_URL}/dashboard/brands/{endpoint.brand.slug}/webhooks/{endpoint.pk}/",
            }
        EmailMessage(
            subject,
            body,
            settings.DEFAULT_FROM_EMAIL,
            [user.email],
            headers={"Message-ID": f"<webhook-disabled-{endpoint.pk}-{user.pk}@huiliu>"},
        ).send()
        sent += 1
    return sent


def deliveries_due(*, now: datetime | None = None, limit: int = 500) -> list[int]:
    """Deliveries the beat must start: due, not settled, endpoint enabled, no live claim."""
    now = now or timezone.now()
    return list(
        WebhookDelivery.objects.filter(state__in=RETRYABLE_STATES, next_attempt_at__lte=now, endpoint__enabled=True)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )


# --- replay -------------------------------------------------------------------------------------
def _replay_reset(qs, now: datetime) -> int:
    return qs.update(state=WebhookState.PENDING, step=0, next_attempt_at=now, claimed_until=None, updated_at=now)


def _start_after_commit(ids: list[int]) -> None:
    def _start() -> None:
        from exchange.tasks import webhook_deliver_task

        for pk in ids:
            webhook_deliver_task.delay(pk)

    transaction.on_commit(_start)


@transaction.atomic
def delivery_replay(*, actor: Actor, delivery: WebhookDelivery, now: datetime | None = None) -> WebhookDelivery:
    """Send one delivery again (the same webhook-id, a fresh retry schedule). Refused while it
    is being attempted or its endpoint is disabled."""
    _check_manage(actor, delivery.endpoint.brand_id)
    now = now or timezone.now()
    delivery = WebhookDelivery.objects.select_for_update().select_related("endpoint").get(pk=delivery.pk)
    if not delivery.endpoint.enabled:
        raise error("delivery", _("Enable the endpoint before replaying its deliveries."), E.ENDPOINT_DISABLED)
    if delivery.claimed_until is not None and delivery.claimed_until > now:
        raise error("delivery", _("This delivery is being attempted right now."), E.DELIVERY_IN_PROGRESS)
    _replay_reset(WebhookDelivery.objects.filter(pk=delivery.pk), now)
    audit(
        actor=actor,
        action=AuditAction.WEBHOOK_REPLAYED,
        obj=delivery.endpoint,
        brand=delivery.endpoint.brand,
        data={"deliveries": [delivery.pk]},
    )
    _start_after_commit([delivery.pk])
    delivery.refresh_from_db()
    return delivery


MAX_REPLAY = 1000


@transaction.atomic
def deliveries_replay_failed(
    *, actor: Actor, endpoint: WebhookEndpoint, since: datetime, until: datetime, now: datetime | None = None
) -> int:
    """Send again every delivery of ``endpoint`` created in [since, until) that failed, gave up
    or was skipped while the endpoint was disabled (at most 1,000 per call). Returns how many
    were restarted."""
    _check_manage(actor, endpoint.brand_id)
    now = now or timezone.now()
    if since is None or until is None or since >= until:
        raise error("until", _("The end of the range must come after its start."), E.INVALID_RANGE)
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if not endpoint.enabled:
        raise error("endpoint", _("Enable the endpoint before replaying its deliveries."), E.ENDPOINT_DISABLED)
    ids = list(
        WebhookDelivery.objects.filter(
            endpoint=endpoint,
            created_at__gte=since,
            created_at__lt=until,
            state__in=(WebhookState.FAILED, WebhookState.GAVE_UP, WebhookState.SKIPPED),
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("created_at", "id")
        .values_list("pk", flat=True)[:MAX_REPLAY]
    )
    if ids:
        _replay_reset(WebhookDelivery.objects.filter(pk__in=ids), now)
        audit(
            actor=actor,
            action=AuditAction.WEBHOOK_REPLAYED,
            obj=endpoint,
            brand=endpoint.brand,
            data={"since": since.isoformat(), "until": until.isoformat(), "count": len(ids)},
        )
        _start_after_commit(ids)
    return len(ids)


@transaction.atomic
def secrets_reencrypt() -> int:
    """Re-encrypt every endpoint's secrets under the current key (all or nothing: one secret no
    configured key opens raises InvalidToken and changes nothing). Returns how many endpoints."""
    count = 0
    for endpoint in WebhookEndpoint.objects.select_for_update().order_by("pk"):
        endpoint.secret_encrypted = webhooks.reencrypt_secret(endpoint.secret_encrypted)
        if endpoint.previous_secret_encrypted:
            endpoint.previous_secret_encrypted = webhooks.reencrypt_secret(endpoint.previous_secret_encrypted)
        endpoint.save(update_fields=["secret_encrypted", "previous_secret_encrypted"])
        count += 1
    return count
