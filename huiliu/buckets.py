"""Token buckets: a burst of ``capacity`` requests, refilled at ``per_minute`` a minute.

A partner system that calls steadily below its rate is never refused; one that bursts may
spend the whole bucket at once, then waits for tokens. Counted in Redis by one Lua script
(atomic across web nodes, on Redis' own clock, so nodes with skewed clocks agree); in the
embedded default (no Redis) in process memory, which is exact for a single process.

``take(key, capacity=, per_minute=)`` returns a ``Bucket``: allowed or not, what remains, and
when a token is next available — what the API's ``RateLimit-*`` headers report.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)

# KEYS[1] the bucket; ARGV capacity, tokens per second. Stored: tokens and the time (µs) they
# were counted. Returns allowed (0/1), tokens left ×1000, microseconds until the next token.
_SCRIPT = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local now = redis.call('TIME')
local t = tonumber(now[1]) * 1000000 + tonumber(now[2])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then tokens = capacity; ts = t end
tokens = math.min(capacity, tokens + math.max(0, t - ts) * rate / 1000000)
local allowed = 0
if tokens >= 1 then tokens = tokens - 1; allowed = 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(t))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000) + 1000)
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) / rate * 1000000) end
return {allowed, math.floor(tokens * 1000), wait}
"""


@dataclass(frozen=True)
class Bucket:
    allowed: bool
    capacity: int
    per_minute: int
    remaining: int  # whole tokens left after this request
    retry_after: int  # seconds until the next token (0 when one is left)

    @property
    def reset(self) -> int:
        """Seconds until the bucket is full again."""
        missing = self.capacity - self.remaining
        return math.ceil(missing * 60 / self.per_minute) if missing > 0 else 0


_local: dict[str, tuple[float, float]] = {}
_local_lock = threading.Lock()
_script = None


def _redis():
    cache = caches[settings.THROTTLE_CACHE]
    client = getattr(cache, "client", None)
    if client is None or not hasattr(client, "get_client"):
        return None, ""
    return client.get_client(write=True), cache.make_key("bucket:")


def _take_local(key: str, capacity: int, rate: float) -> tuple[bool, float, float]:
    now = time.monotonic()
    with _local_lock:
        tokens, ts = _local.get(key, (float(capacity), now))
        tokens = min(capacity, tokens + max(0.0, now - ts) * rate)
        allowed = tokens >= 1
        if allowed:
            tokens -= 1
        _local[key] = (tokens, now)
    return allowed, tokens, 0.0 if tokens >= 1 else (1 - tokens) / rate


def take(key: str, *, capacity: int, per_minute: int) -> Bucket | None:
    """Spend one token of ``key``'s bucket. None when Redis cannot be reached (the caller lets
    the request through: an outage of the counter must not lock every partner out)."""
    global _script
    rate = per_minute / 60.0
    client, prefix = _redis()
    if client is None:
        allowed, tokens, wait = _take_local(key, capacity, rate)
    else:
        try:
            if _script is None:
                _script = client.register_script(_SCRIPT)
            raw_allowed, milli, wait_us = _script(keys=[prefix + key], args=[capacity, rate], client=client)
        except Exception:  # noqa: BLE001 — any Redis failure: let through, logged
            log.warning("rate limit %s: Redis unavailable; request let through", key, exc_info=True)
            return None
        allowed, tokens, wait = bool(raw_allowed), int(milli) / 1000, int(wait_us) / 1_000_000
    return Bucket(
        allowed=allowed,
        capacity=capacity,
        per_minute=per_minute,
        remaining=int(tokens),
        retry_after=0 if tokens >= 1 else max(1, math.ceil(wait)),
    )


def reset_local() -> None:
    with _local_lock:
        _local.clear()
