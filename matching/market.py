"""The market matrix loaded from the database, cached in memory per process.

Building features for 100,000 brands takes seconds, refreshing one brand must take
milliseconds, so each process keeps the last ``Market`` and a version stamp:

* ``matching:market_version`` (Django cache) is bumped by every ``brand_changed`` /
  ``brands_imported`` signal; the number of approved brands is part of the stamp too.
  When the stamp moved, only brands whose ``updated_at`` is newer than
  the newest one already loaded are re-read and their rows replaced (or removed, if no
  longer approved) — an incremental update, not a rebuild.
* The taxonomy and competition rules (count, newest id) are part of the stamp; a change
  there rebuilds the whole matrix.

Exclusions (blocks either way, dismissals, open swaps) are not cached: they are read fresh
for every refresh (``load_exclusions``), so a new block or dismissal applies at once.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from django.core.cache import cache
from django.db.models import Count, Max, Q

from matching.exclusions import excluded_open_pairs
from matching.features import BrandInput, Market, build_market, replace_rows
from matching.models import Dismissal
from partners import selectors as partner_selectors
from partners.models import Brand, BrandStatus, Category, Channel, CompetitionRule

VERSION_KEY = "matching:market_version"
_lock = threading.Lock()
APPROVED_RECOUNT_SECONDS = 5.0
_now = time.monotonic  # a seam for tests
_cache: dict = {
    "market": None,
    "rules": None,
    "version": None,
    "last_updated": None,
    "approved": None,
    "counted_at": None,
}


def bump_version() -> None:
    """Tell every process its cached market is stale (called from the signal receivers)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 2, timeout=None)


def _version() -> int:
    value = cache.get(VERSION_KEY)
    if value is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        value = cache.get(VERSION_KEY) or 1
    return int(value)


def _rules_stamp() -> tuple:
    rules = CompetitionRule.objects.aggregate(n=Count("id"), last=Max("id"))
    cats = Category.objects.aggregate(n=Count("id"), last=Max("id"))
    return (rules["n"], rules["last"], cats["n"], cats["last"])


def brand_inputs(brand_filter: Q) -> list[BrandInput]:
    """Raw profiles of the matching brands with their channel mix (two queries)."""
    rows = list(
        Brand.objects.filter(brand_filter)
        .order_by("id")
        .values_list(
            "id", "slug", "category_id", "price_tier", "tone_tags", "description", "audience", "active_audience"
        )
    )
    if not rows:
        return []
    channels: dict[int, dict[str, float]] = defaultdict(dict)
    ids = [r[0] for r in rows]
    chan_qs = (
        Channel.objects.filter(brand_id__in=ids)
        if len(ids) < 5000
        else Channel.objects.filter(brand__in=Brand.objects.filter(brand_filter))
    )
    for brand_id, ctype, size, rate in chan_qs.values_list("brand_id", "type", "size", "active_rate"):
        channels[brand_id][ctype] = channels[brand_id].get(ctype, 0.0) + size * rate
    return [
        BrandInput(
            id=i,
            slug=s,
            category_id=c,
            price_tier=t,
            tone_tags=tone or [],
            description=d or "",
            audience=aud or {},
            active_audience=float(a),
            channels=channels.get(i, {}),
        )
        for i, s, c, t, tone, d, aud, a in rows
    ]


def _leaves() -> list[tuple[int, str, str]]:
    return list(Category.objects.filter(is_leaf=True).order_by("code").values_list("id", "name_zh", "name_en"))


def build_from_db() -> Market:
    return build_market(
        brand_inputs(Q(status=BrandStatus.APPROVED)),
        leaves=_leaves(),
        competing=partner_selectors.competing_category_map(),
    )


def get_market() -> Market:
    """The current market (cached per process, updated incrementally)."""
    with _lock:
        # The count of approved brands is in the stamp too, so writes that bypass the
        # partners services and their signals are still picked up. Counting 100,000 rows
        # costs ~20 ms, most of a one-brand refresh, so it is re-taken at most every
        # APPROVED_RECOUNT_SECONDS; service writes and deletions bump _version() at once.
        now, bumped = _now(), _version()
        stale_count = _cache["counted_at"] is None or now - _cache["counted_at"] > APPROVED_RECOUNT_SECONDS
        if stale_count or (_cache["version"] is not None and _cache["version"][0] != bumped):
            _cache["approved"] = Brand.objects.filter(status=BrandStatus.APPROVED).count()
            _cache["counted_at"] = now
        version = (bumped, _cache["approved"])
        rules = _rules_stamp()
        market = _cache["market"]
        if market is None or _cache["rules"] != rules:
            last = Brand.objects.aggregate(last=Max("updated_at"))["last"]
            market = build_from_db()
            _cache.update(market=market, rules=rules, version=version, last_updated=last)
        elif _cache["version"] != version:
            since = _cache["last_updated"]
            changed = Brand.objects.filter(updated_at__gte=since) if since else Brand.objects.all()
            changed_rows = list(changed.values_list("id", "status", "updated_at"))
            approved = [i for i, s, _ in changed_rows if s == BrandStatus.APPROVED]
            gone = [i for i, s, _ in changed_rows if s != BrandStatus.APPROVED and i in market.index]
            inputs = brand_inputs(Q(pk__in=approved)) if approved else []
            replace_rows(market, inputs, remove_ids=gone)
            if len(market.index) != version[1]:
                # Rows deleted outright (e.g. from the Django admin) leave no updated_at
                # behind; the approved count in the stamp notices them, drop them here.
                live = set(Brand.objects.filter(status=BrandStatus.APPROVED).values_list("id", flat=True))
                stale = [i for i in market.index if i not in live]
                if stale:
                    replace_rows(market, [], remove_ids=stale)
            if changed_rows:
                _cache["last_updated"] = max(u for _, _, u in changed_rows)
            _cache["version"] = version
        return market


def reset_cache() -> None:
    with _lock:
        _cache.update(market=None, rules=None, version=None, last_updated=None, approved=None, counted_at=None)


def load_exclusions(brand_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """(brand id, partner id) pairs never to recommend: blocks (both ways), dismissals (by
    the brand that dismissed), and — if ``MATCHING_EXCLUDE_OPEN_PAIRS`` — open swaps
    (``matching.exclusions``)."""
    ids = list(brand_ids) if brand_ids is not None else None
    pairs = set(partner_selectors.blocked_pairs(ids))
    dismissals = Dismissal.objects.all() if ids is None else Dismissal.objects.filter(brand_id__in=ids)
    pairs.update(dismissals.values_list("brand_id", "partner_id"))
    pairs.update(excluded_open_pairs(ids))
    return pairs
