"""Partner-reported events: orders (conversions) and new members (WeCom, groups, membership)
that the promoted brand of a leg says the swap brought it.

One row per (reporting brand, kind, external id) — the database refuses a second, which makes
a retried batch a no-op. ``payload_hash`` tells a retry (same hash: ``duplicate``) from a
different row reusing an id (``conflict``). Rows stay ``pending`` during the screening period
(the reporter may reverse one, with a reason), then become ``confirmed``.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import Campaign, CampaignLeg
from exchange.models.tracking import TrackingLink
from partners.models import Brand


class ReportedKind(models.TextChoices):
    CONVERSION = "conversion", _("Order")
    NEW_MEMBER = "new_member", _("New member")


class ReportedState(models.TextChoices):
    PENDING = "pending", _("Pending (screening)")
    CONFIRMED = "confirmed", _("Confirmed")
    REVERSED = "reversed", _("Reversed")


class ReverseReason(models.TextChoices):
    REFUND = "refund", _("Refunded")
    CANCELLED = "cancelled", _("Cancelled")
    MEMBER_LEFT = "member_left", _("Member left")
    DUPLICATE = "duplicate", _("Reported twice")
    FRAUD = "fraud", _("Fraud")
    OTHER = "other", _("Other")


class AttributionKind(models.TextChoices):
    CLICK = "click", _("Click id")
    COUPON = "coupon", _("Coupon code")
    CODE = "code", _("Tracking code")


class ReportedEvent(models.Model):
    kind = models.CharField(_("kind"), max_length=12, choices=ReportedKind.choices)
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("reporting brand"))
    external_id = models.CharField(_("external id"), max_length=128)  # order id, or the client's member hash
    payload_hash = models.CharField(_("payload hash"), max_length=64)
    amount_cents = models.BigIntegerField(_("amount (cents)"), null=True, blank=True)  # orders only
    currency = models.CharField(_("currency"), max_length=3, blank=True)  # ISO 4217, orders only
    occurred_at = models.DateTimeField(_("when"))
    attribution = models.CharField(_("attributed by"), max_length=8, choices=AttributionKind.choices)
    attribution_value = models.CharField(_("attribution"), max_length=64)  # the click id, coupon or code given
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="reported_events", verbose_name=_("campaign")
    )
    leg = models.ForeignKey(
        CampaignLeg, on_delete=models.PROTECT, related_name="reported_events", verbose_name=_("credited leg")
    )
    link = models.ForeignKey(
        TrackingLink, on_delete=models.PROTECT, related_name="reported_events", verbose_name=_("tracking link")
    )
    state = models.CharField(_("state"), max_length=10, choices=ReportedState.choices, default=ReportedState.PENDING)
    reversed_reason = models.CharField(_("reversal reason"), max_length=12, choices=ReverseReason.choices, blank=True)
    created_at = models.DateTimeField(_("reported"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    reversed_at = models.DateTimeField(_("reversed"), null=True, blank=True)

    class Meta:
        verbose_name = _("reported event")
        verbose_name_plural = _("reported events")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind", "external_id"], name="reported_event_once"),
            models.CheckConstraint(
                condition=models.Q(amount_cents__isnull=True) | models.Q(amount_cents__gte=0),
                name="reported_event_amount_not_negative",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "created_at"]),
            models.Index(fields=["campaign", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.external_id} ({self.state})"
