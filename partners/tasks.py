"""Celery tasks of the partners domain: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging
from smtplib import SMTPException

from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from huiliu.text import one_line
from partners.models import AuditEvent

log = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(ConnectionError, SMTPException, OSError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def brand_status_notify(audit_event_id: int) -> int:
    """E-mail the brand's members about a status change. Idempotent: the event row is
    claimed (``notified_at``) before sending, so a retry or a redelivery never mails twice.
    Returns the number of recipients (0 if already sent)."""
    claimed = AuditEvent.objects.filter(pk=audit_event_id, notified_at__isnull=True).update(notified_at=timezone.now())
    if not claimed:
        return 0
    event = AuditEvent.objects.select_related("brand").get(pk=audit_event_id)
    brand = event.brand
    # Each person in the language they use the site in (empty: the site default).
    by_language: dict[str, set[str]] = {}
    for m in brand.memberships.select_related("user"):
        if m.user.email and m.user.is_active:
            by_language.setdefault(m.user.language or settings.LANGUAGE_CODE, set()).add(m.user.email)
    recipients = sorted(email for emails in by_language.values() for email in emails)
    if not recipients:
        return 0
    try:
        for language, emails in sorted(by_language.items()):
            with translation.override(language):
                # One line whatever the stored name holds: a line break in a header is refused
                # by Django (BadHeaderError), which no retry would ever get past.
                subject = one_line(
                    _("Huiliu: %(brand)s is now %(status)s")
                    % {"brand": brand.display_name(language), "status": brand.get_status_display()}
                )
                body = subject + ("\n\n" + _("Reason: %(reason)s") % {"reason": event.reason} if event.reason else "")
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, sorted(emails))
    except Exception:
        # Un-claim so the retry can send; the exception decides whether a retry happens.
        AuditEvent.objects.filter(pk=audit_event_id).update(notified_at=None)
        raise
    log.info("notified %d members of %s about %s", len(recipients), brand.slug, event.action)
    return len(recipients)
