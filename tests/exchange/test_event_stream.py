"""The stream path on real Redis: events queued by the redirect are stored once by the flush,
acknowledged and deleted only after the commit; a flush repeated, an entry queued twice, a
crash between commit and acknowledgement, an event written both ways — all stored once; what
a dead consumer left pending is taken over after the idle time (XAUTOCLAIM)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from exchange import streams
from exchange.models import ClickEvent, Ingest, TrackingLink
from exchange.services import clicks, tracking
from huiliu.celery import app
from huiliu.queues import QueueName

pytestmark = pytest.mark.skipif(not streams.enabled(), reason="needs REDIS_URL (make test)")


@pytest.fixture
def entry(campaign):
    link = TrackingLink.objects.first()
    return tracking.link_entry(link.code)


def queue(entry, n: int) -> list[dict[str, str]]:
    """``n`` clicks as the redirect records them (into the stream)."""
    return [
        clicks.click_record(
            entry=entry, method="GET", user_agent="curl/8", ip="198.51.100.1", cookie=None, referer=""
        ).event
        for _ in range(n)
    ]


def test_queued_clicks_reach_the_database_only_through_the_flush_and_once(entry):
    events = queue(entry, 25)
    assert ClickEvent.objects.count() == 0 and streams.backlog().length == 25
    result = clicks.events_flush(batch_size=10)
    assert (result.read, result.stored, result.batches, result.duplicates) == (25, 25, 3, 0)
    assert sorted(e.event_id.hex for e in ClickEvent.objects.all()) == sorted(e["e"] for e in events)
    assert set(ClickEvent.objects.values_list("ingest", flat=True)) == {Ingest.STREAM}
    backlog = streams.backlog()
    assert (backlog.length, backlog.pending) == (0, 0), "acknowledged and deleted after the commit"


def test_a_second_flush_finds_nothing_and_changes_nothing(entry):
    queue(entry, 5)
    clicks.events_flush()
    again = clicks.events_flush()
    assert (again.read, again.stored) == (0, 0)
    assert ClickEvent.objects.count() == 5


def test_an_event_queued_twice_is_stored_once(entry):
    (event,) = queue(entry, 1)
    streams.append(clicks.wire(event))  # e.g. an XADD retried after its answer was lost
    result = clicks.events_flush()
    assert (result.read, result.stored, result.duplicates) == (2, 1, 1)
    assert ClickEvent.objects.count() == 1


def test_an_event_written_directly_and_through_the_stream_is_stored_once(entry):
    (event,) = queue(entry, 1)
    assert clicks.event_store_direct(event) is True  # Redis answered too late: written both ways
    assert clicks.event_store_direct(event) is False
    assert clicks.events_flush().stored == 0
    assert ClickEvent.objects.get().ingest == Ingest.DIRECT


def test_a_crash_after_the_commit_before_the_acknowledgement_stores_nothing_twice(entry, monkeypatch, settings):
    queue(entry, 4)

    def crash(ids):
        raise ConnectionError("killed between commit and XACK")

    with monkeypatch.context() as m:
        m.setattr(streams, "ack", crash)
        with pytest.raises(ConnectionError):
            clicks.events_flush(consumer="crashed")
    assert ClickEvent.objects.count() == 4 and streams.backlog().pending == 4
    settings.EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS = 60
    assert clicks.events_flush(consumer="survivor").read == 0, "not idle long enough: it may still be alive"
    settings.EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS = 0
    result = clicks.events_flush(consumer="survivor")
    assert (result.reclaimed, result.stored, result.duplicates) == (4, 0, 4)
    assert ClickEvent.objects.count() == 4 and streams.backlog().length == 0


def test_entries_pending_on_a_dead_consumer_are_taken_over_after_the_idle_time(entry, settings):
    queue(entry, 6)
    streams.group_ensure()
    dead = streams.read_new(consumer="dead-worker", count=4)  # read, never stored nor acknowledged
    assert len(dead) == 4
    settings.EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS = 60
    first = clicks.events_flush(consumer="alive")
    assert (first.read, first.reclaimed, first.stored) == (2, 0, 2), "only the never-delivered ones"
    assert streams.backlog().pending == 4
    settings.EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS = 0
    second = clicks.events_flush(consumer="alive")
    assert (second.read, second.reclaimed, second.stored) == (4, 4, 4)
    assert ClickEvent.objects.count() == 6
    assert (streams.backlog().length, streams.backlog().pending) == (0, 0)


def test_a_malformed_entry_is_dropped_and_the_rest_stored(entry):
    queue(entry, 2)
    (good,) = queue(entry, 1)
    streams.append(clicks.wire({**good, "e": "not-a-uuid"}))
    streams.append(clicks.wire({**good, "s": "99"}))
    streams.append(clicks.wire({**good, "vk": "a-much-too-long-kind"}))  # would fail the whole batch's INSERT
    streams.append("1\tshort")
    result = clicks.events_flush()
    assert (result.read, result.malformed, result.stored) == (7, 4, 3)
    assert streams.backlog().length == 0


def test_a_batch_with_the_same_event_twice_inserts_it_once(entry, db):
    (event,) = queue(entry, 1)
    row = clicks.event_row(event, Ingest.STREAM)
    other = clicks.event_row({**event, "e": uuid.uuid4().hex}, Ingest.STREAM)
    assert clicks.events_write([row, row, other]) == 2
    assert clicks.events_write([row, other]) == 0


def test_event_rows_round_trip_the_stream_encoding(entry):
    now = timezone.now()
    fields, visitor, click_id = clicks.click_event(
        entry=entry, method="GET", user_agent="", ip="198.51.100.1", cookie=None, referer="https://a.example/x", now=now
    )
    assert clicks.unwire({"d": clicks.wire(fields), "x": "burst"}) == fields, "an agent's reason wins over a burst"
    assert clicks.unwire({"d": clicks.wire({**fields, "b": ""}), "x": "burst"})["b"] == "burst"
    row = dict(zip(clicks.COLUMNS, clicks.event_row(fields, Ingest.STREAM), strict=True))
    assert row["occurred_at"] == now and row["click_id"].hex == click_id and row["visitor_id"] == visitor.id
    assert (row["referrer_host"], row["is_bot"], row["bot_reason"]) == ("a.example", True, "no_agent")
    assert row["outside_window"] is True  # the fixture's windows start in two days
    assert abs(row["occurred_at"] - now) < timedelta(microseconds=1)


def test_flush_is_a_no_op_without_a_stream(settings, entry):
    settings.EXCHANGE_EVENTS_REDIS_URL = ""
    assert clicks.events_flush().read == 0


def test_the_flush_command_reports_what_it_stored(entry):
    queue(entry, 3)
    out = StringIO()
    call_command("flush_events", stdout=out)
    assert "3 events read (0 taken over), 3 stored, 0 already stored, 0 malformed" in out.getvalue()
    assert "0 still queued" in out.getvalue()
    assert ClickEvent.objects.count() == 3


def test_the_flush_task_runs_on_the_events_queue_on_a_beat_that_expires(settings, entry):
    from exchange.tasks import events_flush_task

    assert app.amqp.router.route({}, events_flush_task.name)["queue"].name == QueueName.EVENTS
    beat = settings.CELERY_BEAT_SCHEDULE["exchange-events-flush"]
    assert beat["task"] == events_flush_task.name and beat["schedule"] <= 10 and beat["options"]["expires"]
    queue(entry, 2)
    events_flush_task.delay()  # eager in the tests
    assert ClickEvent.objects.count() == 2


def test_the_flush_stores_every_field_as_the_redirect_recorded_it(entry):
    """Plain entries go into COPY text as they are and SQL converts them; an odd one (a
    backslash to escape) or a burst-flagged one is decoded in Python — both store the same."""
    plain = queue(entry, 2) + [
        clicks.click_record(
            entry=entry, method="GET", user_agent="Mozilla/5.0 (iPhone) Mobile", ip="198.51.100.2", cookie=None,
            referer="https://m.example.com/a",
        ).event
    ]  # fmt: skip
    odd = {**plain[2], "e": uuid.uuid4().hex, "r": "odd\\host.example"}
    streams.append(clicks.wire(odd))
    burst = {**plain[2], "e": uuid.uuid4().hex}
    streams.append(clicks.wire(burst), counted=streams.Counted(f"test:burst:{burst['e']}", 60, 0, "burst"))
    assert clicks.events_flush().stored == 5
    for fields, reason in [*((e, e["b"]) for e in plain), (odd, odd["b"]), (burst, "burst")]:
        stored = ClickEvent.objects.get(event_id=uuid.UUID(hex=fields["e"]))
        expected = dict(zip(clicks.COLUMNS, clicks.event_row({**fields, "b": reason}, Ingest.STREAM), strict=True))
        assert {c: getattr(stored, c) for c in clicks.COLUMNS} == expected
    assert ClickEvent.objects.get(event_id=uuid.UUID(hex=odd["e"])).referrer_host == "odd\\host.example"
