"""More of the ledger's rules kept by the database itself (after 0014's zero sum and
append-only entries):

* every **entry** follows its account's previous one: version = previous + 1 (the first is 1)
  and balance after = previous balance after + amount (PostgreSQL and SQLite);
* an **account** is created empty (balance 0, version 0), and its cached balance and version
  only ever move to those of its latest entry; its kind, currency and brand never change
  (PostgreSQL and SQLite);
* a **transaction** keeps the number of entries it was posted with (``entry_count``): the
  deferred check refuses, at commit, entries added to it later or missing (PostgreSQL).

Transactions posted before this migration get their entry count from their entries (the
append-only trigger is set aside for that one UPDATE, in this migration's own transaction).
"""

from django.db import migrations, models

PG_FORWARD = """
CREATE OR REPLACE FUNCTION exchange_ledger_entry_chain() RETURNS trigger AS $$
DECLARE
    prev bigint;
BEGIN
    IF NEW.account_version < 1 THEN
        RAISE EXCEPTION 'ledger entry on account %: version % is not a version', NEW.account_id,
            NEW.account_version USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.account_version = 1 THEN
        prev := 0;
    ELSE
        SELECT balance_after_cents INTO prev FROM exchange_ledgerentry
            WHERE account_id = NEW.account_id AND account_version = NEW.account_version - 1;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'ledger entry on account %: version % does not follow an entry', NEW.account_id,
                NEW.account_version USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    IF NEW.balance_after_cents <> prev + NEW.amount_cents THEN
        RAISE EXCEPTION 'ledger entry on account %: balance after % is not % + %', NEW.account_id,
            NEW.balance_after_cents, prev, NEW.amount_cents USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exchange_ledgerentry_chain
    BEFORE INSERT ON exchange_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_entry_chain();

CREATE OR REPLACE FUNCTION exchange_ledger_account_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.balance_cents <> 0 OR NEW.version <> 0 THEN
            RAISE EXCEPTION 'ledger account: a new account starts at balance 0, version 0'
                USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency OR NEW.brand_id IS DISTINCT FROM OLD.brand_id THEN
        RAISE EXCEPTION 'ledger account %: kind, currency and brand never change', OLD.id
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.balance_cents = OLD.balance_cents AND NEW.version = OLD.version THEN
        RETURN NEW;
    END IF;
    IF NOT EXISTS (
        SELECT 1 FROM exchange_ledgerentry
        WHERE account_id = NEW.id AND account_version = NEW.version AND balance_after_cents = NEW.balance_cents
    ) OR EXISTS (
        SELECT 1 FROM exchange_ledgerentry WHERE account_id = NEW.id AND account_version > NEW.version
    ) THEN
        RAISE EXCEPTION 'ledger account %: balance % at version % is not that of its latest entry', OLD.id,
            NEW.balance_cents, NEW.version USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exchange_ledgeraccount_guard
    BEFORE INSERT OR UPDATE ON exchange_ledgeraccount
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_account_guard();

CREATE OR REPLACE FUNCTION exchange_ledger_check_entry_count() RETURNS trigger AS $$
DECLARE
    expected integer;
    actual integer;
BEGIN
    SELECT entry_count INTO expected FROM exchange_ledgertransaction WHERE id = NEW.transaction_id;
    SELECT COUNT(*) INTO actual FROM exchange_ledgerentry WHERE transaction_id = NEW.transaction_id;
    IF actual <> expected THEN
        RAISE EXCEPTION 'ledger transaction % was posted with % entries, has %', NEW.transaction_id, expected, actual
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER exchange_ledgerentry_count
    AFTER INSERT ON exchange_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_check_entry_count();

CREATE OR REPLACE FUNCTION exchange_ledger_check_has_entries() RETURNS trigger AS $$
BEGIN
    IF (SELECT COUNT(*) FROM exchange_ledgerentry WHERE transaction_id = NEW.id) <> NEW.entry_count
       OR NEW.entry_count < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has not the entries it was posted with (% expected)', NEW.id,
            NEW.entry_count USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

PG_BACKFILL = """
ALTER TABLE exchange_ledgertransaction DISABLE TRIGGER exchange_ledgertransaction_append_only;
UPDATE exchange_ledgertransaction t SET entry_count = (
    SELECT COUNT(*) FROM exchange_ledgerentry e WHERE e.transaction_id = t.id
);
ALTER TABLE exchange_ledgertransaction ENABLE TRIGGER exchange_ledgertransaction_append_only;
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS exchange_ledgerentry_count ON exchange_ledgerentry;
DROP TRIGGER IF EXISTS exchange_ledgeraccount_guard ON exchange_ledgeraccount;
DROP TRIGGER IF EXISTS exchange_ledgerentry_chain ON exchange_ledgerentry;
DROP FUNCTION IF EXISTS exchange_ledger_check_entry_count();
DROP FUNCTION IF EXISTS exchange_ledger_account_guard();
DROP FUNCTION IF EXISTS exchange_ledger_entry_chain();
CREATE OR REPLACE FUNCTION exchange_ledger_check_has_entries() RETURNS trigger AS $$
BEGIN
    IF (SELECT COUNT(*) FROM exchange_ledgerentry WHERE transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;
"""

_PREV = (
    "(SELECT p.balance_after_cents FROM exchange_ledgerentry p "
    "WHERE p.account_id = NEW.account_id AND p.account_version = NEW.account_version - 1)"
)
SQLITE_FORWARD = [
    "CREATE TRIGGER exchange_ledgerentry_chain BEFORE INSERT ON exchange_ledgerentry "
    "WHEN NEW.account_version < 1 OR NEW.balance_after_cents IS NOT "
    f"(CASE WHEN NEW.account_version = 1 THEN 0 ELSE {_PREV} END) + NEW.amount_cents "
    "BEGIN SELECT RAISE(ABORT, 'ledger entry does not follow its account''s previous entry'); END",
    "CREATE TRIGGER exchange_ledgeraccount_new BEFORE INSERT ON exchange_ledgeraccount "
    "WHEN NEW.balance_cents <> 0 OR NEW.version <> 0 "
    "BEGIN SELECT RAISE(ABORT, 'ledger account: a new account starts at balance 0, version 0'); END",
    "CREATE TRIGGER exchange_ledgeraccount_guard BEFORE UPDATE ON exchange_ledgeraccount "
    "WHEN NEW.kind <> OLD.kind OR NEW.currency <> OLD.currency OR NEW.brand_id IS NOT OLD.brand_id "
    "OR ((NEW.balance_cents <> OLD.balance_cents OR NEW.version <> OLD.version) AND ("
    "NOT EXISTS (SELECT 1 FROM exchange_ledgerentry e WHERE e.account_id = NEW.id "
    "AND e.account_version = NEW.version AND e.balance_after_cents = NEW.balance_cents) "
    "OR EXISTS (SELECT 1 FROM exchange_ledgerentry e WHERE e.account_id = NEW.id "
    "AND e.account_version > NEW.version))) "
    "BEGIN SELECT RAISE(ABORT, 'ledger account: balance and version are those of its latest entry'); END",
]
SQLITE_BACKFILL = [
    "DROP TRIGGER IF EXISTS exchange_ledgertransaction_no_update",
    "UPDATE exchange_ledgertransaction SET entry_count = "
    "(SELECT COUNT(*) FROM exchange_ledgerentry e WHERE e.transaction_id = exchange_ledgertransaction.id)",
    "CREATE TRIGGER exchange_ledgertransaction_no_update BEFORE UPDATE ON exchange_ledgertransaction "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE on exchange_ledgertransaction is refused'); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS exchange_ledgeraccount_guard",
    "DROP TRIGGER IF EXISTS exchange_ledgeraccount_new",
    "DROP TRIGGER IF EXISTS exchange_ledgerentry_chain",
]


# Rows the new rules would refuse to build on: entries that do not follow their account's
# previous one, and accounts whose cached balance or version is not their latest entry's.
BROKEN_CHAIN = """
SELECT e.id FROM exchange_ledgerentry e
LEFT JOIN exchange_ledgerentry p ON p.account_id = e.account_id AND p.account_version = e.account_version - 1
WHERE (e.account_version = 1 AND e.balance_after_cents <> e.amount_cents)
   OR (e.account_version <> 1 AND (p.id IS NULL OR e.balance_after_cents <> p.balance_after_cents + e.amount_cents))
LIMIT 5
"""
BROKEN_CACHE = """
SELECT a.id FROM exchange_ledgeraccount a
LEFT JOIN (SELECT account_id, MAX(account_version) AS v FROM exchange_ledgerentry GROUP BY account_id) m
       ON m.account_id = a.id
LEFT JOIN exchange_ledgerentry l ON l.account_id = a.id AND l.account_version = m.v
WHERE a.version <> COALESCE(m.v, 0) OR a.balance_cents <> COALESCE(l.balance_after_cents, 0)
LIMIT 5
"""


def _refuse_a_broken_ledger(schema_editor) -> None:
    """Stop before adding the guards if the ledger already breaks them: every later posting to
    such an account would be refused at run time (inside a webhook or a payment). Fix it first
    (``manage.py check_ledger`` says where), then migrate."""
    with schema_editor.connection.cursor() as cur:
        cur.execute(BROKEN_CHAIN)
        entries = [r[0] for r in cur.fetchall()]
        cur.execute(BROKEN_CACHE)
        accounts = [r[0] for r in cur.fetchall()]
    if entries or accounts:
        raise RuntimeError(
            "The ledger does not follow its own chain (entries %s, accounts %s): run `manage.py check_ledger`, "
            "repair what it reports, then migrate again." % (entries, accounts)
        )


def forward(apps, schema_editor):
    _refuse_a_broken_ledger(schema_editor)
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKFILL, params=None)
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKFILL + SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0020_refund_failure_message")]

    operations = [
        migrations.AddField(
            model_name="ledgertransaction",
            name="entry_count",
            field=models.PositiveIntegerField(db_default=0, default=0, verbose_name="entries"),
        ),
        migrations.RunPython(forward, backward),
    ]
