"""The reciprocity ledger (互惠账本): double entry, immutable, two currencies that never mix.

* ``LedgerAccount`` — one per (owner, kind): each brand has ``value_delivered``,
  ``value_received`` and ``traffic_credit`` in swap value (``HLV``: benchmark CNY-equivalent
  cents) and ``cash`` in ``CNY``; the platform has ``stripe_clearing`` and ``fees`` (CNY). An
  account's currency follows from its kind, so a balance never adds value to cash. The row also
  caches the balance with a version counter: every entry records the version it produced
  (unique per account), so two posts that read the same version cannot both land — the
  database refuses a lost update.
* ``LedgerTransaction`` — a set of entries summing to zero per currency, with a unique
  idempotency key (posting the same thing twice returns the first transaction) and a reason.
  A correction is a new transaction that ``reverses`` an earlier one; nothing is ever edited.
* ``LedgerEntry`` — a signed amount on one account (debit positive). ``balance_after`` is the
  account's running balance, shown on the ledger page.

On PostgreSQL the migration adds triggers: a deferred constraint trigger refuses a transaction
whose entries do not sum to zero per currency (or are in another currency than their account),
and UPDATE/DELETE on entries and transactions is refused (migration 0014). On SQLite (the
embedded default) a trigger refuses UPDATE only — DELETE stays possible so a development
database can be flushed — and the zero sum is checked by ``exchange.ledger.posting``. Only that
module writes here; ``manage.py check_ledger`` verifies everything afterwards.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Brand


class Currency(models.TextChoices):
    HLV = "HLV", _("Swap value (CNY-equivalent at benchmark rates)")
    CNY = "CNY", _("Cash (CNY)")


class AccountKind(models.TextChoices):
    # per brand, swap value
    VALUE_DELIVERED = "value_delivered", _("Value delivered")
    VALUE_RECEIVED = "value_received", _("Value received")
    # positive: the brand owes traffic to the network; negative: the network owes it traffic
    TRAFFIC_CREDIT = "traffic_credit", _("Traffic credit")
    # per brand, cash: negative = the platform owes the brand (a payout), positive = the brand owes
    CASH = "cash", _("Cash receivable / payable")
    # platform
    STRIPE_CLEARING = "stripe_clearing", _("Stripe clearing")
    FEES = "fees", _("Platform fees")


BRAND_KINDS = (AccountKind.VALUE_DELIVERED, AccountKind.VALUE_RECEIVED, AccountKind.TRAFFIC_CREDIT, AccountKind.CASH)
PLATFORM_KINDS = (AccountKind.STRIPE_CLEARING, AccountKind.FEES)
KIND_CURRENCY: dict[str, str] = {
    AccountKind.VALUE_DELIVERED: Currency.HLV,
    AccountKind.VALUE_RECEIVED: Currency.HLV,
    AccountKind.TRAFFIC_CREDIT: Currency.HLV,
    AccountKind.CASH: Currency.CNY,
    AccountKind.STRIPE_CLEARING: Currency.CNY,
    AccountKind.FEES: Currency.CNY,
}
# Accounts whose balance is a credit by nature (value delivered only ever goes down: debit is
# positive here). Pages show them negated, so "value delivered" reads as the positive amount a
# marketer expects; the API and check_ledger keep the signed double-entry amounts.
SHOWN_NEGATED = frozenset({AccountKind.VALUE_DELIVERED})


class TxnReason(models.TextChoices):
    DELIVERY = "delivery", _("Confirmed delivery")
    DELIVERY_ADJUSTMENT = "delivery_adjustment", _("Delivery adjusted by a dispute decision")
    RECIPROCITY = "reciprocity", _("Campaign reciprocity gap")
    SETTLEMENT = "settlement", _("Settlement paid")
    DISPUTE_RESOLUTION = "dispute_resolution", _("Dispute resolution")
    FEE = "fee", _("Platform fee")
    REFUND = "refund", _("Refund")
    REVERSAL = "reversal", _("Reversal")


class LedgerAccount(models.Model):
    brand = models.ForeignKey(
        Brand, null=True, blank=True, on_delete=models.PROTECT, related_name="ledger_accounts", verbose_name=_("brand")
    )  # None: a platform account
    kind = models.CharField(_("kind"), max_length=20, choices=AccountKind.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    balance_cents = models.BigIntegerField(_("balance (cents)"), default=0)
    version = models.BigIntegerField(_("version"), default=0)  # = the number of entries on it
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        ordering = ["brand_id", "kind"]
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.UniqueConstraint(fields=["brand", "kind"], name="ledger_account_one_per_brand_kind"),
            models.UniqueConstraint(
                fields=["kind"], condition=Q(brand__isnull=True), name="ledger_account_one_per_platform_kind"
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=[k.value for k in BRAND_KINDS], brand__isnull=False)
                    | Q(kind__in=[k.value for k in PLATFORM_KINDS], brand__isnull=True)
                ),
                name="ledger_account_owner_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(*[Q(kind=k, currency=c) for k, c in KIND_CURRENCY.items()], _connector=Q.OR),
                name="ledger_account_currency_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        owner = self.brand_id if self.brand_id else "platform"
        return f"{owner}:{self.kind} ({self.currency})"


class LedgerTransaction(models.Model):
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    reason = models.CharField(_("reason"), max_length=24, choices=TxnReason.choices)
    memo = models.CharField(_("memo"), max_length=300, blank=True)
    # What it is about; PROTECT because the ledger outlives nothing it refers to.
    campaign = models.ForeignKey(
        "exchange.Campaign",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ledger_transactions",
        verbose_name=_("campaign"),
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("reverses"),
    )
    data = models.JSONField(_("details"), default=dict, blank=True)
    created_at = models.DateTimeField(_("posted"), default=timezone.now, db_index=True)
    # How many entries it was posted with: on PostgreSQL the database refuses, at commit, a
    # transaction with another number of entries (none added later, none missing; 0021).
    entry_count = models.PositiveIntegerField(_("entries"), default=0, db_default=0)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")

    def __str__(self) -> str:
        return f"txn {self.pk} {self.reason} ({self.idempotency_key})"


class LedgerEntry(models.Model):
    transaction = models.ForeignKey(
        LedgerTransaction, on_delete=models.PROTECT, related_name="entries", verbose_name=_("transaction")
    )
    account = models.ForeignKey(
        LedgerAccount, on_delete=models.PROTECT, related_name="entries", verbose_name=_("account")
    )
    currency = models.CharField(_("currency"), max_length=3, choices=Currency.choices)
    amount_cents = models.BigIntegerField(_("amount (cents)"))  # debit positive, credit negative
    balance_after_cents = models.BigIntegerField(_("balance after (cents)"))
    account_version = models.BigIntegerField(_("account version"))

    class Meta:
        ordering = ["transaction_id", "id"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        constraints = [
            models.CheckConstraint(condition=~Q(amount_cents=0), name="ledger_entry_non_zero"),
            # The lost-update guard: one entry per account version.
            models.UniqueConstraint(fields=["account", "account_version"], name="ledger_entry_one_per_version"),
        ]
        indexes = [models.Index(fields=["account", "-account_version"])]

    def __str__(self) -> str:
        return f"{self.account_id} {self.amount_cents:+d} {self.currency}"
