"""``ledger_post`` and ``ledger_reverse``: the only writers of ledger entries.

A posting is a list of ``Line`` (account, signed amount; debit positive) that sums to zero per
currency, under an idempotency key: posting the same key again returns the first transaction
and writes nothing (``Posted.created`` says which). The accounts touched are locked in id
order (no deadlock between two posts on the same pair of brands), each entry records the
account's running balance and the version it produced, and the cached balance moves with it;
the unique (account, version) pair makes a lost update impossible even if a lock were missed.

On PostgreSQL the database checks the zero sum again at commit and refuses any UPDATE or
DELETE of an entry (migration 0014); it also refuses an entry whose running balance or version
does not follow the account's previous entry, an account whose cached balance and version are
not those of its latest entry, and a transaction with another number of entries than it was
posted with (0021; on SQLite the entry and account checks too). Here the same rules are
checked before anything is written, so — for a clear error everywhere — a bad posting never
starts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.errors import ExchangeError as E
from exchange.models.ledger import (
    KIND_CURRENCY,
    PLATFORM_KINDS,
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TxnReason,
)
from partners.models import Brand


@dataclass(frozen=True)
class Line:
    account: LedgerAccount
    amount_cents: int


@dataclass(frozen=True)
class Posted:
    txn: LedgerTransaction
    created: bool


def account(*, brand: Brand | int | None, kind: str) -> LedgerAccount:
    """The account of ``brand`` (None: the platform) of ``kind``, created on first use."""
    kind = AccountKind(kind)
    brand_id = brand.pk if isinstance(brand, Brand) else brand
    if (brand_id is None) != (kind in PLATFORM_KINDS):
        raise ValueError(f"{kind} is {'a platform' if kind in PLATFORM_KINDS else 'a brand'} account")
    lookup = Q(brand_id=brand_id) if brand_id is not None else Q(brand__isnull=True)
    found = LedgerAccount.objects.filter(lookup, kind=kind).first()
    if found is not None:
        return found
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(brand_id=brand_id, kind=kind, currency=KIND_CURRENCY[kind])
    except IntegrityError:  # created concurrently
        return LedgerAccount.objects.get(lookup, kind=kind)


def _invalid(message: str, code: str) -> ValidationError:
    return ValidationError({"entries": ValidationError(message, code=code)})


def check_lines(lines: Iterable[Line]) -> list[Line]:
    """The lines of a posting, merged per account, or a ValidationError: at least two, none
    zero, each in its account's currency, summing to zero per currency."""
    merged: dict[int, int] = defaultdict(int)
    accounts: dict[int, LedgerAccount] = {}
    for line in lines:
        if line.account.pk is None:
            raise ValueError("ledger lines need saved accounts")
        merged[line.account.pk] += int(line.amount_cents)
        accounts[line.account.pk] = line.account
    out = [Line(accounts[pk], amount) for pk, amount in merged.items() if amount]
    if len(out) < 2:
        raise _invalid(_("A ledger transaction needs at least two non-zero entries."), E.LEDGER_UNBALANCED)
    sums: dict[str, int] = defaultdict(int)
    for line in out:
        if line.account.currency != KIND_CURRENCY[line.account.kind]:
            raise _invalid(
                _("Account %(account)s is in the wrong currency.") % {"account": line.account},
                E.LEDGER_CURRENCY_MISMATCH,
            )
        sums[line.account.currency] += line.amount_cents
    unbalanced = {c: s for c, s in sums.items() if s}
    if unbalanced:
        raise _invalid(_("Entries do not sum to zero: %(sums)s.") % {"sums": unbalanced}, E.LEDGER_UNBALANCED)
    return out


def ledger_post(
    *,
    key: str,
    reason: str,
    lines: Iterable[Line],
    campaign=None,
    memo: str = "",
    data: dict | None = None,
    reverses: LedgerTransaction | None = None,
    at=None,
) -> Posted:
    """Post one balanced transaction under ``key`` (or return the one already posted under
    it). Runs in the caller's transaction, or its own."""
    checked = check_lines(lines)
    with transaction.atomic():
        existing = LedgerTransaction.objects.filter(idempotency_key=key).first()
        if existing is not None:
            return Posted(existing, False)
        try:
            with transaction.atomic():
                txn = LedgerTransaction.objects.create(
                    idempotency_key=key,
                    reason=TxnReason(reason),
                    memo=memo[:300],
                    campaign=campaign,
                    reverses=reverses,
                    data=data or {},
                    created_at=at or timezone.now(),
                    entry_count=len(checked),
                )
        except IntegrityError:
            found = LedgerTransaction.objects.filter(idempotency_key=key).first()
            if found is None:  # the reversal's one-to-one, not the key
                raise _invalid(_("This transaction has already been reversed."), E.LEDGER_ALREADY_REVERSED) from None
            return Posted(found, False)
        locked = {
            a.pk: a
            for a in LedgerAccount.objects.select_for_update()
            .filter(pk__in=[ln.account.pk for ln in checked])
            .order_by("pk")
        }
        entries = []
        for line in sorted(checked, key=lambda ln: ln.account.pk):
            acc = locked[line.account.pk]
            acc.balance_cents += line.amount_cents
            acc.version += 1
            entries.append(
                LedgerEntry(
                    transaction=txn,
                    account=acc,
                    currency=acc.currency,
                    amount_cents=line.amount_cents,
                    balance_after_cents=acc.balance_cents,
                    account_version=acc.version,
                )
            )
        LedgerEntry.objects.bulk_create(entries)
        LedgerAccount.objects.bulk_update(list(locked.values()), ["balance_cents", "version"])
    return Posted(txn, True)


def ledger_reverse(
    *,
    txn: LedgerTransaction,
    reason: str = TxnReason.REVERSAL,
    memo: str = "",
    key: str | None = None,
    data=None,
    at=None,
) -> Posted:
    """Post the mirror image of ``txn`` (every entry negated), pointing at it. A transaction is
    reversed at most once (the database's one-to-one); reversing again returns the reversal."""
    with transaction.atomic():
        done = LedgerTransaction.objects.filter(reverses=txn).first()
        if done is not None:
            return Posted(done, False)
        if txn.reverses_id is not None:
            raise _invalid(_("A reversal is not reversed; post the correction instead."), E.LEDGER_ALREADY_REVERSED)
        lines = [Line(e.account, -e.amount_cents) for e in txn.entries.select_related("account")]
        return ledger_post(
            key=key or f"reverse:{txn.idempotency_key}"[:120],
            reason=reason,
            lines=lines,
            campaign=txn.campaign,
            memo=memo or f"reverses #{txn.pk}",
            data=data or {"reverses": txn.pk},
            reverses=txn,
            at=at,
        )
