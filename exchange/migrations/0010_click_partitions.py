# Click events: unique on (event_id, occurred_at), no index of their own on leg and link, then — on PostgreSQL only — the table rebuilt
# as declaratively partitioned by RANGE (occurred_at), one partition per month (Asia/Shanghai
# month boundaries, the rollups' days) plus a default partition for anything outside them.
# Partitions ahead are created daily by beat (exchange.services.partitions); this migration
# creates those holding existing rows and the current month and three ahead. SQLite keeps the
# plain table. Self-contained on purpose: a migration must not change when the service does.

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
import django.db.models.deletion
from django.db import migrations, models

TABLE = "exchange_clickevent"
MONTHS_AHEAD = 3


def _month_add(month, n):
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _bound(month):
    return datetime(month.year, month.month, 1, tzinfo=ZoneInfo(settings.TIME_ZONE)).isoformat()


def _rebuild(schema_editor, *, partitioned):
    """Rebuild the events table (partitioned or plain) with its rows, keys, indexes and identity."""
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY conname",
            [TABLE],
        )
        constraints = cursor.fetchall()
        keys = {name for name, _type, _def in constraints}
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "ORDER BY indexname",
            [TABLE],
        )
        indexes = [(name, sql) for name, sql in cursor.fetchall() if name not in keys]
        old = f"{TABLE}_unpartitioned" if partitioned else f"{TABLE}_partitioned"
        cursor.execute(f"ALTER TABLE {TABLE} RENAME TO {old}")
        cursor.execute(
            f"CREATE TABLE {TABLE} (LIKE {old} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING STORAGE)"
            + (" PARTITION BY RANGE (occurred_at)" if partitioned else "")
        )
        if partitioned:
            tz = settings.TIME_ZONE
            cursor.execute(
                f"SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE %s)::date FROM {old}", [tz]
            )
            months = {m for (m,) in cursor.fetchall()}
            today = datetime.now(ZoneInfo(tz)).date().replace(day=1)
            months |= {_month_add(today, n) for n in range(MONTHS_AHEAD + 1)}
            cursor.execute(f"CREATE TABLE {TABLE}_default PARTITION OF {TABLE} DEFAULT")
            for month in sorted(months):
                cursor.execute(
                    f"CREATE TABLE {TABLE}_p{month:%Y_%m} PARTITION OF {TABLE} FOR VALUES FROM (%s) TO (%s)",
                    [_bound(month), _bound(_month_add(month, 1))],
                )
        cursor.execute(f"INSERT INTO {TABLE} SELECT * FROM {old}")
        cursor.execute(f"DROP TABLE {old}")  # a partitioned one with its partitions (detached ones stay)
        for name, kind, definition in constraints:
            if kind == "p":
                definition = "PRIMARY KEY (id, occurred_at)" if partitioned else "PRIMARY KEY (id)"
            cursor.execute(f"ALTER TABLE {TABLE} ADD CONSTRAINT {name} {definition}")
        for _name, sql in indexes:
            cursor.execute(sql)
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [TABLE])
        (sequence,) = cursor.fetchone()
        if sequence.rsplit(".", 1)[-1].strip('"') != f"{TABLE}_id_seq":
            cursor.execute(f"ALTER SEQUENCE {sequence} RENAME TO {TABLE}_id_seq")
        cursor.execute(f"SELECT setval('{TABLE}_id_seq', coalesce((SELECT max(id) FROM {TABLE}), 0) + 1, false)")


def partition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=True)


def unpartition(apps, schema_editor):
    _rebuild(schema_editor, partitioned=False)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0007_metrics_rollups_and_event_types"),
    ]

    operations = [
        migrations.AlterField(
            model_name="clickevent",
            name="event_id",
            field=models.UUIDField(verbose_name="event id"),
        ),
        migrations.AddConstraint(
            model_name="clickevent",
            constraint=models.UniqueConstraint(fields=("event_id", "occurred_at"), name="click_event_once"),
        ),
        # Every index is paid by every stored click: leg alone is covered by (leg, occurred_at),
        # nothing reads by link.
        migrations.AlterField(
            model_name="clickevent",
            name="leg",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="clicks",
                to="exchange.campaignleg",
                verbose_name="leg",
            ),
        ),
        migrations.AlterField(
            model_name="clickevent",
            name="link",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="clicks",
                to="exchange.trackinglink",
                verbose_name="tracking link",
            ),
        ),
        migrations.RunPython(partition, unpartition, elidable=False),
    ]
