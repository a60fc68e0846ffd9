"""Settlement of a campaign's imbalance, and the Stripe side of paying it.

* ``SettlementPolicy`` — the admin-set figures (one row, edited through
  ``settlement_policy_set``, audited): the tolerance below which a gap is forgiven, the rate at
  which swap value converts to cash, the platform fee and the days a payer has to choose.
* ``Settlement`` — one per completed campaign whose value gap exceeds the tolerance, owed by the
  lighter side (``payer``) to the heavier (``payee``). Its figures are copied when it opens (and
  adjusted by dispute decisions), so a later policy change never rewrites what a brand agreed to.
* ``BillingProfile`` — a brand's Stripe customer and saved card (ids and display data only;
  card numbers never reach us — Stripe.js collects them).
* ``Payment`` — one attempt to charge a settlement. Claimed (inserted and committed) before
  Stripe is called, with the idempotency key the call carries, so a retry or a crashed process
  reuses the same key and Stripe returns the same PaymentIntent.
* ``Refund`` — a refund of a payment after a dispute decision, claimed the same way.
* ``StripeEvent`` — every webhook event id processed, so a replay has no effect.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from exchange.declines import decline_text
from exchange.models.campaigns import Campaign
from exchange.models.ledger import LedgerTransaction
from partners.models import Brand


class SettlementPolicy(models.Model):
    """The one row of settlement figures (``pk=1``; ``settlement_policy()`` creates it)."""

    # xgettext:no-python-format (a literal percent sign)
    tolerance_percent = models.PositiveSmallIntegerField(_("tolerance (% of the larger side)"), default=10)
    # Cash cents per 100 value cents: 100 means ¥1 of swap value costs ¥1.
    cash_per_100_value = models.PositiveIntegerField(_("cash per ¥100 of swap value (¥)"), default=100)
    fee_basis_points = models.PositiveIntegerField(_("platform fee (basis points)"), default=300)
    choose_within_days = models.PositiveSmallIntegerField(_("days to choose cash or credit"), default=7)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    updated_by = models.ForeignKey(
        "partners.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("settlement policy")
        verbose_name_plural = _("settlement policy")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="settlement_policy_single_row"),
            models.CheckConstraint(condition=Q(tolerance_percent__lte=100), name="settlement_policy_tolerance_range"),
            models.CheckConstraint(condition=Q(cash_per_100_value__gt=0), name="settlement_policy_rate_positive"),
            models.CheckConstraint(condition=Q(fee_basis_points__lte=5000), name="settlement_policy_fee_range"),
            models.CheckConstraint(condition=Q(choose_within_days__gte=1), name="settlement_policy_days_positive"),
        ]

    def __str__(self) -> str:
        return "settlement policy"


class SettlementState(models.TextChoices):
    OPEN = "open", _("Awaiting the payer's choice")
    CASH_PENDING = "cash_pending", _("Cash chosen, awaiting payment")
    PAID = "paid", _("Paid")
    CREDITED = "credited", _("Carried as traffic credit")
    REFUNDED = "refunded", _("Refunded")
    VOID = "void", _("Void: balanced after a dispute decision")


class SettlementChoice(models.TextChoices):
    CASH = "cash", _("Pay in cash")
    CREDIT = "credit", _("Carry as traffic credit")


class Settlement(models.Model):
    campaign = models.OneToOneField(
        Campaign, on_delete=models.PROTECT, related_name="settlement", verbose_name=_("campaign")
    )
    payer = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="settlements_owed", verbose_name=_("payer"))
    payee = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="settlements_due", verbose_name=_("payee"))
    state = models.CharField(_("state"), max_length=14, choices=SettlementState.choices, default=SettlementState.OPEN)
    choice = models.CharField(_("choice"), max_length=8, choices=SettlementChoice.choices, blank=True)
    defaulted = models.BooleanField(_("defaulted to credit"), default=False)
    # Figures: the value each side delivered, the gap (HLV cents) and its cash price (CNY cents).
    payer_delivered_cents = models.BigIntegerField(_("payer delivered (value cents)"))
    payee_delivered_cents = models.BigIntegerField(_("payee delivered (value cents)"))
    gap_value_cents = models.BigIntegerField(_("gap (value cents)"))
    cash_cents = models.BigIntegerField(_("cash for the gap (cents)"))
    fee_cents = models.BigIntegerField(_("platform fee (cents)"))
    tolerance_percent = models.PositiveSmallIntegerField(_("tolerance applied (%)"))
    cash_per_100_value = models.PositiveIntegerField(_("rate applied"))
    fee_basis_points = models.PositiveIntegerField(_("fee applied (basis points)"))
    reciprocity_txn = models.OneToOneField(
        LedgerTransaction,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reciprocity transaction"),
    )
    opened_at = models.DateTimeField(_("opened"), default=timezone.now)
    choose_by = models.DateTimeField(_("choose by"))
    chosen_at = models.DateTimeField(_("chosen"), null=True, blank=True)
    chosen_by = models.ForeignKey(
        "partners.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("chosen by")
    )
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    last_failure = models.CharField(_("last payment failure"), max_length=300, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        verbose_name = _("settlement")
        verbose_name_plural = _("settlements")
        constraints = [
            models.CheckConstraint(condition=Q(gap_value_cents__gte=0), name="settlement_gap_non_negative"),
            models.CheckConstraint(
                condition=Q(cash_cents__gte=0, fee_cents__gte=0), name="settlement_cash_non_negative"
            ),
            models.CheckConstraint(condition=~Q(payer=models.F("payee")), name="settlement_two_brands"),
        ]
        indexes = [models.Index(fields=["state", "choose_by"])]

    def __str__(self) -> str:
        return f"settlement {self.pk} of campaign {self.campaign_id} ({self.state})"

    @property
    def last_failure_text(self) -> str:
        """The last failed attempt's reason in the reader's language ('' once paid or never
        failed); ``last_failure`` keeps Stripe's own words."""
        if not self.last_failure:
            return ""
        failed = self.payments.filter(state=PaymentState.FAILED).order_by("-attempt").first()
        return failed.failure_text if failed is not None else self.last_failure

    @property
    def total_cents(self) -> int:
        return self.cash_cents + self.fee_cents


class BillingProfile(models.Model):
    brand = models.OneToOneField(Brand, on_delete=models.PROTECT, related_name="billing", verbose_name=_("brand"))
    stripe_customer_id = models.CharField(_("Stripe customer"), max_length=100, unique=True)
    payment_method_id = models.CharField(_("saved payment method"), max_length=100, blank=True)
    card_brand = models.CharField(_("card brand"), max_length=30, blank=True)
    card_last4 = models.CharField(_("card last 4"), max_length=4, blank=True)
    card_exp = models.CharField(_("card expiry"), max_length=7, blank=True)  # MM/YYYY
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("billing profile")
        verbose_name_plural = _("billing profiles")

    def __str__(self) -> str:
        return f"billing of brand {self.brand_id}"


class PaymentState(models.TextChoices):
    CLAIMED = "claimed", _("Starting")  # the row exists; Stripe may or may not have been called
    PROCESSING = "processing", _("Processing")
    REQUIRES_ACTION = "requires_action", _("Needs the payer's confirmation")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class Payment(models.Model):
    settlement = models.ForeignKey(
        Settlement, on_delete=models.PROTECT, related_name="payments", verbose_name=_("settlement")
    )
    attempt = models.PositiveIntegerField(_("attempt"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    stripe_payment_intent_id = models.CharField(
        _("Stripe PaymentIntent"), max_length=100, null=True, blank=True, unique=True
    )
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    state = models.CharField(_("state"), max_length=16, choices=PaymentState.choices, default=PaymentState.CLAIMED)
    failure_code = models.CharField(_("failure code"), max_length=60, blank=True)
    failure_message = models.CharField(_("failure reason"), max_length=300, blank=True)
    receipt_url = models.URLField(_("receipt"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    ledger_txn = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger")
    )

    class Meta:
        ordering = ["settlement_id", "attempt"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(fields=["settlement", "attempt"], name="payment_one_per_attempt"),
            # At most one attempt of a settlement can be in flight or done: never two charges.
            models.UniqueConstraint(
                fields=["settlement"],
                condition=~Q(state="failed"),
                name="payment_one_live_per_settlement",
            ),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"payment {self.pk} of settlement {self.settlement_id} ({self.state})"

    @property
    def failure_text(self) -> str:
        """Why it failed, in the reader's language (``exchange.declines``)."""
        return decline_text(self.failure_code, self.failure_message) if self.state == PaymentState.FAILED else ""


class RefundState(models.TextChoices):
    CLAIMED = "claimed", _("Starting")
    PENDING = "pending", _("Pending")
    SUCCEEDED = "succeeded", _("Refunded")
    FAILED = "failed", _("Failed")


class Refund(models.Model):
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds", verbose_name=_("payment"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    stripe_refund_id = models.CharField(_("Stripe refund"), max_length=100, null=True, blank=True, unique=True)
    amount_cents = models.BigIntegerField(_("amount (cents)"))
    # The part of the amount that was platform fee (returned to the payer with the rest).
    fee_cents = models.BigIntegerField(_("of which fee (cents)"), default=0)
    gap_value_cents = models.BigIntegerField(_("swap value it refunds (cents)"), default=0)
    state = models.CharField(_("state"), max_length=12, choices=RefundState.choices, default=RefundState.CLAIMED)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    # Stripe's reason when it refused the refund (shown to platform admins beside the retry).
    failure_message = models.CharField(_("failure reason"), max_length=300, blank=True, default="", db_default="")
    dispute = models.ForeignKey(
        "exchange.Dispute",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
        verbose_name=_("dispute"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)  # the resume lease
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    ledger_txn = models.OneToOneField(
        LedgerTransaction, null=True, blank=True, on_delete=models.PROTECT, related_name="+", verbose_name=_("ledger")
    )

    class Meta:
        ordering = ["payment_id", "id"]
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        constraints = [models.CheckConstraint(condition=Q(amount_cents__gt=0), name="refund_amount_positive")]

    def __str__(self) -> str:
        return f"refund {self.pk} of payment {self.payment_id} ({self.state})"

    @property
    def reason_text(self) -> str:
        """Why it was refunded, in the reader's language (the stored ``reason`` was written in
        the deciding admin's)."""
        if self.dispute_id:
            return _("Dispute %(id)s decided in the payer's favour") % {"id": self.dispute_id}
        return self.reason


class StripeEvent(models.Model):
    """A webhook event from Stripe, recorded in the transaction that applies it."""

    event_id = models.CharField(_("event id"), max_length=100, unique=True)
    type = models.CharField(_("type"), max_length=80)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("Stripe event")
        verbose_name_plural = _("Stripe events")

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
