"""Tracking: a short link per campaign placement, and the click events the redirect records.

Click events are append-only. On PostgreSQL their table is partitioned by month of
``occurred_at`` (migration 0010, ``exchange.services.partitions``): the primary key there is
(id, occurred_at) in SQL while the ORM keeps ``id`` — ids come from one sequence, so ``id``
alone still names one row. Nothing may reference this table with a database foreign key (a
partitioned table's keys include the month); refer to an event by ``click_id`` instead.

Events keep the ids they were recorded with without foreign-key constraints to the link and
leg, so a batch copied from the stream is never refused for one row (links are never deleted: ``PROTECT`` from the campaign side keeps them).
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.campaigns import CampaignLeg, CampaignPlacement


class TrackingLink(models.Model):
    """``/t/<code>`` for one campaign placement. ``destination`` is the promoted brand's landing
    URL with the UTM parameters; the redirect appends a fresh click id to it."""

    placement = models.OneToOneField(
        CampaignPlacement, on_delete=models.PROTECT, related_name="link", verbose_name=_("campaign placement")
    )
    leg = models.ForeignKey(CampaignLeg, on_delete=models.PROTECT, related_name="links", verbose_name=_("leg"))
    code = models.CharField(_("code"), max_length=16, unique=True)
    destination = models.URLField(_("destination"), max_length=1000)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("tracking link")
        verbose_name_plural = _("tracking links")
        ordering = ["leg_id", "id"]

    def __str__(self) -> str:
        return f"/t/{self.code}"


class UaClass(models.TextChoices):
    BROWSER = "browser", _("Browser")
    MOBILE = "mobile", _("Mobile")
    BOT = "bot", _("Bot")
    PREVIEW = "preview", _("Link preview")
    OTHER = "other", _("Other")


class BotReason(models.TextChoices):
    """Why a click is filtered out of the metrics (stored, flagged, never counted)."""

    PREVIEW_AGENT = "preview_agent", _("Link preview (unfurler)")
    BOT_AGENT = "bot_agent", _("Known bot or crawler")
    NO_AGENT = "no_agent", _("No user agent")
    HEAD_REQUEST = "head_request", _("HEAD request")
    BURST = "burst", _("Too many clicks from one visitor")


class VisitorKind(models.TextChoices):
    COOKIE = "cookie", _("First-party cookie")
    HASH = "hash", _("Daily salted hash")


class Ingest(models.TextChoices):
    """How the event reached the database: the Redis stream, or straight (Redis down, or none)."""

    STREAM = "stream", _("Stream")
    DIRECT = "direct", _("Direct")


class ClickEvent(models.Model):
    # Written once: every writer inserts ON CONFLICT (event_id, occurred_at) DO NOTHING. The
    # time is part of the key because PostgreSQL's partitions (by month of occurred_at) can only
    # enforce keys holding it; an event's time travels with its id and never changes.
    event_id = models.UUIDField(_("event id"))
    occurred_at = models.DateTimeField(_("when"), db_index=True)
    code = models.CharField(_("code"), max_length=16)
    # No index of their own: every index is paid by every stored click (the flush's cost), and
    # reads go by leg and time — the (leg, occurred_at) index below — or by click id.
    link = models.ForeignKey(
        TrackingLink,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="clicks",
        verbose_name=_("tracking link"),
    )
    leg = models.ForeignKey(
        CampaignLeg,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="clicks",
        verbose_name=_("leg"),
    )
    click_id = models.UUIDField(_("click id"), db_index=True)  # the hl_click handed to the destination
    visitor_id = models.CharField(_("visitor id"), max_length=32)
    visitor_kind = models.CharField(_("visitor id kind"), max_length=8, choices=VisitorKind.choices)
    referrer_host = models.CharField(_("referrer host"), max_length=255, blank=True)
    ua_class = models.CharField(_("user-agent class"), max_length=8, choices=UaClass.choices)
    is_bot = models.BooleanField(_("filtered"), default=False)
    bot_reason = models.CharField(_("filter reason"), max_length=16, choices=BotReason.choices, blank=True)
    outside_window = models.BooleanField(_("outside the window"), default=False)
    ingest = models.CharField(_("ingest path"), max_length=8, choices=Ingest.choices)
    stored_at = models.DateTimeField(_("stored"), db_default=Now())  # set by the database, whichever writer

    class Meta:
        verbose_name = _("click event")
        verbose_name_plural = _("click events")
        ordering = ["occurred_at", "id"]
        indexes = [models.Index(fields=["leg", "occurred_at"])]
        constraints = [models.UniqueConstraint(fields=["event_id", "occurred_at"], name="click_event_once")]

    def __str__(self) -> str:
        return f"click {self.event_id} on {self.code}"
