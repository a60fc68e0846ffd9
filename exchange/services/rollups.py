"""The only writer of the metrics rollups (``LegDayMetrics``, ``LegDayVisitor``).

Callers add deltas in the transaction that stores the events they count, so the rollups move
exactly when the events do (a rolled-back batch leaves them as they were, a repeated batch that
stores nothing new adds nothing):

* ``rollup_add(deltas)`` — ``{(leg_id, day): {metric: delta}}``; one
  ``INSERT … ON CONFLICT (leg_id, day) DO UPDATE SET m = m + excluded.m`` for all of them
  (PostgreSQL and SQLite alike). Deltas may be negative (a reversed conversion).
* ``visitors_add(seen)`` — ``(leg_id, day, visitor_id)`` triples; returns, per ``(leg_id, day)``,
  how many of them were new that day — what ``unique_visitors`` grows by.
* ``visitors_add_select(sql, params)`` — the same for the triples a ``SELECT`` returns, set-based
  in the database (the click flush: thousands of visitors per batch never travel through Python).
* ``day_of(moment)`` — the rollup day of a UTC time (its date in Asia/Shanghai); ``day_sql``
  the same in PostgreSQL.

Rows are written in key order, so two writers adding to the same days never deadlock.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime

from django.db import connection
from django.utils import timezone

from exchange.models import LegDayMetrics, LegDayVisitor

METRICS = (
    "clicks",
    "filtered_clicks",
    "unique_visitors",
    "new_members",
    "conversions",
    "gmv_cents",
    "delivered_reach",
    "delivered_value_cents",
)
Key = tuple[int, date]
_CHUNK = 500  # rows per statement (SQLite's variable limit, PostgreSQL's plan size)


def day_of(moment: datetime) -> date:
    return timezone.localtime(moment, timezone.get_default_timezone()).date()


def rollup_add(deltas: Mapping[Key, Mapping[str, int]]) -> None:
    """Add ``deltas`` to the legs' daily rows (created at zero when missing), in the caller's
    transaction. Unknown metric names raise ``ValueError`` before anything is written."""
    rows = []
    for (leg_id, day), counts in sorted(deltas.items()):
        unknown = set(counts) - set(METRICS)
        if unknown:
            raise ValueError(f"unknown metrics {sorted(unknown)}")
        values = [int(counts.get(name, 0)) for name in METRICS]
        if any(values):
            rows.append((int(leg_id), day, *values))
    if not rows:
        return
    table = LegDayMetrics._meta.db_table
    columns = ("leg_id", "day", *METRICS)
    updates = ", ".join(f"{m} = {table}.{m} + excluded.{m}" for m in METRICS)
    day_field = LegDayMetrics._meta.get_field("day")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            placeholders = ", ".join(["(" + ", ".join(["%s"] * len(columns)) + ")"] * len(chunk))
            params = []
            for row in chunk:
                params.extend((row[0], day_field.get_db_prep_save(row[1], connection), *row[2:]))
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES {placeholders} "
                f"ON CONFLICT (leg_id, day) DO UPDATE SET {updates}",
                params,
            )


def visitors_add(seen: Iterable[tuple[int, date, str]]) -> dict[Key, int]:
    """Remember visitors per leg and day; returns how many were new per ``(leg_id, day)``."""
    unique = sorted(set((int(leg), day, str(visitor)) for leg, day, visitor in seen))
    new: Counter[Key] = Counter()
    if not unique:
        return {}
    table = LegDayVisitor._meta.db_table
    day_field = LegDayVisitor._meta.get_field("day")
    with connection.cursor() as cursor:
        for start in range(0, len(unique), _CHUNK):
            chunk = unique[start : start + _CHUNK]
            placeholders = ", ".join(["(%s, %s, %s)"] * len(chunk))
            params = []
            for leg, day, visitor in chunk:
                params.extend((leg, day_field.get_db_prep_save(day, connection), visitor))
            cursor.execute(
                f"INSERT INTO {table} (leg_id, day, visitor_id) VALUES {placeholders} "
                "ON CONFLICT (leg_id, day, visitor_id) DO NOTHING RETURNING leg_id, day",
                params,
            )
            for leg, day in cursor.fetchall():
                new[(int(leg), day if isinstance(day, date) else date.fromisoformat(str(day)))] += 1
    return dict(new)


def visitors_add_select(sql: str, params: Sequence[object] = ()) -> dict[Key, int]:
    """``visitors_add`` for the ``(leg_id, day, visitor_id)`` rows of a ``SELECT`` (PostgreSQL):
    one ``INSERT … SELECT DISTINCT … ON CONFLICT DO NOTHING RETURNING``, counted per
    ``(leg_id, day)`` in the same statement."""
    table = LegDayVisitor._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH seen AS (SELECT DISTINCT leg_id, day, visitor_id FROM ({sql}) s ORDER BY 1, 2, 3), "
            f"new AS (INSERT INTO {table} (leg_id, day, visitor_id) SELECT leg_id, day, visitor_id FROM seen "
            "ON CONFLICT (leg_id, day, visitor_id) DO NOTHING RETURNING leg_id, day) "
            "SELECT leg_id, day, count(*) FROM new GROUP BY 1, 2",
            list(params),
        )
        return {(int(leg), day): int(n) for leg, day, n in cursor.fetchall()}


def day_sql(column: str) -> tuple[str, list[str]]:
    """``day_of`` of a timestamp column in PostgreSQL: the SQL and its parameter."""
    return f"({column} AT TIME ZONE %s)::date", [str(timezone.get_default_timezone())]


def deltas_merge(*parts: Mapping[Key, Mapping[str, int]]) -> dict[Key, dict[str, int]]:
    """Several ``{(leg, day): {metric: n}}`` mappings summed into one (for one ``rollup_add``)."""
    out: dict[Key, dict[str, int]] = defaultdict(dict)
    for part in parts:
        for key, counts in part.items():
            row = out[key]
            for name, n in counts.items():
                row[name] = row.get(name, 0) + int(n)
    return dict(out)
