"""Metrics rollups: one row per campaign leg and day (Asia/Shanghai), kept up to date as events are
stored — never recomputed from raw events for a page view.

Every writer adds to these rows in the same transaction as the events it stores, through
``exchange.services.rollups`` (the only module that writes them), so a count is changed exactly
as often as an event is stored: a batch written twice (the second write a no-op on the event
ids) adds nothing the second time. ``LegDayVisitor`` is the exact set behind
``unique_visitors``: a visitor is counted the first time it is seen on a leg that day.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import CampaignLeg


class LegDayMetrics(models.Model):
    leg = models.ForeignKey(CampaignLeg, on_delete=models.CASCADE, related_name="daily", verbose_name=_("leg"))
    day = models.DateField(_("day"))  # in Asia/Shanghai
    clicks = models.BigIntegerField(_("clicks"), default=0)  # counted clicks (filtered ones excluded)
    filtered_clicks = models.BigIntegerField(_("filtered clicks"), default=0)  # bots, previews, bursts, HEAD
    unique_visitors = models.BigIntegerField(_("unique visitors"), default=0)  # of the counted clicks
    new_members = models.BigIntegerField(_("new members"), default=0)  # reported, not reversed
    conversions = models.BigIntegerField(_("conversions"), default=0)  # reported orders, not reversed
    gmv_cents = models.BigIntegerField(_("GMV (cents)"), default=0)  # of those orders, CNY
    delivered_reach = models.BigIntegerField(_("delivered reach"), default=0)  # confirmed delivery reports
    delivered_value_cents = models.BigIntegerField(_("value delivered (cents)"), default=0)  # at the swap's rates

    class Meta:
        verbose_name = _("daily leg metrics")
        verbose_name_plural = _("daily leg metrics")
        ordering = ["leg_id", "day"]
        constraints = [models.UniqueConstraint(fields=["leg", "day"], name="leg_day_metrics_once")]

    def __str__(self) -> str:
        return f"leg {self.leg_id} on {self.day}"


class LegDayVisitor(models.Model):
    """A visitor seen (with a counted click) on a leg on a day. No foreign key: written in bulk
    beside the events, which carry none either."""

    leg_id = models.BigIntegerField(_("leg"))
    day = models.DateField(_("day"))
    visitor_id = models.CharField(_("visitor id"), max_length=32)

    class Meta:
        verbose_name = _("visitor of a leg's day")
        verbose_name_plural = _("visitors of legs' days")
        constraints = [models.UniqueConstraint(fields=["leg_id", "day", "visitor_id"], name="leg_day_visitor_once")]

    def __str__(self) -> str:
        return f"visitor {self.visitor_id} on leg {self.leg_id}, {self.day}"
