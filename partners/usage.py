"""API-key usage and limits: what a partner system may spend and has spent.

* ``key_rate(key)`` — the key's token bucket: the platform default
  (``API_KEY_RATE_PER_MINUTE``, burst ``API_KEY_BURST``) or the rate a platform admin set for
  its brand (``Brand.api_rate_per_minute``), the burst scaled with it.
* ``usage_count(key_id, error=)`` / ``usage_days(key_id)`` — requests and errors per key and
  Asia/Shanghai day, as counters in the throttle cache (Redis; 40 days), never a log row per
  request. A cache that cannot be reached loses the count, not the request.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta

from django.conf import settings
from django.core.cache import caches
from django.utils import timezone

from partners.models import ApiKey

log = logging.getLogger(__name__)
USAGE_TTL = 40 * 24 * 3600


@dataclass(frozen=True)
class Rate:
    per_minute: int
    burst: int
    raised: bool  # set for the brand by a platform admin


def key_rate(key: ApiKey) -> Rate:
    default = settings.API_KEY_RATE_PER_MINUTE
    raised = key.brand.api_rate_per_minute if key.brand_id else None
    per_minute = raised or default
    burst = max(settings.API_KEY_BURST, round(settings.API_KEY_BURST * per_minute / max(1, default)))
    return Rate(per_minute=per_minute, burst=burst, raised=bool(raised))


def _today() -> date:
    return timezone.localdate()


def _key(key_id: int, day: date, what: str) -> str:
    return f"usage:{key_id}:{day:%Y%m%d}:{what}"


def _incr(cache, name: str) -> None:
    if not cache.add(name, 1, USAGE_TTL):
        try:
            cache.incr(name)
        except ValueError:  # expired between add and incr
            cache.add(name, 1, USAGE_TTL)


def usage_count(key_id: int, *, error: bool = False) -> None:
    cache = caches[settings.THROTTLE_CACHE]
    day = _today()
    try:
        _incr(cache, _key(key_id, day, "req"))
        if error:
            _incr(cache, _key(key_id, day, "err"))
    except Exception:  # noqa: BLE001 — counting must never fail a request
        log.warning("usage counter unavailable for key %s", key_id, exc_info=True)


@dataclass(frozen=True)
class UsageDay:
    day: date
    requests: int
    errors: int


def usage_days(key_id: int, *, days: int = 14) -> list[UsageDay]:
    """The last ``days`` days, newest first, zeros where nothing was counted."""
    days = max(1, min(days, 40))
    cache = caches[settings.THROTTLE_CACHE]
    today = _today()
    span = [today - timedelta(days=n) for n in range(days)]
    names = [_key(key_id, d, w) for d in span for w in ("req", "err")]
    try:
        values = cache.get_many(names)
    except Exception:  # noqa: BLE001
        log.warning("usage counters unavailable for key %s", key_id, exc_info=True)
        values = {}
    return [
        UsageDay(
            day=d,
            requests=int(values.get(_key(key_id, d, "req"), 0)),
            errors=int(values.get(_key(key_id, d, "err"), 0)),
        )
        for d in span
    ]
