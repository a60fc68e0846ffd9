"""The reciprocity ledger: balanced, immutable and idempotent — by the service and, on
PostgreSQL, by the database itself."""

from __future__ import annotations

import subprocess
import sys
import threading
from contextlib import contextmanager

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.db.utils import DatabaseError, IntegrityError

from exchange.ledger.check import ledger_problems
from exchange.ledger.posting import Line, account, ledger_post, ledger_reverse
from exchange.models import AccountKind, LedgerAccount, LedgerEntry, LedgerTransaction, TxnReason
from tests.factories import BrandFactory

pytestmark = pytest.mark.django_db
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the database-level guard is PostgreSQL's (SQLite: the service)"
)


@contextmanager
def guard_off(trigger: str):
    """Set one of the database's ledger triggers aside inside the test's transaction (rolled
    back with it), to show what ``check_ledger`` reports when something got past the database."""
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            # Replica mode skips ordinary triggers (the test user is the superuser); no DDL, so
            # nothing waits on the posting's deferred checks.
            cur.execute("SET session_replication_role = replica")
            try:
                yield
            finally:
                cur.execute("SET session_replication_role = origin")
        else:
            cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = %s", [trigger])
            (sql,) = cur.fetchone()
            cur.execute(f"DROP TRIGGER {trigger}")
            try:
                yield
            finally:
                cur.execute(sql)


def _value(a, b, cents=10_000, key="t:1"):
    return ledger_post(
        key=key,
        reason=TxnReason.DELIVERY,
        lines=[
            Line(account(brand=a, kind=AccountKind.VALUE_DELIVERED), -cents),
            Line(account(brand=b, kind=AccountKind.VALUE_RECEIVED), cents),
        ],
    )


def test_a_balanced_posting_moves_both_accounts_and_keeps_running_balances():
    a, b = BrandFactory(), BrandFactory()
    _value(a, b, 10_000, "t:1")
    _value(a, b, 2_500, "t:2")
    delivered = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    received = account(brand=b, kind=AccountKind.VALUE_RECEIVED)
    delivered.refresh_from_db()
    received.refresh_from_db()
    assert (delivered.balance_cents, delivered.version) == (-12_500, 2)
    assert received.balance_cents == 12_500
    assert list(delivered.entries.order_by("account_version").values_list("balance_after_cents", flat=True)) == [
        -10_000,
        -12_500,
    ]
    assert ledger_problems() == []


def test_an_unbalanced_posting_is_refused_and_writes_nothing():
    a, b = BrandFactory(), BrandFactory()
    with pytest.raises(ValidationError) as err:
        ledger_post(
            key="bad",
            reason=TxnReason.DELIVERY,
            lines=[
                Line(account(brand=a, kind=AccountKind.VALUE_DELIVERED), -100),
                Line(account(brand=b, kind=AccountKind.VALUE_RECEIVED), 99),
            ],
        )
    assert err.value.error_dict["entries"][0].code == "ledger_unbalanced"
    assert not LedgerTransaction.objects.exists() and not LedgerEntry.objects.exists()


def test_value_and_cash_never_balance_each_other():
    a = BrandFactory()
    with pytest.raises(ValidationError) as err:
        ledger_post(
            key="mixed",
            reason=TxnReason.SETTLEMENT,
            lines=[
                Line(account(brand=a, kind=AccountKind.TRAFFIC_CREDIT), -100),  # HLV
                Line(account(brand=None, kind=AccountKind.STRIPE_CLEARING), 100),  # CNY
            ],
        )
    assert err.value.error_dict["entries"][0].code == "ledger_unbalanced"
    assert not LedgerTransaction.objects.exists()


def test_posting_the_same_key_twice_posts_once():
    a, b = BrandFactory(), BrandFactory()
    first = _value(a, b, 500, "delivery:1:v1")
    again = _value(a, b, 500, "delivery:1:v1")
    assert first.created and not again.created and again.txn.pk == first.txn.pk
    assert LedgerEntry.objects.count() == 2


def test_a_reversal_mirrors_the_original_once():
    a, b = BrandFactory(), BrandFactory()
    original = _value(a, b, 700).txn
    rev = ledger_reverse(txn=original)
    assert rev.created and rev.txn.reverses_id == original.pk
    assert ledger_reverse(txn=original).txn.pk == rev.txn.pk
    assert account(brand=a, kind=AccountKind.VALUE_DELIVERED).balance_cents == 0
    with pytest.raises(ValidationError):
        ledger_reverse(txn=rev.txn)
    assert ledger_problems() == []


def test_entries_cannot_be_updated_with_raw_sql():
    a, b = BrandFactory(), BrandFactory()
    entry = _value(a, b).txn.entries.first()
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE exchange_ledgerentry SET amount_cents = amount_cents + 1 WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert LedgerEntry.objects.get(pk=entry.pk).amount_cents == entry.amount_cents


@postgres_only
def test_entries_and_transactions_cannot_be_deleted_with_raw_sql():
    a, b = BrandFactory(), BrandFactory()
    txn = _value(a, b).txn
    for sql in (
        "DELETE FROM exchange_ledgerentry WHERE transaction_id = %s",
        "DELETE FROM exchange_ledgertransaction WHERE id = %s",
    ):
        with pytest.raises((DatabaseError, IntegrityError)) as err, transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql, [txn.pk])
        assert "append-only" in str(err.value)
    assert LedgerEntry.objects.filter(transaction=txn).count() == 2


@postgres_only
def test_the_database_refuses_an_unbalanced_transaction_written_with_raw_sql():
    a, b = BrandFactory(), BrandFactory()
    acc_a = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    acc_b = account(brand=b, kind=AccountKind.VALUE_RECEIVED)
    with pytest.raises((DatabaseError, IntegrityError)) as err, transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO exchange_ledgertransaction (idempotency_key, reason, memo, data, created_at, entry_count) "
            "VALUES ('raw', 'delivery', '', '{}', now(), 2) RETURNING id"
        )
        txn_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO exchange_ledgerentry (transaction_id, account_id, currency, amount_cents, "
            "balance_after_cents, account_version) VALUES (%s, %s, 'HLV', -100, -100, 1), (%s, %s, 'HLV', 90, 90, 1)",
            [txn_id, acc_a.pk, txn_id, acc_b.pk],
        )
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do
    assert "does not balance" in str(err.value)
    assert not LedgerTransaction.objects.filter(idempotency_key="raw").exists()


@postgres_only
def test_the_database_refuses_an_entry_in_another_currency_than_its_account():
    a = BrandFactory()
    hlv = account(brand=a, kind=AccountKind.TRAFFIC_CREDIT)
    cny = account(brand=None, kind=AccountKind.FEES)
    with pytest.raises((DatabaseError, IntegrityError)) as err, transaction.atomic(), connection.cursor() as cur:
        cur.execute(
            "INSERT INTO exchange_ledgertransaction (idempotency_key, reason, memo, data, created_at, entry_count) "
            "VALUES ('raw2', 'fee', '', '{}', now(), 2) RETURNING id"
        )
        txn_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO exchange_ledgerentry (transaction_id, account_id, currency, amount_cents, "
            "balance_after_cents, account_version) VALUES (%s, %s, 'CNY', -100, -100, 1), (%s, %s, 'CNY', 100, 100, 1)",
            [txn_id, hlv.pk, txn_id, cny.pk],
        )
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert "currency" in str(err.value)


def test_check_ledger_reports_a_cached_balance_that_differs_from_the_entries(capsys):
    a, b = BrandFactory(), BrandFactory()
    _value(a, b)
    call_command("check_ledger")
    assert "no differences" in capsys.readouterr().out
    with guard_off("exchange_ledgeraccount_guard"):  # the database would refuse it (below)
        LedgerAccount.objects.filter(brand=a).update(balance_cents=1)  # the cache, not an entry
    with pytest.raises(SystemExit) as exit_:
        call_command("check_ledger")
    assert exit_.value.code == 1
    assert "cached balance 1 but entries sum to -10000" in capsys.readouterr().err
    with guard_off("exchange_ledgeraccount_guard"):
        LedgerAccount.objects.filter(brand=a).update(balance_cents=-10_000)  # leave it sound


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_parallel_posts_on_the_same_accounts_lose_no_update():
    a, b = BrandFactory(), BrandFactory()
    acc_a = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    acc_b = account(brand=b, kind=AccountKind.VALUE_RECEIVED)
    threads, per_thread, errors = 6, 15, []

    def work(n):
        try:
            for i in range(per_thread):
                ledger_post(
                    key=f"par:{n}:{i}",
                    reason=TxnReason.DELIVERY,
                    lines=[Line(acc_a, -(i + 1)), Line(acc_b, i + 1)],
                )
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    acc_a.refresh_from_db()
    expected = threads * sum(range(1, per_thread + 1))
    assert (acc_a.balance_cents, acc_a.version) == (-expected, threads * per_thread)
    assert ledger_problems() == []


def _raw_entry(cur, txn_id, acc, amount, balance_after, version):
    cur.execute(
        "INSERT INTO exchange_ledgerentry (transaction_id, account_id, currency, amount_cents, "
        "balance_after_cents, account_version) VALUES (%s, %s, %s, %s, %s, %s)",
        [txn_id, acc.pk, acc.currency, amount, balance_after, version],
    )


@pytest.mark.parametrize(
    "balance_after, version, why",
    [
        (-10_050, 3, "skips a version"),
        (-999, 2, "running balance that does not add up"),
        (-50, 1, "reuses a version"),
    ],
)
def test_the_database_refuses_an_entry_that_does_not_follow_its_accounts_previous_one(balance_after, version, why):
    a, b = BrandFactory(), BrandFactory()
    txn = _value(a, b).txn  # each account now at version 1
    acc = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic(), connection.cursor() as cur:
        _raw_entry(cur, txn.pk, acc, -50, balance_after, version)
    assert LedgerEntry.objects.filter(account=acc).count() == 1, why


def test_the_database_refuses_a_cached_balance_or_version_no_entry_has():
    a, b = BrandFactory(), BrandFactory()
    _value(a, b)
    acc = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    for change in ({"balance_cents": 0}, {"version": 0, "balance_cents": 0}, {"version": 5}):
        with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
            LedgerAccount.objects.filter(pk=acc.pk).update(**change)
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        LedgerAccount.objects.filter(pk=acc.pk).update(currency="CNY")
    with pytest.raises((DatabaseError, IntegrityError)), transaction.atomic():
        LedgerAccount.objects.create(brand=BrandFactory(), kind=AccountKind.TRAFFIC_CREDIT, currency="HLV", version=1)
    acc.refresh_from_db()
    assert (acc.balance_cents, acc.version, acc.currency) == (-10_000, 1, "HLV")
    assert ledger_problems() == []


@postgres_only
def test_the_database_refuses_entries_added_later_to_a_posted_transaction():
    a, b = BrandFactory(), BrandFactory()
    txn = _value(a, b).txn
    acc_a = account(brand=a, kind=AccountKind.VALUE_DELIVERED)
    acc_b = account(brand=b, kind=AccountKind.VALUE_RECEIVED)
    # A balanced pair that follows both accounts' chains, slipped into an old transaction.
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the posting's own checks, as its commit ran them
        cur.execute("SET CONSTRAINTS ALL DEFERRED")
    with pytest.raises((DatabaseError, IntegrityError)) as err, transaction.atomic(), connection.cursor() as cur:
        _raw_entry(cur, txn.pk, acc_a, -5, -10_005, 2)
        _raw_entry(cur, txn.pk, acc_b, 5, 10_005, 2)
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # what COMMIT would do
    assert "was posted with 2 entries" in str(err.value)
    assert txn.entries.count() == 2


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's test database is in memory: no other process opens it"
)
@pytest.mark.django_db(transaction=True)
def test_check_ledger_run_as_a_command_passes_on_committed_postings_and_fails_on_a_corrupted_ledger():
    """``manage.py check_ledger`` in its own process, over what is committed (as CI runs it)."""
    import os

    a, b = BrandFactory(), BrandFactory()
    _value(a, b, 10_000, "cmd:1")
    _value(a, b, 2_500, "cmd:2")
    ledger_reverse(txn=LedgerTransaction.objects.get(idempotency_key="cmd:2"))
    env = {**os.environ, "DATABASE_URL": _database_url()}
    ok = subprocess.run([sys.executable, "manage.py", "check_ledger"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "no differences" in ok.stdout
    # Corrupted past the database's guards (triggers set aside, as only an operator could).
    with transaction.atomic(), guard_off("exchange_ledgeraccount_guard"):
        LedgerAccount.objects.filter(brand=a).update(balance_cents=7)
    bad = subprocess.run([sys.executable, "manage.py", "check_ledger"], env=env, capture_output=True, text=True)
    with transaction.atomic(), guard_off("exchange_ledgeraccount_guard"):
        LedgerAccount.objects.filter(brand=a).update(balance_cents=-10_000)  # sound again
    assert bad.returncode == 1
    assert "cached balance 7" in bad.stderr


def _database_url() -> str:
    """The URL of the database this test runs on (the test database, not the configured one)."""
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def test_migration_0021_stops_on_a_ledger_that_already_breaks_its_chain():
    import importlib
    from types import SimpleNamespace

    guards = importlib.import_module("exchange.migrations.0021_ledger_chain_guards")
    a, b = BrandFactory(), BrandFactory()
    _value(a, b)
    editor = SimpleNamespace(connection=connection)
    guards._refuse_a_broken_ledger(editor)  # sound: nothing to say
    with guard_off("exchange_ledgeraccount_guard"):
        LedgerAccount.objects.filter(brand=a).update(balance_cents=5)
    with pytest.raises(RuntimeError, match="check_ledger"):
        guards._refuse_a_broken_ledger(editor)
    with guard_off("exchange_ledgeraccount_guard"):
        LedgerAccount.objects.filter(brand=a).update(balance_cents=-10_000)
