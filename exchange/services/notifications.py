"""Delivery from the outbox: the in-app inbox and e-mail (and the rows of partner webhooks,
exchange.services.webhooks).

``event_dispatch`` turns one DomainEvent into inbox rows and e-mail jobs in one transaction
(unique per user and event, so dispatching twice changes nothing) and marks it dispatched.
``email_send`` claims one job with a lease before sending and marks it sent after: a worker
killed mid-send leaves the claim to expire and the sweep sends it again; a job marked sent
is never sent again. The e-mail carries a stable Message-ID for receivers that deduplicate.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from exchange import conf
from exchange.models import DomainEvent, EmailDelivery, EventType, Notification
from exchange.notices import notice_line, one_line
from exchange.services import webhooks as webhook_services
from partners.actors import EDIT_ROLES, Actor
from partners.models import Brand, Membership

log = logging.getLogger(__name__)

WEBHOOK_ONLY = (EventType.BRAND_STATUS_CHANGED,)
DELIVERY_EVENTS = (EventType.DELIVERY_REPORTED, EventType.DELIVERY_CONFIRMED, EventType.DELIVERY_DISPUTED)


def language_of(user) -> str:
    return user.language or settings.LANGUAGE_CODE


@transaction.atomic
def event_dispatch(*, event_id: int) -> list[int]:
    """Create the inbox rows and e-mail jobs of one event (idempotent). Recipients: every
    active member of each brand concerned except the brand that acted (both when the platform
    acted); e-mail only to owners and marketers with an address. Returns the e-mail job ids
    still to send."""
    event = DomainEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None:
        return []
    if event.dispatched_at is None:
        # Partner systems only: a brand's members already hear of its status from partners.
        brands = [] if event.type in WEBHOOK_ONLY else [b for b in event.brand_ids if b != event.actor_brand_id]
        members = Membership.objects.filter(brand_id__in=brands, user__is_active=True).select_related("user")
        Notification.objects.bulk_create(
            [Notification(user_id=m.user_id, event=event, brand_id=m.brand_id) for m in members],
            ignore_conflicts=True,
        )
        EmailDelivery.objects.bulk_create(
            [
                EmailDelivery(event=event, user_id=m.user_id, brand_id=m.brand_id)
                for m in members
                if m.role in EDIT_ROLES and m.user.email
            ],
            ignore_conflicts=True,
        )
        # Partner webhooks: one delivery per subscribed endpoint, in the same transaction, so
        # an event marked dispatched always has them (the tasks start them; the beat sweeps).
        webhook_services.deliveries_enqueue(event_id=event.pk)
        event.dispatched_at = timezone.now()
        event.save(update_fields=["dispatched_at"])
    return list(EmailDelivery.objects.filter(event=event, sent_at__isnull=True).values_list("pk", flat=True))


def _subject_and_body(event: DomainEvent, brand: Brand, language: str) -> tuple[str, str]:
    line = notice_line(event, brand, language)
    with translation.override(language):
        subject = one_line(_("Huiliu: %(line)s") % {"line": line})
        body = line + "\n\n"
        if event.type == EventType.PROPOSAL_MESSAGE and event.payload.get("preview"):
            body += "“" + str(event.payload["preview"]) + "”\n\n"
        campaign_id = event.payload.get("campaign")
        if event.type in DELIVERY_EVENTS and campaign_id:
            body += _("Open the delivery reports: %(url)s") % {
                "url": f"{settings.SITE_URL}/campaigns/{int(campaign_id)}/delivery/"
            }
        elif event.proposal_id is not None:
            body += _("Open the proposal: %(url)s") % {"url": f"{settings.SITE_URL}/proposals/{event.proposal_id}/"}
        body += "\n"
    return subject, body


def email_send(*, delivery_id: int, now: datetime | None = None) -> bool:
    """Send one e-mail job if it is not sent and not claimed by a live worker. Returns True if
    this call sent it."""
    now = now or timezone.now()
    lease_expired = now - timedelta(seconds=conf.email_lease_seconds())
    claimed = (
        EmailDelivery.objects.filter(pk=delivery_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_expired))
        .update(claimed_at=now, attempts=F("attempts") + 1)
    )
    if not claimed:
        return False
    job = EmailDelivery.objects.select_related(
        "event__proposal__initiator", "event__proposal__counterparty", "user", "brand"
    ).get(pk=delivery_id)
    if not job.user.is_active or not job.user.email:
        EmailDelivery.objects.filter(pk=delivery_id).update(sent_at=timezone.now(), last_error="no recipient")
        return False
    subject, body = _subject_and_body(job.event, job.brand, language_of(job.user))
    message = EmailMessage(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [job.user.email],
        headers={"Message-ID": f"<event-{job.event_id}-user-{job.user_id}@huiliu>"},
    )
    try:
        message.send()
    except Exception as exc:
        EmailDelivery.objects.filter(pk=delivery_id).update(claimed_at=None, last_error=str(exc)[:300])
        raise
    EmailDelivery.objects.filter(pk=delivery_id).update(sent_at=timezone.now(), last_error="")
    return True


def outbox_pending(*, now: datetime | None = None, grace_seconds: int | None = None) -> tuple[list[int], list[int]]:
    """What the sweep must (re)start: events not dispatched and e-mail jobs not sent whose
    claim is absent or expired, older than ``grace_seconds`` (the on-commit enqueue normally
    handles them first)."""
    now = now or timezone.now()
    grace = conf.sweep_grace_seconds() if grace_seconds is None else grace_seconds
    cutoff = now - timedelta(seconds=grace)
    lease_expired = now - timedelta(seconds=conf.email_lease_seconds())
    events = list(
        DomainEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff).values_list("pk", flat=True)[
            :1000
        ]
    )
    emails = list(
        EmailDelivery.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=lease_expired))
        .values_list("pk", flat=True)[:1000]
    )
    return events, emails


def notifications_mark_read(*, actor: Actor, ids: list[int] | None = None) -> int:
    """Mark the caller's notifications read (all of them when ``ids`` is None). Returns how many
    changed. Only a signed-in person has an inbox."""
    if actor.user is None:
        return 0
    qs = Notification.objects.filter(user=actor.user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())
