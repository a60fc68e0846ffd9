"""Disputes (争议): either party contests a delivery report or a completed campaign's result;
the other side answers with its own evidence; a platform admin decides, adjusting delivered
amounts only through new ledger transactions (reversal and re-posting, never edits).

An open dispute (``open`` or ``answered``) holds the settlement of its campaign: no choice, no
payment and no default to credit until it is resolved or withdrawn.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import Campaign
from exchange.models.delivery import DeliveryReport
from partners.models import Brand


class DisputeSubject(models.TextChoices):
    DELIVERY = "delivery", _("A delivery report")
    RESULT = "result", _("The campaign's result")


class DisputeState(models.TextChoices):
    OPEN = "open", _("Awaiting the other side's answer")
    ANSWERED = "answered", _("Answered, awaiting the platform's decision")
    RESOLVED = "resolved", _("Resolved")
    WITHDRAWN = "withdrawn", _("Withdrawn")


OPEN_DISPUTE_STATES = (DisputeState.OPEN, DisputeState.ANSWERED)


class DisputeOutcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld: the figures were adjusted")
    REJECTED = "rejected", _("Rejected: the figures stand")


class Dispute(models.Model):
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, related_name="disputes", verbose_name=_("campaign")
    )
    subject = models.CharField(_("subject"), max_length=10, choices=DisputeSubject.choices)
    delivery_report = models.ForeignKey(
        DeliveryReport,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="disputes",
        verbose_name=_("delivery report"),
    )
    opened_by = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("opened by"))
    respondent = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("respondent"))
    reason = models.CharField(_("reason"), max_length=24)
    statement = models.TextField(_("statement"))
    state = models.CharField(_("state"), max_length=10, choices=DisputeState.choices, default=DisputeState.OPEN)
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    opened_by_user = models.ForeignKey(
        "partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("opened by")
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by_user = models.ForeignKey(
        "partners.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    outcome = models.CharField(_("outcome"), max_length=10, choices=DisputeOutcome.choices, blank=True)
    decision = models.TextField(_("decision"), blank=True)
    # What the decision changed, e.g. {"legs": {"<leg id>": {"before": 120000, "after": 90000}}}.
    adjustment = models.JSONField(_("adjustment"), default=dict, blank=True)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolved_by = models.ForeignKey(
        "partners.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resolved by"),
    )

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            models.CheckConstraint(condition=~Q(opened_by=models.F("respondent")), name="dispute_two_brands"),
            models.CheckConstraint(
                condition=Q(subject="delivery", delivery_report__isnull=False)
                | Q(subject="result", delivery_report__isnull=True),
                name="dispute_subject_matches_report",
            ),
            models.CheckConstraint(
                condition=~Q(state="resolved") | (~Q(decision="") & ~Q(outcome="")),
                name="dispute_resolved_has_decision",
            ),
            # One open dispute per subject: a second one would split the evidence.
            models.UniqueConstraint(
                fields=["delivery_report"],
                condition=Q(state__in=["open", "answered"], subject="delivery"),
                name="dispute_one_open_per_report",
            ),
            models.UniqueConstraint(
                fields=["campaign"],
                condition=Q(state__in=["open", "answered"], subject="result"),
                name="dispute_one_open_result_per_campaign",
            ),
        ]
        indexes = [models.Index(fields=["state", "opened_at"])]

    def __str__(self) -> str:
        return f"dispute {self.pk} on campaign {self.campaign_id} ({self.state})"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_DISPUTE_STATES


def evidence_upload_to(evidence: DisputeEvidence, filename: str) -> str:
    """A random name under the dispute; served only through an access-checked view."""
    extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"dispute-evidence/{evidence.dispute_id}/{secrets.token_hex(12)}.{extension}"


class DisputeEvidence(models.Model):
    dispute = models.ForeignKey(Dispute, on_delete=models.PROTECT, related_name="evidence", verbose_name=_("dispute"))
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("side"))
    file = models.FileField(_("file"), upload_to=evidence_upload_to, max_length=200, blank=True)
    url = models.URLField(_("link"), max_length=500, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("added"), default=timezone.now)
    created_by = models.ForeignKey(
        "partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("added by")
    )

    class Meta:
        ordering = ["dispute_id", "created_at", "id"]
        verbose_name = _("dispute evidence")
        verbose_name_plural = _("dispute evidence")
        constraints = [
            models.CheckConstraint(condition=~Q(file="") | ~Q(url=""), name="dispute_evidence_has_file_or_link")
        ]

    def __str__(self) -> str:
        return f"evidence {self.pk} on dispute {self.dispute_id}"
