"""The only Redis stream code: the click events' way from the redirect to PostgreSQL.

The redirect appends each event (``append``: one ``XADD … MAXLEN ~``). Flushers read it
through one consumer group (``read_new``), write the rows, and only after the commit
acknowledge and delete them (``ack``) — so the stream holds exactly the events not yet
stored, and an entry a dead consumer left pending is taken over by another after
``EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS`` (``claim_stale``: ``XAUTOCLAIM``).

``MAXLEN ~`` is a safety valve against filling Redis's memory when no flusher runs for a
long time; since stored entries are deleted it only ever trims a backlog of that size (then
the oldest unflushed clicks are lost — size it well above the longest outage expected).

The redirect's client fails fast (short timeouts, one immediate retry) and, after a
connection error, leaves the stream alone for ``PAUSE_SECONDS`` so a dead Redis costs each
click nothing; the caller then writes the event straight to the database.

One round trip per click: ``append`` runs a small Lua script that counts the append under a
per-visitor, per-minute key and adds the entry with a flag set when the count passes a limit
(the redirect's burst flag) — counting apart from the XADD would double the redirect's time
spent waiting on Redis. An entry is the event's data (one string, encoded by the caller) and, when
set, that flag.

Flushers read in bulk through a script too (``read_new``): the entries come back packed in
two strings instead of five RESP elements each, which redis-py would parse one by one in Python.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from exchange import conf

GROUP = "flushers"
PAUSE_SECONDS = 2.0
Entry = tuple[str, dict[str, str]]  # (stream id, {"d": data, "x": flag})

_clients: dict[tuple[str, bool, bool], redis.Redis] = {}
_scripts: dict[str, object] = {}
_down_until: dict[str, float] = {}

# KEYS: stream, counter. ARGV: maxlen, counter ttl, limit, flag, data. The entry is the data
# and a flag, set once the counter passes the limit (few fields: fewer bytes to pack and parse).
_APPEND = """
local n = redis.call('INCR', KEYS[2])
if n == 1 then redis.call('EXPIRE', KEYS[2], ARGV[2]) end
if n > tonumber(ARGV[3]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[5], 'x', ARGV[4])
end
return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'd', ARGV[5])
"""

# KEYS: stream. ARGV: group, consumer, count. XREADGROUP's entries packed into two strings — a
# header "id len(d) len(x),…" and the concatenated values — because parsing a reply of 5 RESP
# elements per entry in Python (redis-py) costs more than writing the entry to PostgreSQL.
_READ = """
local reply = redis.call('XREADGROUP', 'GROUP', ARGV[1], ARGV[2], 'COUNT', ARGV[3], 'STREAMS', KEYS[1], '>')
if not reply then return {'', ''} end
local head, body = {}, {}
for i, e in ipairs(reply[1][2]) do
  local d, x = '', ''
  local f = e[2]
  if f then
    for j = 1, #f, 2 do
      if f[j] == 'd' then d = f[j + 1] elseif f[j] == 'x' then x = f[j + 1] end
    end
  end
  head[i] = e[1] .. ' ' .. #d .. ' ' .. #x
  body[i] = d .. x
end
return {table.concat(head, ','), table.concat(body)}
"""


class Counted(NamedTuple):
    """Count an append under ``key`` (kept ``ttl`` seconds); past ``limit`` appends the entry's
    flag is ``flag``."""

    key: str
    ttl: int
    limit: int
    flag: str


class StreamUnavailable(Exception):
    """Redis could not take the event (down, unreachable, too slow): write it elsewhere."""


def enabled() -> bool:
    """Events go through the stream only when a Redis URL is configured for them."""
    return bool(conf.events_redis_url())


def _client(*, fast: bool, raw: bool = False) -> redis.Redis:
    url = conf.events_redis_url()
    key = (url, fast, raw)
    client = _clients.get(key)
    if client is None:
        if fast:  # the redirect: answer the click whatever Redis does
            options = {"socket_connect_timeout": 0.25, "socket_timeout": 0.5, "retry": Retry(NoBackoff(), 1)}
        else:  # flushers: patient, the work waits for them
            options = {"socket_connect_timeout": 5, "socket_timeout": 30}
        client = _clients[key] = redis.Redis.from_url(url, decode_responses=not raw, **options)
    return client


def append(data: str, *, counted: Counted | None = None) -> str:
    """XADD one entry ``{d: data, x: flag}`` (counted and flagged in the same round trip when
    ``counted`` is given, else with no flag); returns its stream id or raises
    ``StreamUnavailable``."""
    url = conf.events_redis_url()
    if time.monotonic() < _down_until.get(url, 0.0):
        raise StreamUnavailable("paused after a recent connection error")
    try:
        client = _client(fast=True)
        if counted is None:
            return client.xadd(conf.events_stream(), {"d": data}, maxlen=conf.events_stream_maxlen(), approximate=True)
        script = _scripts.get(url)
        if script is None:
            script = _scripts[url] = client.register_script(_APPEND)
        return script(
            keys=[conf.events_stream(), counted.key],
            args=[conf.events_stream_maxlen(), counted.ttl, counted.limit, counted.flag, data],
        )
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        _down_until[url] = time.monotonic() + PAUSE_SECONDS
        raise StreamUnavailable(str(exc)) from exc
    except redis.RedisError as exc:
        # A Redis that answers but refuses the write (read-only replica after a failover, out
        # of memory, a wrong key type): the click goes to the database instead, like when it is
        # down — without pausing, since the next write may well succeed.
        raise StreamUnavailable(f"{type(exc).__name__}: {exc}") from exc


def reset() -> None:
    """Forget clients and pauses (tests and forked processes)."""
    _clients.clear()
    _scripts.clear()
    _down_until.clear()


def consumer_name() -> str:
    """Unique per process: a restarted worker is a new consumer, and what the old one left
    pending is reclaimed by idle time, never read twice at once by name."""
    return f"{socket.gethostname()}-{os.getpid()}"


def group_ensure() -> None:
    try:
        _client(fast=False).xgroup_create(conf.events_stream(), GROUP, id="0", mkstream=True)
    except redis.ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise


def read_new(*, consumer: str, count: int) -> list[Entry]:
    """Entries never delivered to any consumer of the group (they become pending on ``consumer``),
    as ``(id, {"d": data, "x": flag})``; bytes that are not UTF-8 are replaced (the caller then
    finds the entry malformed)."""
    client = _client(fast=False, raw=True)
    key = f"read:{conf.events_redis_url()}"
    script = _scripts.get(key)
    if script is None:
        script = _scripts[key] = client.register_script(_READ)
    head, body = script(keys=[conf.events_stream()], args=[GROUP, consumer, count])
    entries: list[Entry] = []
    if not head:
        return entries
    at = 0
    for item in head.split(b","):
        entry_id, n_data, n_flag = item.split(b" ")
        end = at + int(n_data)
        stop = end + int(n_flag)
        entries.append(
            (
                entry_id.decode(),
                {"d": body[at:end].decode(errors="replace"), "x": body[end:stop].decode(errors="replace")},
            )
        )
        at = stop
    return entries


def claim_stale(*, consumer: str, count: int, min_idle_seconds: float | None = None) -> list[Entry]:
    """Take over up to ``count`` entries pending on any consumer (a dead one) for longer than
    the claim idle time. Entries the stream trimmed meanwhile are dropped from the pending list
    by Redis itself and never returned."""
    idle_ms = int(1000 * (conf.events_claim_idle_seconds() if min_idle_seconds is None else min_idle_seconds))
    client = _client(fast=False)
    claimed: list[Entry] = []
    cursor = "0-0"
    while len(claimed) < count:
        reply = client.xautoclaim(
            conf.events_stream(), GROUP, consumer, idle_ms, start_id=cursor, count=count - len(claimed)
        )
        cursor, entries = reply[0], reply[1]
        claimed.extend((entry_id, fields) for entry_id, fields in entries if fields is not None)
        if cursor == "0-0":
            break
    return claimed


def ack(ids: Sequence[str]) -> None:
    """Acknowledge and delete stored entries (one round trip, atomically)."""
    if not ids:
        return
    stream = conf.events_stream()
    pipe = _client(fast=False).pipeline(transaction=True)
    pipe.xack(stream, GROUP, *ids)
    pipe.xdel(stream, *ids)
    pipe.execute()


@dataclass(frozen=True)
class Backlog:
    length: int  # entries not yet stored (pending ones included)
    pending: int  # delivered to a consumer, not yet acknowledged
    consumers: int


def backlog() -> Backlog:
    client = _client(fast=False)
    stream = conf.events_stream()
    try:
        groups = {g["name"]: g for g in client.xinfo_groups(stream)}
    except redis.ResponseError:  # no stream yet
        return Backlog(0, 0, 0)
    group = groups.get(GROUP) or {}
    return Backlog(client.xlen(stream), int(group.get("pending", 0)), int(group.get("consumers", 0)))


def consumers_prune(*, idle_seconds: float = 3600) -> int:
    """Forget consumers (restarted processes) idle that long with nothing pending."""
    client = _client(fast=False)
    stream = conf.events_stream()
    removed = 0
    for info in client.xinfo_consumers(stream, GROUP):
        if int(info["pending"]) == 0 and int(info["idle"]) >= idle_seconds * 1000:
            client.xgroup_delconsumer(stream, GROUP, info["name"])
            removed += 1
    return removed
