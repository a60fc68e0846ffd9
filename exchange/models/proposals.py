"""Swap proposals (置换提案): revisions of placements negotiated in turns, and a message thread."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.models.rates import PlacementFormat, PricingUnit
from exchange.states import OPEN_STATES, DeclineReason, ProposalState, Side
from matching.models import SlotType
from partners.models import ApiKey, Brand, Channel, ChannelType


class Proposal(models.Model):
    """A negotiation between two brands. ``turn`` is the brand that must answer next.

    ``pair_low``/``pair_high`` are the two brand ids in order, so the database itself
    refuses a second *open* proposal for the same pair (whoever proposed it).
    """

    initiator = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="proposals_sent", verbose_name=_("proposing brand")
    )
    counterparty = models.ForeignKey(
        Brand, on_delete=models.CASCADE, related_name="proposals_received", verbose_name=_("counterparty")
    )
    pair_low = models.BigIntegerField(_("lower brand id of the pair"), editable=False)
    pair_high = models.BigIntegerField(_("higher brand id of the pair"), editable=False)
    state = models.CharField(_("state"), max_length=12, choices=ProposalState.choices, default=ProposalState.PROPOSED)
    turn = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("whose turn")
    )
    revision_number = models.PositiveIntegerField(_("revision"), default=0)
    decline_reason = models.CharField(_("decline reason"), max_length=20, choices=DeclineReason.choices, blank=True)
    decline_note = models.TextField(_("decline note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("last activity"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # The slot the counterparty held in the initiator's recommendations when the proposal was
    # made (ranked or explore; blank: not recommended). Stamped once, because opening the
    # proposal refreshes both lists and removes that row; every outcome of the proposal (and
    # of its campaign) carries it, so evaluation can tell explored pairs from ranked ones.
    slot = models.CharField(
        _("recommendation slot"),
        max_length=8,
        choices=SlotType.choices,
        blank=True,
        default="",
        db_default="",  # a process still running the previous release inserts without it
        editable=False,
    )

    class Meta:
        ordering = ["-updated_at", "-id"]
        verbose_name = _("swap proposal")
        verbose_name_plural = _("swap proposals")
        constraints = [
            models.CheckConstraint(condition=~Q(initiator=F("counterparty")), name="proposal_not_self"),
            models.CheckConstraint(condition=Q(pair_low__lt=F("pair_high")), name="proposal_pair_ordered"),
            models.UniqueConstraint(
                fields=["pair_low", "pair_high"],
                condition=Q(state__in=[s.value for s in OPEN_STATES]),
                name="proposal_one_open_per_pair",
            ),
        ]
        indexes = [
            models.Index(fields=["initiator", "state"]),
            models.Index(fields=["counterparty", "state"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} ({self.get_state_display()})"

    def save(self, *args, **kwargs):
        self.pair_low, self.pair_high = sorted((self.initiator_id, self.counterparty_id))
        super().save(*args, **kwargs)

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def other(self, brand_id: int) -> int:
        return self.counterparty_id if brand_id == self.initiator_id else self.initiator_id

    def side_of(self, brand_id: int) -> str:
        return Side.INITIATOR if brand_id == self.initiator_id else Side.COUNTERPARTY


class Revision(models.Model):
    """One immutable offer: both sides' placements, an optional cash top-up, a message.

    The values are computed when the revision is written (from the rates copied onto its
    placements) and stored, so history never changes when rates do.
    """

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("swap proposal")
    )
    number = models.PositiveIntegerField(_("number"))
    author = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("author brand"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_by_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("created by API key")
    )
    message = models.TextField(_("message"), blank=True)
    # Cash the lighter side adds to close the gap (CNY cents); ``topup_from`` is that side.
    topup_cents = models.BigIntegerField(_("cash top-up (cents)"), default=0)
    topup_from = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.CASCADE, related_name="+", verbose_name=_("top-up paid by")
    )
    # What the author would like from the other side when it has not placed it yet.
    asks = models.JSONField(_("asks"), default=list, blank=True)
    initiator_value_cents = models.BigIntegerField(_("proposing brand's value (cents)"), default=0)
    counterparty_value_cents = models.BigIntegerField(_("counterparty's value (cents)"), default=0)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["proposal_id", "number"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="revision_unique_number"),
            models.CheckConstraint(condition=Q(topup_cents__gte=0), name="revision_topup_non_negative"),
        ]

    def __str__(self) -> str:
        return _("proposal #%(p)s, revision %(n)s") % {"p": self.proposal_id, "n": self.number}


class Placement(models.Model):
    """What one side gives in a revision (资源位): a channel of its own, a format, a promised
    quantity (reach, messages, parcels or store-days) in a date window, valued at the rate
    copied from the channel-rate table when the revision was written."""

    revision = models.ForeignKey(
        Revision, on_delete=models.CASCADE, related_name="placements", verbose_name=_("revision")
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    # The channel may later be removed by its brand; the snapshot keeps the revision legible.
    channel = models.ForeignKey(
        Channel, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("channel")
    )
    channel_type = models.CharField(_("channel type"), max_length=20, choices=ChannelType.choices)
    channel_label = models.CharField(_("channel label"), max_length=80, blank=True)
    format = models.CharField(_("format"), max_length=24, choices=PlacementFormat.choices)
    quantity = models.BigIntegerField(_("quantity"))
    unit = models.CharField(_("pricing unit"), max_length=12, choices=PricingUnit.choices)
    rate_cents = models.BigIntegerField(_("rate (cents)"))
    value_cents = models.BigIntegerField(_("value (cents)"))
    starts_on = models.DateField(_("starts on"))
    ends_on = models.DateField(_("ends on"))
    notes = models.CharField(_("notes"), max_length=500, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["revision_id", "position", "id"]
        verbose_name = _("placement")
        verbose_name_plural = _("placements")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="placement_quantity_positive"),
            models.CheckConstraint(condition=Q(ends_on__gte=F("starts_on")), name="placement_window_ordered"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_type_display()} · {self.get_format_display()} × {self.quantity:,}"


class ProposalMessage(models.Model):
    """The thread of a proposal: both sides write; platform staff can read."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="messages", verbose_name=_("swap proposal")
    )
    brand = models.ForeignKey(Brand, on_delete=models.CASCADE, related_name="+", verbose_name=_("brand"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    author_key = models.ForeignKey(
        ApiKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author API key")
    )
    body = models.TextField(_("message"))
    created_at = models.DateTimeField(_("sent"), default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("proposal message")
        verbose_name_plural = _("proposal messages")

    def __str__(self) -> str:
        return f"message {self.pk} on proposal {self.proposal_id}"

    @property
    def author_display(self) -> str:
        """Who wrote it, as the other brand may see it: the person's display name — never an
        e-mail address or an API key's internal name (an API key writes as its brand)."""
        if self.author is not None and self.author.display_name:
            return self.author.display_name
        return ""
