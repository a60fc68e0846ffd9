"""The database's own guard over the ledger (see exchange/models/ledger.py).

PostgreSQL: a deferred constraint trigger checks, at commit, that every transaction's entries
sum to zero per currency and are in their account's currency, and that no transaction is
left without entries; UPDATE and DELETE of entries and transactions raise. (TRUNCATE, which
only an operator or a test's flush issues, is not a row change and is left alone.)
SQLite (the embedded default): UPDATE of entries and transactions raises; the zero sum is
checked by exchange.ledger.posting before anything is written.
"""

from django.db import migrations

PG_FORWARD = """
CREATE OR REPLACE FUNCTION exchange_ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the ledger is append-only: % on % is refused', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$ LANGUAGE plpgsql;

CREATE TRIGGER exchange_ledgerentry_append_only
    BEFORE UPDATE OR DELETE ON exchange_ledgerentry
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_refuse_change();
CREATE TRIGGER exchange_ledgertransaction_append_only
    BEFORE UPDATE OR DELETE ON exchange_ledgertransaction
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_refuse_change();

CREATE OR REPLACE FUNCTION exchange_ledger_check_balanced() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    IF EXISTS (
        SELECT 1 FROM exchange_ledgerentry e JOIN exchange_ledgeraccount a ON a.id = e.account_id
        WHERE e.transaction_id = NEW.transaction_id AND e.currency <> a.currency
    ) THEN
        RAISE EXCEPTION 'ledger transaction %: an entry is not in its account''s currency', NEW.transaction_id
            USING ERRCODE = 'check_violation';
    END IF;
    SELECT currency, SUM(amount_cents) AS total INTO bad
        FROM exchange_ledgerentry WHERE transaction_id = NEW.transaction_id
        GROUP BY currency HAVING SUM(amount_cents) <> 0 LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger transaction % does not balance: % entries sum to %',
            NEW.transaction_id, bad.currency, bad.total USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER exchange_ledgerentry_balanced
    AFTER INSERT ON exchange_ledgerentry DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_check_balanced();

CREATE OR REPLACE FUNCTION exchange_ledger_check_has_entries() RETURNS trigger AS $$
BEGIN
    IF (SELECT COUNT(*) FROM exchange_ledgerentry WHERE transaction_id = NEW.id) < 2 THEN
        RAISE EXCEPTION 'ledger transaction % has fewer than two entries', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER exchange_ledgertransaction_has_entries
    AFTER INSERT ON exchange_ledgertransaction DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION exchange_ledger_check_has_entries();
"""

PG_BACKWARD = """
DROP TRIGGER IF EXISTS exchange_ledgertransaction_has_entries ON exchange_ledgertransaction;
DROP TRIGGER IF EXISTS exchange_ledgerentry_balanced ON exchange_ledgerentry;
DROP TRIGGER IF EXISTS exchange_ledgertransaction_append_only ON exchange_ledgertransaction;
DROP TRIGGER IF EXISTS exchange_ledgerentry_append_only ON exchange_ledgerentry;
DROP FUNCTION IF EXISTS exchange_ledger_check_has_entries();
DROP FUNCTION IF EXISTS exchange_ledger_check_balanced();
DROP FUNCTION IF EXISTS exchange_ledger_refuse_change();
"""

SQLITE_FORWARD = [
    "CREATE TRIGGER exchange_ledgerentry_no_update BEFORE UPDATE ON exchange_ledgerentry "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE on exchange_ledgerentry is refused'); END",
    "CREATE TRIGGER exchange_ledgertransaction_no_update BEFORE UPDATE ON exchange_ledgertransaction "
    "BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: UPDATE on exchange_ledgertransaction is refused'); END",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS exchange_ledgerentry_no_update",
    "DROP TRIGGER IF EXISTS exchange_ledgertransaction_no_update",
]


def forward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FORWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_BACKWARD, params=None)
    elif vendor == "sqlite":
        for sql in SQLITE_BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("exchange", "0013_ledger_settlement_disputes")]

    operations = [migrations.RunPython(forward, backward)]
