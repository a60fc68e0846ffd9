"""Stored clicks feed the daily rollups in the same transaction, exactly once: the stream flush
and the direct path (Redis down) alike; a replayed batch adds nothing; a recount from the raw
events agrees (``check_rollups`` fails loudly when it does not)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from exchange import streams
from exchange.models import CampaignPlacement, ClickEvent, Ingest, LegDayMetrics, LegDayVisitor, TrackingLink
from exchange.services import clicks, tracking
from exchange.services.rollup_check import rollups_recount
from exchange.services.rollups import day_of

CHROME = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"
BOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
needs_stream = pytest.mark.skipif(not streams.enabled(), reason="needs REDIS_URL (make test)")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()  # burst counters of earlier tests (the same visitor ids)
    yield
    cache.clear()


@pytest.fixture
def entry(campaign):
    link = TrackingLink.objects.first()
    now = timezone.now()
    CampaignPlacement.objects.filter(pk=link.placement_id).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    tracking.link_memo_clear()
    return tracking.link_entry(link.code)


def record(entry, *, visitor: str | None, ua: str = CHROME, now: datetime | None = None) -> dict[str, str]:
    """One click as the redirect records it; ``visitor`` is the cookie's visitor id."""
    return clicks.click_record(
        entry=entry, method="GET", user_agent=ua, ip="198.51.100.7", cookie=visitor, referer="", now=now
    ).event


def rollup(leg_id: int, day: date) -> tuple[int, int, int]:
    row = LegDayMetrics.objects.filter(leg_id=leg_id, day=day).first()
    return (row.clicks, row.filtered_clicks, row.unique_visitors) if row else (0, 0, 0)


def visitor(n: int) -> str:
    return f"{n:032x}"


def traffic(entry) -> list[dict[str, str]]:
    """Five counted clicks from three visitors (one clicks three times) and two crawler hits."""
    return [
        record(entry, visitor=visitor(1)),
        record(entry, visitor=visitor(1)),
        record(entry, visitor=visitor(1)),
        record(entry, visitor=visitor(2)),
        record(entry, visitor=visitor(3)),
        record(entry, visitor=visitor(4), ua=BOT),
        record(entry, visitor=visitor(5), ua=BOT),
    ]


@needs_stream
def test_the_flush_adds_what_it_stored_to_the_day_of_the_leg(entry):
    traffic(entry)
    assert not LegDayMetrics.objects.exists(), "queued clicks are not counted before they are stored"
    assert clicks.events_flush(batch_size=3).stored == 7
    assert rollup(entry.leg_id, timezone.localdate()) == (5, 2, 3)
    assert LegDayVisitor.objects.filter(leg_id=entry.leg_id).count() == 3, "crawlers are not visitors"
    assert rollups_recount() == []


@needs_stream
def test_a_replayed_batch_leaves_the_rollups_unchanged(entry):
    events = traffic(entry)
    clicks.events_flush()
    before = rollup(entry.leg_id, timezone.localdate())
    for event in events:  # the whole batch again, as after a crash between commit and XACK
        streams.append(clicks.wire(event))
    again = clicks.events_flush()
    assert (again.read, again.stored, again.duplicates) == (7, 0, 7)
    rows = [clicks.event_row(e, Ingest.STREAM) for e in events]
    assert clicks.events_write(rows) == 0, "written straight, the same rows add nothing either"
    assert rollup(entry.leg_id, timezone.localdate()) == before == (5, 2, 3)
    assert ClickEvent.objects.count() == 7 and rollups_recount() == []


@needs_stream
def test_a_batch_half_new_counts_only_its_new_half(entry):
    first = [record(entry, visitor=visitor(n)) for n in (1, 1, 1, 2)]
    clicks.events_flush()
    assert rollup(entry.leg_id, timezone.localdate()) == (4, 0, 2)
    newer = [record(entry, visitor=visitor(2)), record(entry, visitor=visitor(9))]  # queued, not flushed
    rows = [clicks.event_row(e, Ingest.STREAM) for e in first + newer]
    assert clicks.events_write(rows) == 2
    assert rollup(entry.leg_id, timezone.localdate()) == (6, 0, 3), "visitor 2 was already counted today"
    assert clicks.events_flush().stored == 0
    assert rollup(entry.leg_id, timezone.localdate()) == (6, 0, 3)
    assert rollups_recount() == []


def test_the_direct_path_counts_each_click_once(settings, entry):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""  # Redis down or none: every click straight in
    events = traffic(entry)
    assert set(ClickEvent.objects.values_list("ingest", flat=True)) == {Ingest.DIRECT}
    assert rollup(entry.leg_id, timezone.localdate()) == (5, 2, 3)
    assert clicks.event_store_direct(events[0]) is False, "the same event again: nothing added"
    assert rollup(entry.leg_id, timezone.localdate()) == (5, 2, 3)
    assert rollups_recount() == []


def test_a_click_counts_on_its_shanghai_day(settings, entry):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""
    late = datetime(2026, 11, 30, 15, 59, 59, tzinfo=UTC)  # 23:59:59 in Shanghai
    early = datetime(2026, 11, 30, 16, 0, 0, tzinfo=UTC)  # 00:00 on Dec 1 in Shanghai
    record(entry, visitor=visitor(1), now=late)
    record(entry, visitor=visitor(1), now=early)
    assert rollup(entry.leg_id, date(2026, 11, 30)) == (1, 0, 1)
    assert rollup(entry.leg_id, date(2026, 12, 1)) == (1, 0, 1), "a new day: the visitor counts again"


def test_clicks_outside_the_window_are_counted_and_stay_flagged(settings, campaign):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""
    link = TrackingLink.objects.first()  # the fixture's windows start in two days
    tracking.link_memo_clear()
    late = tracking.link_entry(link.code)
    record(late, visitor=visitor(1))
    assert ClickEvent.objects.get().outside_window is True
    assert rollup(link.leg_id, timezone.localdate()) == (1, 0, 1)


def test_the_recount_finds_a_rollup_that_drifted_and_the_command_fails(settings, entry):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""
    traffic(entry)
    out = StringIO()
    call_command("check_rollups", stdout=out)
    assert "agree" in out.getvalue()
    today = timezone.localdate()
    LegDayMetrics.objects.filter(leg_id=entry.leg_id, day=today).update(clicks=4)
    LegDayVisitor.objects.filter(leg_id=entry.leg_id, visitor_id=visitor(3)).delete()
    differences = {(d.metric, d.rollup, d.events) for d in rollups_recount()}
    assert differences == {("clicks", 4, 5), ("visitor_set", 2, 3)}
    out = StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("check_rollups", stdout=out, stderr=StringIO())
    assert exit_.value.code == 1
    assert f"leg {entry.leg_id}, {today.isoformat()}, clicks: rollups 4, events 5" in out.getvalue()
    assert rollups_recount(since=today + timedelta(days=1)) == [], "outside the checked days"


def test_the_recount_sees_events_without_rollups(settings, entry):
    """An event written around the writer (here: the ORM) is what the check exists to catch."""
    ClickEvent.objects.create(
        event_id=uuid.uuid4(),
        occurred_at=timezone.now(),
        code=entry.code,
        link_id=entry.link_id,
        leg_id=entry.leg_id,
        click_id=uuid.uuid4(),
        visitor_id=visitor(7),
        visitor_kind="cookie",
        ua_class="browser",
        ingest=Ingest.DIRECT,
    )
    metrics = {d.metric for d in rollups_recount()}
    assert {"clicks", "unique_visitors", "visitor_set"} <= metrics
    assert day_of(timezone.now()) == timezone.localdate()
