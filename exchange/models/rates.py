"""Benchmark values of placements: what a unit of exposure on a channel is worth, in CNY."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import ChannelType


class PlacementFormat(models.TextChoices):
    GROUP_BROADCAST = "group_broadcast", _("Group broadcast")
    DIRECT_MESSAGE = "direct_message", _("1-to-1 message")
    ARTICLE_SLOT = "article_slot", _("Article slot")
    BANNER = "banner", _("Banner")
    MINIPROGRAM_POPUP = "miniprogram_popup", _("Mini-program pop-up")
    WELFARE_COUPON = "welfare_coupon", _("Welfare-channel coupon")
    PARCEL_INSERT = "parcel_insert", _("Parcel insert")
    STORE_DISPLAY = "store_display", _("In-store display")
    SMS = "sms", _("SMS")


class PricingUnit(models.TextChoices):
    """How a format is priced. ``basis`` is the quantity the rate is quoted for."""

    CPM = "cpm", _("per 1,000 reach")
    MESSAGE = "message", _("per 1,000 messages")
    PARCEL = "parcel", _("per 1,000 parcels")
    STORE_DAY = "store_day", _("per store-day")

    @property
    def basis(self) -> int:
        return 1 if self is PricingUnit.STORE_DAY else 1000


# The unit follows from the format: only these three are priced per item.
FORMAT_UNITS: dict[str, PricingUnit] = {
    PlacementFormat.SMS: PricingUnit.MESSAGE,
    PlacementFormat.PARCEL_INSERT: PricingUnit.PARCEL,
    PlacementFormat.STORE_DISPLAY: PricingUnit.STORE_DAY,
}


def unit_for(fmt: str) -> PricingUnit:
    return FORMAT_UNITS.get(fmt, PricingUnit.CPM)


class ChannelRate(models.Model):
    """The benchmark value of one (channel type, format): ``rate_cents`` per ``unit.basis``.

    A pair without a row cannot be offered (an SMS channel has no "article slot"). Edited by
    platform admins through ``channel_rate_set`` (audited); a proposal copies the rate onto
    each placement, so a later change never rewrites a valued revision.
    """

    channel_type = models.CharField(_("channel type"), max_length=20, choices=ChannelType.choices)
    format = models.CharField(_("format"), max_length=24, choices=PlacementFormat.choices)
    unit = models.CharField(_("pricing unit"), max_length=12, choices=PricingUnit.choices)
    rate_cents = models.BigIntegerField(_("rate (cents)"))
    source = models.CharField(_("source of the figure"), max_length=200, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        ordering = ["channel_type", "format"]
        verbose_name = _("channel rate")
        verbose_name_plural = _("channel rates")
        constraints = [
            models.UniqueConstraint(fields=["channel_type", "format"], name="channel_rate_unique"),
            models.CheckConstraint(condition=Q(rate_cents__gt=0), name="channel_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_type_display()} · {self.get_format_display()}"

    @property
    def pricing_unit(self) -> PricingUnit:
        return PricingUnit(self.unit)
