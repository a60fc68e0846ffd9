"""Campaigns: what an accepted proposal becomes. Two legs (A promotes B, B promotes A), each
holding the accepted revision's placements of its promoter, with the windows they run in."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.proposals import Placement, Proposal, Revision
from exchange.states import CampaignState
from partners.models import Brand


class Campaign(models.Model):
    """One per accepted proposal (the database refuses a second). ``starts_at`` / ``ends_at``
    span every placement window (the earliest start, the latest end), so the beat task finds
    what is due with an index instead of walking placements."""

    proposal = models.OneToOneField(
        Proposal, on_delete=models.PROTECT, related_name="campaign", verbose_name=_("proposal")
    )
    revision = models.ForeignKey(
        Revision, on_delete=models.PROTECT, related_name="+", verbose_name=_("accepted revision")
    )
    brand_a = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="campaigns_as_a", verbose_name=_("brand A (initiator)")
    )  # the initiator
    brand_b = models.ForeignKey(
        Brand, on_delete=models.PROTECT, related_name="campaigns_as_b", verbose_name=_("brand B (counterparty)")
    )  # the counterparty
    state = models.CharField(_("state"), max_length=12, choices=CampaignState.choices, default=CampaignState.SCHEDULED)
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    live_at = models.DateTimeField(_("went live"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("swap campaign")
        verbose_name_plural = _("swap campaigns")
        constraints = [
            models.CheckConstraint(condition=~Q(brand_a=F("brand_b")), name="campaign_two_brands"),
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_window_ordered"),
        ]
        indexes = [models.Index(fields=["state", "starts_at"]), models.Index(fields=["state", "ends_at"])]

    def __str__(self) -> str:
        return f"campaign #{self.pk} ({self.state})"


class CampaignLeg(models.Model):
    """One direction of the swap: ``promoter`` shows ``promoted`` to its audience. The
    promoted brand's landing URL (https) is where the leg's tracking links lead."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="legs", verbose_name=_("campaign"))
    promoter = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("promoting brand"))
    promoted = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="+", verbose_name=_("promoted brand"))
    landing_url = models.URLField(_("landing page"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("campaign leg")
        verbose_name_plural = _("campaign legs")
        ordering = ["campaign_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "promoter"], name="campaign_leg_one_per_promoter"),
            models.CheckConstraint(condition=~Q(promoter=F("promoted")), name="campaign_leg_two_brands"),
        ]

    def __str__(self) -> str:
        return f"leg {self.pk}: {self.promoter_id} promotes {self.promoted_id}"


class CampaignPlacement(models.Model):
    """A placement of the accepted revision, run by its leg. The window is the placement's
    dates read in Asia/Shanghai: from ``starts_on`` 00:00 to the midnight after ``ends_on``.

    ``delivery_confirmed_at`` is the seam for delivery reports (next slice): a placement is
    settled for completion when its window has ended and its delivery is confirmed, or the
    confirmation window (``EXCHANGE_DELIVERY_CONFIRM_DAYS``) after the window has lapsed.
    """

    leg = models.ForeignKey(CampaignLeg, on_delete=models.CASCADE, related_name="placements", verbose_name=_("leg"))
    placement = models.OneToOneField(
        Placement, on_delete=models.PROTECT, related_name="campaign_placement", verbose_name=_("placement")
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    delivery_confirmed_at = models.DateTimeField(_("delivery confirmed"), null=True, blank=True)

    class Meta:
        verbose_name = _("campaign placement")
        verbose_name_plural = _("campaign placements")
        ordering = ["leg_id", "starts_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="campaign_placement_window_ordered")
        ]

    def __str__(self) -> str:
        return f"campaign placement {self.pk} (placement {self.placement_id})"
