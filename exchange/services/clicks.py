"""Click events: recorded by the redirect, stored exactly once.

* ``click_record`` — what the redirect calls: builds the event (a fresh event id and click id,
  the visitor id, the bot verdict, ``outside_window``), appends it to the Redis stream, or —
  when there is no stream (the embedded default) or Redis fails — writes it straight to the
  database. Returns where to send the visitor.
* ``events_flush`` — moves the stream into PostgreSQL: batches read through the consumer group
  (after taking over what a dead consumer left pending), each written in one transaction
  (COPY into a staging table, ``INSERT … ON CONFLICT (event_id, occurred_at) DO NOTHING``,
  the rollups of exactly the rows inserted), acknowledged only after the commit. A crash anywhere leaves the batch pending to be written again;
  the event id makes the second write a no-op. No click is lost, none is counted twice.
"""

from __future__ import annotations

import logging
import re
import time as _time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from exchange import conf, streams
from exchange.models import BotReason, ClickEvent, Ingest, UaClass, VisitorKind
from exchange.services import rollups
from exchange.services.tracking import LinkEntry, with_click
from exchange.visitors import Visitor, classify_agent, referrer_host, visitor_of
from huiliu import bulk

log = logging.getLogger(__name__)

# The event's columns, in the order of the stored rows and the staging table.
COLUMNS = (
    "event_id",
    "occurred_at",
    "code",
    "link_id",
    "leg_id",
    "click_id",
    "visitor_id",
    "visitor_kind",
    "referrer_host",
    "ua_class",
    "is_bot",
    "bot_reason",
    "outside_window",
    "ingest",
)
SCHEMA = "1"  # the stream entry layout (WIRE); bump when it changes
# An event's fields, in the order they travel through the stream as one tab-separated string:
# schema, event id, time (µs since the epoch), code, link, leg, click id, visitor, visitor kind,
# referrer host, agent class, bot reason, outside the window. A burst, judged by the stream's
# script, travels beside it as the entry's flag ("x").
WIRE = ("s", "e", "t", "c", "l", "g", "k", "v", "vk", "r", "u", "b", "o")
BURST_KEY_SECONDS = 120  # a minute's click counter outlives its minute
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class Click(NamedTuple):
    location: str  # the destination with the click id
    visitor: Visitor
    event: dict[str, str]  # the event's fields (WIRE names)


def wire(fields: Mapping[str, str]) -> str:
    """The event as the stream carries it (no value holds a tab: ids, enums, a host name)."""
    return "\t".join(fields[name] for name in WIRE)


def unwire(entry: Mapping[str, str]) -> dict[str, str]:
    """A stream entry back to the event's fields; a burst flag set by the stream becomes the
    bot reason unless the event already had one."""
    values = entry["d"].split("\t")
    if values[0] != SCHEMA or len(values) != len(WIRE):
        raise ValueError(f"unknown event layout {values[0]!r} with {len(values)} values")
    fields = dict(zip(WIRE, values, strict=True))
    if not fields["b"] and entry.get("x"):
        fields["b"] = entry["x"]
    return fields


# --- recording ---------------------------------------------------------------------------------
def _burst_key(visitor_id: str, now: datetime) -> str:
    return f"exchange:burst:{visitor_id}:{int(now.timestamp()) // 60}"


def _burst(visitor_id: str, now: datetime) -> bool:
    """More than ``EXCHANGE_CLICK_BURST_PER_MINUTE`` clicks from one visitor in this minute,
    counted in the cache (every click counts, flagged or not). A failing cache flags nothing.
    The stream path counts in the same round trip as its XADD instead (``streams.Counted``)."""
    key = _burst_key(visitor_id, now)
    try:
        try:
            count = cache.incr(key)
        except ValueError:  # the minute's first click
            count = 1 if cache.add(key, 1, BURST_KEY_SECONDS) else cache.incr(key)
    except Exception:
        log.warning("burst counter unavailable", exc_info=True)
        return False
    return count > conf.click_burst_per_minute()


def click_event(
    *,
    entry: LinkEntry,
    method: str,
    user_agent: str,
    ip: str,
    cookie: str | None,
    referer: str,
    now: datetime | None = None,
) -> tuple[dict[str, str], Visitor, str]:
    """The event of one click as stream fields (the bot reason from the agent and the method;
    the burst is judged where the click is counted), its visitor, and the click id (hex)."""
    now = now or timezone.now()
    visitor = visitor_of(cookie=cookie, ip=ip, user_agent=user_agent, day=timezone.localdate(now))
    verdict = classify_agent(user_agent)
    reason = verdict.bot_reason
    if not reason and method == "HEAD":
        reason = BotReason.HEAD_REQUEST
    stamp = now.timestamp()
    click_id = uuid.uuid4().hex
    fields = {
        "s": SCHEMA,
        "e": uuid.uuid4().hex,
        "t": str((now - _EPOCH) // timedelta(microseconds=1)),
        "c": entry.code,
        "l": str(entry.link_id),
        "g": str(entry.leg_id),
        "k": click_id,
        "v": visitor.id,
        "vk": str(visitor.kind),
        "r": referrer_host(referer).replace("\t", ""),
        "u": str(verdict.ua_class),
        "b": str(reason),
        "o": "0" if entry.starts_ts <= stamp < entry.ends_ts else "1",
    }
    return fields, visitor, click_id


def click_record(
    *,
    entry: LinkEntry,
    method: str,
    user_agent: str,
    ip: str,
    cookie: str | None,
    referer: str,
    now: datetime | None = None,
) -> Click:
    """Record one click on ``entry`` (stream first, else the database) and say where to send
    the visitor. Never raises for Redis: a click is answered whatever the stream does."""
    now = now or timezone.now()
    fields, visitor, click_id = click_event(
        entry=entry, method=method, user_agent=user_agent, ip=ip, cookie=cookie, referer=referer, now=now
    )
    stored = False
    if streams.enabled():
        counted = streams.Counted(
            _burst_key(visitor.id, now), BURST_KEY_SECONDS, conf.click_burst_per_minute(), BotReason.BURST
        )
        try:
            streams.append(wire(fields), counted=counted)
            stored = True
        except streams.StreamUnavailable:
            log.warning("event stream unavailable: writing click %s straight to the database", fields["e"])
    if not stored:
        if not fields["b"] and _burst(visitor.id, now):
            fields["b"] = BotReason.BURST
        event_store_direct(fields)
    return Click(with_click(entry.destination, click_id), visitor, fields)


_BOT_REASONS, _VISITOR_KINDS, _UA_CLASSES = (frozenset(e.values) for e in (BotReason, VisitorKind, UaClass))


def event_row(fields: Mapping[str, str], ingest: str) -> tuple[Any, ...]:
    """An event's fields → a row in ``COLUMNS`` order (raises KeyError/ValueError when malformed)."""
    reason = fields["b"]
    if reason and reason not in _BOT_REASONS:
        raise ValueError(f"unknown bot reason {reason!r}")
    if fields["vk"] not in _VISITOR_KINDS or fields["u"] not in _UA_CLASSES:
        raise ValueError(f"unknown visitor kind {fields['vk']!r} or agent class {fields['u']!r}")
    return (
        uuid.UUID(hex=fields["e"]),
        _EPOCH + timedelta(microseconds=int(fields["t"])),
        fields["c"][:16],
        int(fields["l"]),
        int(fields["g"]),
        uuid.UUID(hex=fields["k"]),
        fields["v"][:32],
        fields["vk"],
        fields["r"][:255],
        fields["u"],
        bool(reason),
        reason,
        fields["o"] == "1",
        ingest,
    )


def event_store_direct(fields: Mapping[str, str]) -> bool:
    """One event straight into the database with its rollups, in one transaction, idempotent on
    its id (Redis down, or none). Returns True if it was new. A database that fails too is
    logged, not raised: the visitor still gets the redirect."""
    try:
        with transaction.atomic():
            return events_write([event_row(fields, Ingest.DIRECT)]) == 1
    except Exception:
        log.exception("click %s lost: neither the stream nor the database took it", fields.get("e"))
        return False


# --- storing batches -----------------------------------------------------------------------------
CONFLICT = "ON CONFLICT (event_id, occurred_at) DO NOTHING"  # the key the partitions can enforce
_AT = COLUMNS.index("occurred_at")
_LEG, _VISITOR, _BOT = COLUMNS.index("leg_id"), COLUMNS.index("visitor_id"), COLUMNS.index("is_bot")


def _insert_values(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """``INSERT … VALUES … ON CONFLICT DO NOTHING`` one row at a time (PostgreSQL and SQLite
    alike); returns the rows that were new."""
    table = ClickEvent._meta.db_table
    fields = [ClickEvent._meta.get_field(name) for name in COLUMNS]
    sql = f"INSERT INTO {table} ({', '.join(COLUMNS)}) VALUES ({', '.join(['%s'] * len(COLUMNS))}) {CONFLICT}"
    new = []
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(sql, [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)])
            if cursor.rowcount == 1:
                new.append(row)
    return new


def _rollup_rows(new: Sequence[Sequence[Any]]) -> None:
    """The rollups of a few new rows, counted here (one direct click; SQLite's batches)."""
    counts: dict[rollups.Key, dict[str, int]] = {}
    seen = []
    for row in new:
        key = (row[_LEG], rollups.day_of(row[_AT]))
        metric = "filtered_clicks" if row[_BOT] else "clicks"
        counts.setdefault(key, {}).setdefault(metric, 0)
        counts[key][metric] += 1
        if not row[_BOT]:
            seen.append((*key, row[_VISITOR]))
    visitors = {key: {"unique_visitors": n} for key, n in rollups.visitors_add(seen).items()}
    rollups.rollup_add(rollups.deltas_merge(counts, visitors))


def events_write(rows: Sequence[Sequence[Any]]) -> int:
    """Insert rows (``COLUMNS`` order) that are not stored yet and add exactly those to the
    rollups, in the caller's transaction; returns how many were new.

    Counted per leg and day (Asia/Shanghai) of ``occurred_at``: ``clicks`` (not filtered),
    ``filtered_clicks`` (bots, previews, bursts, HEAD), ``unique_visitors`` (first counted
    click of a visitor on that leg and day). A click ``outside_window`` (the placement's window
    had not started or had ended) is counted like any other on the day it happened — the visitor
    really came through the link; the flag stays on the stored event for whoever wants it apart.

    PostgreSQL, several rows: COPY into a staging table, then ``_store_staged`` (only the rows
    really inserted are counted, in SQL). One row, or SQLite: the same conflict rule row by
    row, the few new rows counted here."""
    if not rows:
        return 0
    if connection.vendor != "postgresql" or len(rows) == 1:
        new = _insert_values(rows)
        _rollup_rows(new)
        return len(new)
    cols = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE click_stage ON COMMIT DROP AS SELECT {cols} FROM {ClickEvent._meta.db_table} WITH NO DATA"
        )
    bulk.copy_rows("click_stage", COLUMNS, rows)
    return _store_staged(f"SELECT {cols} FROM click_stage")


def _store_staged(select: str, params: Sequence[Any] = ()) -> int:
    """Insert what ``select`` reads from ``click_stage`` (``COLUMNS`` order) unless stored, and
    add the inserted rows — and only those — to the rollups: ``INSERT … ON CONFLICT DO NOTHING
    RETURNING`` into a second temporary table, aggregated per leg and day in SQL, the visitors
    added set-based (``rollups.visitors_add_select``). Nothing per row in Python, so a replayed
    batch costs one statement and adds nothing. Drops the temporary tables (a caller's outer
    transaction may write another batch)."""
    table = ClickEvent._meta.db_table
    day, day_params = rollups.day_sql("occurred_at")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE click_new (leg_id bigint, day date, is_bot boolean, visitor_id text) ON COMMIT DROP"
        )
        cursor.execute(
            f"WITH ins AS (INSERT INTO {table} ({', '.join(COLUMNS)}) {select} {CONFLICT} "
            "RETURNING leg_id, occurred_at, is_bot, visitor_id) "
            f"INSERT INTO click_new SELECT leg_id, {day}, is_bot, visitor_id FROM ins",
            [*params, *day_params],
        )
        inserted = cursor.rowcount
        if inserted:
            cursor.execute(
                "SELECT leg_id, day, count(*) FILTER (WHERE NOT is_bot), count(*) FILTER (WHERE is_bot) "
                "FROM click_new GROUP BY 1, 2"
            )
            counts = {(int(leg), d): {"clicks": n, "filtered_clicks": f} for leg, d, n, f in cursor.fetchall()}
            new_visitors = rollups.visitors_add_select("SELECT leg_id, day, visitor_id FROM click_new WHERE NOT is_bot")
            visitors = {key: {"unique_visitors": n} for key, n in new_visitors.items()}
            rollups.rollup_add(rollups.deltas_merge(counts, visitors))
        cursor.execute("DROP TABLE click_stage, click_new")
    return inserted


# --- the flush's own path on PostgreSQL: stream entries straight into COPY text ----------------------
# An entry's data is already a tab-separated line in WIRE order. One that is plainly well formed
# (this expression: ids, digits and the enums' values, nothing to escape, no burst flag to merge)
# goes into the COPY text as it is, and SQL converts the columns; any other is decoded and
# checked field by field (``event_row``: malformed ones are dropped) and re-encoded.
_ENUM = "|".join
_WIRE_LINE = re.compile(
    rf"{SCHEMA}\t[0-9a-f]{{32}}\t[0-9]{{1,17}}\t[0-9A-Za-z]{{1,16}}\t[0-9]{{1,18}}\t[0-9]{{1,18}}\t"
    rf"[0-9a-f]{{32}}\t[^\t\n\r\\]{{1,32}}\t(?:{_ENUM(VisitorKind.values)})\t[^\t\n\r\\]{{0,255}}\t"
    rf"(?:{_ENUM(UaClass.values)})\t(?:{_ENUM(BotReason.values)}|)\t[01]"
)
_STAGE_SELECT = (
    "SELECT e::uuid, to_timestamp(t::bigint / 1000000) + (t::bigint %% 1000000) * interval '1 microsecond', c, "
    "l::bigint, g::bigint, k::uuid, v, vk, r, u, b <> '', b, o = '1', %s FROM click_stage"
)


def _line_of(fields: Mapping[str, str]) -> str:
    """A checked event (``event_row`` passed) as a staging line, truncated as ``event_row`` does."""
    cut = {"c": 16, "v": 32, "r": 255}
    return "\t".join(_escape(fields[n][: cut[n]] if n in cut else fields[n]) for n in WIRE)


def _escape(value: str) -> str:
    """COPY text's escapes (huiliu.bulk's rule)."""
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _events_write_lines(lines: Sequence[str]) -> int:
    """``events_write`` for staging lines (PostgreSQL): one COPY of the text, then
    ``_store_staged`` converting the columns in SQL."""
    if not lines:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE click_stage ({', '.join(f'{n} text' for n in WIRE)}) ON COMMIT DROP")
        with cursor.cursor.copy(f"COPY click_stage ({', '.join(WIRE)}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")
    return _store_staged(_STAGE_SELECT, [Ingest.STREAM.value])


@dataclass
class FlushResult:
    read: int = 0  # entries taken from the stream (reclaimed ones included)
    reclaimed: int = 0  # of which taken over from another consumer
    stored: int = 0  # rows new to the database
    malformed: int = 0  # entries dropped because they could not be read (logged)
    batches: int = 0
    seconds: float = field(default=0.0)

    @property
    def duplicates(self) -> int:
        return self.read - self.malformed - self.stored


def events_flush(
    *, consumer: str | None = None, batch_size: int | None = None, max_seconds: float | None = None
) -> FlushResult:
    """Move queued click events from the stream into the database until the stream is empty
    (or ``max_seconds`` pass, checked between batches). Must run outside any transaction: each
    batch commits before it is acknowledged. Returns what it did; nothing when the stream is
    off (events then went straight to the database)."""
    result = FlushResult()
    if not streams.enabled():
        return result
    started = _time.monotonic()
    consumer = consumer or streams.consumer_name()
    size = batch_size or conf.events_batch_size()
    streams.group_ensure()
    while True:
        entries = streams.claim_stale(consumer=consumer, count=size)
        result.reclaimed += len(entries)
        if not entries:
            entries = streams.read_new(consumer=consumer, count=size)
        if not entries:
            break
        rows, ids = [], []
        lines = connection.vendor == "postgresql"  # COPY text straight from the entries
        plain = _WIRE_LINE.fullmatch
        for entry_id, fields in entries:
            ids.append(entry_id)
            data = fields.get("d", "")
            if lines and not fields.get("x") and plain(data):
                rows.append(data)
                continue
            try:
                event = unwire(fields)
                row = event_row(event, Ingest.STREAM)
                rows.append(_line_of(event) if lines else row)
            except (KeyError, ValueError, TypeError):
                result.malformed += 1
                log.error("dropping malformed click event %s: %r", entry_id, fields)
        with transaction.atomic(durable=True):  # committed before the acknowledgement below
            result.stored += _events_write_lines(rows) if lines else events_write(rows)
        streams.ack(ids)
        result.read += len(entries)
        result.batches += 1
        if max_seconds is not None and _time.monotonic() - started >= max_seconds:
            break
    result.seconds = _time.monotonic() - started
    return result


def events_flush_maintain() -> int:
    """Forget consumers of restarted processes (nothing pending, idle an hour)."""
    if not streams.enabled():
        return 0
    streams.group_ensure()
    return streams.consumers_prune()
