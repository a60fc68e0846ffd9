"""Delivery reports (交付报告): what the promoting side says it delivered on one campaign
placement — reach, when, and proof (an image kept in Django's storage, and/or an https URL) —
and the promoted side's answer (confirm or dispute) within ``EXCHANGE_DELIVERY_CONFIRM_DAYS``.

One current report per placement. A re-report (allowed while ``reported`` or ``disputed``)
replaces the figures in place and restarts the window; every version is kept in the audit
log (``AuditAction.DELIVERY_REPORTED`` carries the figures), so the row stays simple.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import Campaign, CampaignPlacement
from exchange.states import DeliveryState, DisputeReason
from partners.models import ApiKey


def proof_upload_to(report: DeliveryReport, filename: str) -> str:
    """Where a proof image is stored: a random name under the campaign (the uploaded name is
    never used; the service passes one ending with the extension of the detected type). Proofs
    are served only through an access-checked view, never from a public media URL."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"delivery-proofs/{report.campaign_id}/{secrets.token_hex(12)}.{extension}"


class DeliveryReport(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, related_name="delivery_reports", verbose_name=_("campaign")
    )
    placement = models.OneToOneField(
        CampaignPlacement, on_delete=models.CASCADE, related_name="delivery_report", verbose_name=_("placement")
    )
    # In the placement's unit (reach, messages, parcels or store-days), like its promised quantity.
    reach = models.BigIntegerField(_("delivered reach"))
    delivered_at = models.DateTimeField(_("delivered"))
    proof_image = models.ImageField(_("proof image"), upload_to=proof_upload_to, max_length=200, blank=True)
    proof_url = models.URLField(_("proof link"), max_length=500, blank=True)
    note = models.TextField(_("note"), blank=True)
    state = models.CharField(_("state"), max_length=12, choices=DeliveryState.choices, default=DeliveryState.REPORTED)
    version = models.PositiveIntegerField(_("version"), default=1)  # 1 + the number of re-reports
    reported_at = models.DateTimeField(_("reported"), default=timezone.now)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reported by"),
    )
    reported_by_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("reported by API key"),
    )
    confirm_due_at = models.DateTimeField(_("answer due"))
    confirmed_at = models.DateTimeField(_("confirmed"), null=True, blank=True)
    # Who confirmed: a person, an API key, or nobody in time (``auto_confirmed``).
    auto_confirmed = models.BooleanField(_("confirmed automatically"), default=False)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("confirmed by"),
    )
    confirmed_by_key = models.ForeignKey(
        ApiKey,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("confirmed by API key"),
    )
    disputed_at = models.DateTimeField(_("disputed"), null=True, blank=True)
    dispute_reason = models.CharField(_("dispute reason"), max_length=20, choices=DisputeReason.choices, blank=True)
    dispute_note = models.TextField(_("dispute note"), blank=True)

    class Meta:
        ordering = ["placement_id"]
        verbose_name = _("delivery report")
        verbose_name_plural = _("delivery reports")
        constraints = [
            models.CheckConstraint(condition=Q(reach__gte=0), name="delivery_report_reach_non_negative"),
            models.CheckConstraint(condition=~Q(proof_image="") | ~Q(proof_url=""), name="delivery_report_has_proof"),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.CONFIRMED) | Q(confirmed_at__isnull=False),
                name="delivery_report_confirmed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(state=DeliveryState.DISPUTED) | ~Q(dispute_reason=""),
                name="delivery_report_dispute_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["state", "confirm_due_at"])]

    def __str__(self) -> str:
        return f"delivery report {self.pk} on placement {self.placement_id} ({self.state})"

    @property
    def awaiting(self) -> bool:
        return self.state == DeliveryState.REPORTED
