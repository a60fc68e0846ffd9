"""Monthly partitions of the click events on PostgreSQL (migration 0010 made the table
partitioned by RANGE of ``occurred_at``; SQLite keeps a plain table and these are no-ops).

A month runs from the 1st 00:00 Asia/Shanghai (the rollups' days) to the next; its partition is
``exchange_clickevent_pYYYY_MM``. ``exchange_clickevent_default`` takes any event outside the
created months (a clock far off, a month detached), so an insert never fails for want of a
partition.

* ``click_partitions_ensure(*, months_ahead=3)`` — creates the current month's partition and the
  next ``months_ahead`` if missing (daily beat task; idempotent). Rows the default partition
  already holds for such a month are moved into it, under a lock on the default partition so a
  concurrent flush cannot slip a row between the move and the attach.
* ``click_partitions()`` — every partition, attached or detached, with approximate rows and size.
* ``click_partition_detach(*, month)`` — detaches an ended month: its table stays, with its
  rows, outside the events table (dump it to cold storage, then drop it). The rollups keep its
  counts; the raw events stop being read by the product.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange.errors import ExchangeError as E
from exchange.models import ClickEvent
from exchange.services.common import error

TABLE = ClickEvent._meta.db_table
DEFAULT = f"{TABLE}_default"
_NAME = re.compile(rf"^{TABLE}_p(\d{{4}})_(\d{{2}})$")
_LOCK = 0x48554C49  # pg_advisory_xact_lock key: one ensure or detach at a time


class Partition(NamedTuple):
    name: str
    month: date | None  # the month's first day; None for the default partition
    attached: bool
    rows: int  # PostgreSQL's estimate (exact after ANALYZE)
    bytes: int


def month_add(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_start(moment: datetime | None = None) -> date:
    """The first day of the month (Asia/Shanghai) of ``moment`` (now)."""
    return timezone.localtime(moment or timezone.now(), timezone.get_default_timezone()).date().replace(day=1)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    tz = timezone.get_default_timezone()
    nxt = month_add(month, 1)
    return datetime(month.year, month.month, 1, tzinfo=tz), datetime(nxt.year, nxt.month, 1, tzinfo=tz)


def partition_name(month: date) -> str:
    return f"{TABLE}_p{month:%Y_%m}"


def partitioned() -> bool:
    """The events table is partitioned here (PostgreSQL after migration 0010)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [TABLE])
        row = cursor.fetchone()
    return bool(row) and row[0] == "p"


def _exists(cursor, name: str) -> bool:
    cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
    return cursor.fetchone()[0]


def click_partitions_ensure(*, months_ahead: int = 3, now: datetime | None = None) -> list[str]:
    """Create the partitions of this month and the next ``months_ahead`` that do not exist yet;
    returns the names created (none when they all exist, or off PostgreSQL). A month whose
    table exists but is detached (an operator archived it) is left alone."""
    if not 0 <= months_ahead <= 36:
        raise error("months_ahead", _("Create between 0 and 36 months ahead."), E.INVALID)
    if not partitioned():
        return []
    created = []
    first = month_start(now)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        for n in range(months_ahead + 1):
            month = month_add(first, n)
            name = partition_name(month)
            if _exists(cursor, name):
                continue
            low, high = month_bounds(month)
            # Standalone, filled from the default partition, then attached: CREATE … PARTITION OF
            # would refuse while the default partition holds rows of the month.
            cursor.execute(f"LOCK TABLE {DEFAULT} IN ACCESS EXCLUSIVE MODE")
            cursor.execute(f"CREATE TABLE {name} (LIKE {TABLE} INCLUDING DEFAULTS INCLUDING STORAGE)")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= %s AND occurred_at < %s RETURNING *) "
                f"INSERT INTO {name} SELECT * FROM moved",
                [low, high],
            )
            cursor.execute(f"ALTER TABLE {TABLE} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)", [low, high])
            created.append(name)
    return created


def click_partitions() -> list[Partition]:
    """The events table's partitions (default first, then by month), and detached month tables
    still in the database (their names say the month)."""
    if not partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhrelid = c.oid "
            "AND i.inhparent = to_regclass(%s)), greatest(c.reltuples, 0)::bigint, pg_total_relation_size(c.oid) "
            "FROM pg_class c WHERE c.relkind = 'r' AND c.relnamespace = current_schema()::regnamespace "
            "AND (c.relname = %s OR c.relname LIKE %s)",
            [TABLE, DEFAULT, f"{TABLE}\\_p%"],
        )
        rows = cursor.fetchall()
    out = []
    for name, attached, estimate, size in rows:
        match = _NAME.match(name)
        if name != DEFAULT and not match:
            continue
        month = date(int(match[1]), int(match[2]), 1) if match else None
        out.append(Partition(name, month, attached, int(estimate), int(size)))
    return sorted(out, key=lambda p: (p.month is not None, p.month or date.min))


def click_partition_detach(*, month: date, now: datetime | None = None) -> str:
    """Detach ``month``'s partition (only a month that has ended: a running one still receives
    clicks); returns the table's name, kept in the database for the operator to archive."""
    month = month.replace(day=1)
    if month >= month_start(now):
        raise error("month", _("Only a month that has ended can be detached."), E.PARTITION_NOT_ENDED)
    name = partition_name(month)
    attached = {p.name for p in click_partitions() if p.attached}
    if name not in attached:
        raise error(
            "month",
            _("There is no attached partition for %(month)s.") % {"month": f"{month:%Y-%m}"},
            E.PARTITION_UNKNOWN,
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK])
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
    return name
