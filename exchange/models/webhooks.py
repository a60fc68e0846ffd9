"""Webhooks to partner systems: a brand's endpoints, one delivery per (endpoint, event) and the
log of its attempts (docs/WEBHOOKS.md).

Signing secrets are recoverable (they must sign) but never stored in the clear: the columns
hold Fernet tokens (exchange.webhooks.encrypt_secret). During a rotation's overlap the previous
secret keeps signing beside the new one until ``previous_secret_expires_at``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.outbox import DomainEvent
from partners.models import Brand


class DisabledReason(models.TextChoices):
    """Why an endpoint is disabled: stored as a code, shown in the reader's language."""

    BY_BRAND = "by_brand", _("Disabled by the brand.")
    FAILING = "failing", _("Disabled automatically: every delivery failed for too long.")


class WebhookEndpoint(models.Model):
    brand = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("brand")
    )
    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    # EventType values; at least one (services check it).
    event_types = models.JSONField(_("event types"), default=list)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True, choices=DisabledReason.choices)
    # Since when every attempt has failed (None: the last attempt succeeded, or none yet).
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True)
    secret_encrypted = models.TextField(_("signing secret (encrypted)"))
    previous_secret_encrypted = models.TextField(_("previous signing secret (encrypted)"), blank=True)
    previous_secret_expires_at = models.DateTimeField(_("previous secret signs until"), null=True, blank=True)
    secret_rotated_at = models.DateTimeField(_("secret rotated"), null=True, blank=True)
    created_by = models.ForeignKey(
        "partners.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return f"{self.brand_id}: {self.url}"

    @property
    def disabled_reason_text(self) -> str:
        """Why it is disabled, in the active language ("" when enabled)."""
        if self.disabled_reason == DisabledReason.FAILING:
            return _("Disabled automatically: every delivery failed for more than %(h)d hours.") % {
                "h": settings.WEBHOOK_DISABLE_AFTER_HOURS
            }
        return str(self.get_disabled_reason_display()) if self.disabled_reason else ""


class WebhookState(models.TextChoices):
    PENDING = "pending", _("Pending")  # not attempted yet (or replayed)
    FAILED = "failed", _("Failed, will retry")  # the last attempt failed; another is scheduled
    SUCCEEDED = "succeeded", _("Delivered")
    GAVE_UP = "gave_up", _("Gave up")  # every scheduled attempt failed; replay resends it
    # The endpoint was disabled when the event happened: kept (not sent) so that, once the owner
    # enables it again, "replay failed deliveries" over that time range sends what it missed.
    SKIPPED = "skipped", _("Not sent: endpoint disabled")


RETRYABLE_STATES = (WebhookState.PENDING, WebhookState.FAILED)


class WebhookDelivery(models.Model):
    """One event for one endpoint. Claimed (``claimed_until``, a lease) before the request and
    settled after; a worker killed mid-request leaves a claim the sweep takes over once it
    expires. ``step`` is the position in the retry schedule (a replay starts it again)."""

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("webhook endpoint")
    )
    event = models.ForeignKey(
        DomainEvent, on_delete=models.CASCADE, related_name="webhook_deliveries", verbose_name=_("domain event")
    )
    state = models.CharField(_("state"), max_length=12, choices=WebhookState.choices, default=WebhookState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    step = models.PositiveSmallIntegerField(_("retry step"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    last_latency_ms = models.PositiveIntegerField(_("last latency (ms)"), null=True, blank=True)
    last_response = models.CharField(_("last response (first 1 KB)"), max_length=1024, blank=True)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    succeeded_at = models.DateTimeField(_("delivered"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="webhook_delivery_due")]

    def __str__(self) -> str:
        return f"webhook {self.event_id}→{self.endpoint_id}"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header: the same for every attempt and replay of this event."""
        return f"msg_{self.event_id}"


class WebhookAttempt(models.Model):
    """One HTTP request of a delivery: the endpoint's log."""

    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("webhook delivery")
    )
    number = models.PositiveIntegerField(_("attempt"))
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    latency_ms = models.PositiveIntegerField(_("latency (ms)"), null=True, blank=True)
    response = models.CharField(_("response (first 1 KB)"), max_length=1024, blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    succeeded = models.BooleanField(_("succeeded"), default=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.delivery_id}"
