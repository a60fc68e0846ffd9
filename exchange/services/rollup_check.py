"""``rollups_recount``: the click rollups recounted from the stored events and compared — an
operator's check (``manage.py check_rollups``) and the tests' proof that the incremental writers
(the flush, the direct path) count every event exactly once.

Compared per leg and day (Asia/Shanghai): ``clicks``, ``filtered_clicks`` and
``unique_visitors`` of ``LegDayMetrics`` against the events, and ``unique_visitors`` against
the visitor set (``LegDayVisitor``). The other metrics (reported conversions, deliveries) have
other sources and are not recounted here. After a month's partition is detached its events are
gone from the table while its rollups stay: check from the first attached day (``since``).
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from django.db.models import Count, Q
from django.db.models.functions import TruncDate
from django.utils import timezone

from exchange.models import ClickEvent, LegDayMetrics, LegDayVisitor

CHECKED = ("clicks", "filtered_clicks", "unique_visitors")


class Difference(NamedTuple):
    leg_id: int
    day: date
    metric: str
    rollup: int  # what the rollups say
    events: int  # what the stored events say


def rollups_recount(*, since: date | None = None, until: date | None = None) -> list[Difference]:
    """Every (leg, day, metric) where the rollups and the stored events disagree, from ``since``
    to ``until`` (days, inclusive; all when omitted). Empty when they agree."""
    tz = timezone.get_default_timezone()
    events = ClickEvent.objects.annotate(day=TruncDate("occurred_at", tzinfo=tz))
    metrics = LegDayMetrics.objects.all()
    visitors = LegDayVisitor.objects.all()
    if since:
        events, metrics, visitors = (
            events.filter(day__gte=since),
            metrics.filter(day__gte=since),
            visitors.filter(day__gte=since),
        )
    if until:
        events, metrics, visitors = (
            events.filter(day__lte=until),
            metrics.filter(day__lte=until),
            visitors.filter(day__lte=until),
        )
    counted: dict[tuple[int, date], dict[str, int]] = {}
    for row in events.values("leg_id", "day").annotate(
        clicks=Count("id", filter=Q(is_bot=False)),
        filtered_clicks=Count("id", filter=Q(is_bot=True)),
        unique_visitors=Count("visitor_id", filter=Q(is_bot=False), distinct=True),
    ):
        counted[(row["leg_id"], row["day"])] = {m: row[m] for m in CHECKED}
    rolled = {(r["leg_id"], r["day"]): {m: r[m] for m in CHECKED} for r in metrics.values("leg_id", "day", *CHECKED)}
    seen = {(r["leg_id"], r["day"]): r["n"] for r in visitors.values("leg_id", "day").annotate(n=Count("id"))}
    out = []
    zero = dict.fromkeys(CHECKED, 0)
    for key in sorted(set(counted) | set(rolled) | set(seen)):
        have, want = rolled.get(key, zero), counted.get(key, zero)
        for metric in CHECKED:
            if have[metric] != want[metric]:
                out.append(Difference(key[0], key[1], metric, have[metric], want[metric]))
        if seen.get(key, 0) != want["unique_visitors"]:
            out.append(Difference(key[0], key[1], "visitor_set", seen.get(key, 0), want["unique_visitors"]))
    return out
