"""Coupon batches: N single-use codes per campaign placement, chosen by the promoted brand.

Codes are drawn from ``secrets`` in a readable alphabet (no 0/O/1/I) and are unique across the
platform (the database enforces it); a code is redeemed at most once, by the reported
conversion that names it (``redeemed_by``, one-to-one).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import CampaignLeg, CampaignPlacement


class CouponBatch(models.Model):
    """One per campaign placement; regenerating to a larger size adds codes, never removes any."""

    placement = models.OneToOneField(
        CampaignPlacement, on_delete=models.PROTECT, related_name="coupon_batch", verbose_name=_("campaign placement")
    )
    leg = models.ForeignKey(CampaignLeg, on_delete=models.PROTECT, related_name="coupon_batches", verbose_name=_("leg"))
    size = models.PositiveIntegerField(_("codes"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("coupon batch")
        verbose_name_plural = _("coupon batches")
        ordering = ["leg_id", "id"]

    def __str__(self) -> str:
        return f"coupon batch {self.pk} ({self.size} codes)"


class Coupon(models.Model):
    code = models.CharField(_("code"), max_length=16, unique=True)
    batch = models.ForeignKey(CouponBatch, on_delete=models.PROTECT, related_name="coupons", verbose_name=_("batch"))
    leg = models.ForeignKey(CampaignLeg, on_delete=models.PROTECT, related_name="+", verbose_name=_("leg"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    redeemed_at = models.DateTimeField(_("redeemed"), null=True, blank=True)
    redeemed_by = models.OneToOneField(
        "exchange.ReportedEvent",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="coupon",
        verbose_name=_("redeemed by"),
    )

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["batch_id", "id"]

    def __str__(self) -> str:
        return self.code
