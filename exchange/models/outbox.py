"""The transactional outbox: every state change of the exchange writes one DomainEvent in the
same transaction. The inbox, e-mail and (later) partner webhooks are delivered from these rows
by Celery, at least once — the only way the exchange tells the outside world anything."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    PROPOSAL_CREATED = "proposal.created", _("New swap proposal")
    PROPOSAL_COUNTERED = "proposal.countered", _("Counter-offer")
    PROPOSAL_ACCEPTED = "proposal.accepted", _("Proposal accepted")
    PROPOSAL_DECLINED = "proposal.declined", _("Proposal declined")
    PROPOSAL_WITHDRAWN = "proposal.withdrawn", _("Proposal withdrawn")
    PROPOSAL_EXPIRED = "proposal.expired", _("Proposal expired")
    PROPOSAL_MESSAGE = "proposal.message", _("New message")
    CAMPAIGN_LIVE = "campaign.live", _("Campaign live")
    CAMPAIGN_COMPLETED = "campaign.completed", _("Campaign completed")
    DELIVERY_REPORTED = "delivery.reported", _("Delivery reported")
    DELIVERY_CONFIRMED = "delivery.confirmed", _("Delivery confirmed")
    DELIVERY_DISPUTED = "delivery.disputed", _("Delivery disputed")
    CONVERSIONS_CONFIRMED = "conversion.confirmed", _("Reported orders confirmed")
    CONVERSION_REVERSED = "conversion.reversed", _("Reported order reversed")
    MEMBERS_CONFIRMED = "member.confirmed", _("Reported new members confirmed")
    MEMBER_REVERSED = "member.reversed", _("Reported new member reversed")
    SETTLEMENT_OPENED = "settlement.opened", _("Settlement opened")
    SETTLEMENT_PAID = "settlement.paid", _("Settlement paid")
    SETTLEMENT_FAILED = "settlement.failed", _("Settlement payment failed")
    SETTLEMENT_CREDITED = "settlement.credited", _("Settlement carried as traffic credit")
    SETTLEMENT_REFUNDED = "settlement.refunded", _("Settlement refunded")
    SETTLEMENT_UPDATED = "settlement.updated", _("Settlement changed")
    DISPUTE_OPENED = "dispute.opened", _("Dispute opened")
    DISPUTE_ANSWERED = "dispute.answered", _("Dispute answered")
    DISPUTE_EVIDENCE_ADDED = "dispute.evidence_added", _("Dispute evidence added")
    DISPUTE_RESOLVED = "dispute.resolved", _("Dispute resolved")
    BRAND_STATUS_CHANGED = "brand.status_changed", _("Brand status changed")


class DomainEvent(models.Model):
    type = models.CharField(_("event type"), max_length=40, choices=EventType.choices, db_index=True)
    proposal = models.ForeignKey(
        "exchange.Proposal",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("swap proposal"),
    )
    # The brands concerned (both parties); the recipients are derived from them at dispatch.
    brand_ids = models.JSONField(_("brands concerned"), default=list)
    # The brand whose action caused the event (None: the platform, e.g. expiry).
    actor_brand_id = models.BigIntegerField(_("acting brand"), null=True, blank=True)
    payload = models.JSONField(_("payload"), default=dict)
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    # Claimed by the dispatcher once the inbox rows and e-mail jobs exist (same transaction).
    dispatched_at = models.DateTimeField(_("dispatched"), null=True, blank=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("domain event")
        verbose_name_plural = _("domain events")

    def __str__(self) -> str:
        return f"{self.type} #{self.pk}"


class Notification(models.Model):
    """One user's inbox entry for one event (unique: a re-dispatch never duplicates it)."""

    user = models.ForeignKey(
        "partners.User", on_delete=models.CASCADE, related_name="notifications", verbose_name=_("person")
    )
    event = models.ForeignKey(
        DomainEvent, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("domain event")
    )
    brand = models.ForeignKey("partners.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        constraints = [models.UniqueConstraint(fields=["user", "event"], name="notification_once_per_user")]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.event_id}"


class EmailDelivery(models.Model):
    """One e-mail for one event and recipient. Claimed (``claimed_at``, a lease) before the
    message is sent and marked ``sent_at`` after: a worker killed mid-send leaves a claim that
    expires and is retried; a sent row is never sent again."""

    event = models.ForeignKey(
        DomainEvent, on_delete=models.CASCADE, related_name="emails", verbose_name=_("domain event")
    )
    user = models.ForeignKey("partners.User", on_delete=models.CASCADE, related_name="+", verbose_name=_("person"))
    brand = models.ForeignKey("partners.Brand", on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True, db_index=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        verbose_name = _("e-mail delivery")
        verbose_name_plural = _("e-mail deliveries")
        constraints = [models.UniqueConstraint(fields=["event", "user"], name="email_once_per_user")]

    def __str__(self) -> str:
        return f"email {self.event_id}→{self.user_id}"
