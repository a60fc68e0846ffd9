"""Verify the whole ledger from its entries (``manage.py check_ledger``, and after every test
that posts). Each problem is a line a person can act on; none means the ledger is sound."""

from __future__ import annotations

from django.db.models import Count, F, Max, Min, Sum

from exchange.models.ledger import KIND_CURRENCY, LedgerAccount, LedgerEntry, LedgerTransaction


def ledger_problems(*, limit: int = 100) -> list[str]:
    """Every difference found (at most ``limit``): transactions that do not sum to zero per
    currency or have fewer than two entries, entries in another currency than their account,
    cached balances or versions that differ from the entries, running balances that do not add
    up, reversals that do not mirror what they reverse, and currencies whose accounts do not
    sum to zero overall."""
    problems: list[str] = []

    def add(text: str) -> bool:
        problems.append(text)
        return len(problems) >= limit

    for row in (
        LedgerEntry.objects.values("transaction_id", "currency").annotate(s=Sum("amount_cents")).exclude(s=0)
    ).order_by("transaction_id"):
        if add(f"transaction {row['transaction_id']}: {row['currency']} entries sum to {row['s']}, not 0"):
            return problems
    for txn in LedgerTransaction.objects.annotate(n=Count("entries")).filter(n__lt=2).order_by("pk"):
        if add(f"transaction {txn.pk} ({txn.idempotency_key}): {txn.n} entries"):
            return problems
    for txn in (
        LedgerTransaction.objects.annotate(n=Count("entries"))
        .filter(entry_count__gt=0)
        .exclude(n=F("entry_count"))
        .order_by("pk")
    ):
        if add(f"transaction {txn.pk} ({txn.idempotency_key}): posted with {txn.entry_count} entries, has {txn.n}"):
            return problems
    for acc in LedgerAccount.objects.order_by("pk"):
        if acc.currency != KIND_CURRENCY.get(acc.kind):
            if add(f"account {acc.pk} ({acc}): currency {acc.currency} is not that of its kind"):
                return problems
    for e in LedgerEntry.objects.exclude(currency=F("account__currency")).values("pk", "account_id")[:limit]:
        if add(f"entry {e['pk']}: currency differs from its account {e['account_id']}"):
            return problems
    sums = {
        r["account_id"]: r
        for r in LedgerEntry.objects.values("account_id").annotate(
            s=Sum("amount_cents"), n=Count("pk"), lo=Min("account_version"), hi=Max("account_version")
        )
    }
    for acc in LedgerAccount.objects.order_by("pk"):
        r = sums.get(acc.pk, {"s": 0, "n": 0, "lo": None, "hi": None})
        s = r["s"] or 0
        if s != acc.balance_cents:
            if add(f"account {acc.pk} ({acc}): cached balance {acc.balance_cents} but entries sum to {s}"):
                return problems
        if r["n"] != acc.version or (r["n"] and (r["lo"] != 1 or r["hi"] != r["n"])):
            if add(f"account {acc.pk} ({acc}): version {acc.version} but {r['n']} entries ({r['lo']}..{r['hi']})"):
                return problems
    # Running balances: each entry's balance_after = the previous one's + its amount.
    previous: dict[int, int] = {}
    for e in (
        LedgerEntry.objects.order_by("account_id", "account_version")
        .values_list("pk", "account_id", "amount_cents", "balance_after_cents")
        .iterator(chunk_size=5000)
    ):
        pk, account_id, amount, after = e
        expected = previous.get(account_id, 0) + amount
        if after != expected:
            if add(f"entry {pk}: running balance {after}, expected {expected}"):
                return problems
        previous[account_id] = after
    for txn in LedgerTransaction.objects.filter(reverses__isnull=False).select_related("reverses").order_by("pk"):
        mine = sorted(txn.entries.values_list("account_id", "amount_cents"))
        theirs = sorted((a, -x) for a, x in txn.reverses.entries.values_list("account_id", "amount_cents"))
        if mine != theirs:
            if add(f"transaction {txn.pk} does not mirror transaction {txn.reverses_id}, which it reverses"):
                return problems
    for row in LedgerAccount.objects.values("currency").annotate(s=Sum("balance_cents")).exclude(s=0):
        if add(f"{row['currency']}: account balances sum to {row['s']}, not 0"):
            return problems
    return problems
