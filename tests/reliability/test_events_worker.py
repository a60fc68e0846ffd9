"""Click events are moved from the Redis stream into PostgreSQL by real Celery workers:

* SIGKILL the worker in the middle of a batch (it has read the entries and is inside its
  INSERT, held there by a row lock this test keeps on one of the batch's event ids) → after a
  restart, every event is stored exactly once;
* two workers flushing the same stream at once, each taking over the other's in-flight
  entries (claim idle time 0, the worst case) → every event stored exactly once.
"""

from __future__ import annotations

import re
import time
import uuid

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection

from exchange import streams
from exchange.models import ClickEvent, TrackingLink
from exchange.services import clicks, tracking
from exchange.tasks import events_flush_task
from huiliu.celery import app
from tests.support.workers import kill_worker, start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]


def _wait(predicate, timeout=60.0, interval=0.1):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return False


@pytest.fixture
def queued(campaign, event_stream):
    """Queue click events the way the redirect does; returns ``queue(n) -> event ids``."""
    if connection.vendor != "postgresql" or not streams.enabled():
        pytest.skip("needs PostgreSQL and Redis (make test)")
    entry = tracking.link_entry(TrackingLink.objects.first().code)

    def queue(n: int) -> list[str]:
        ids = []
        for _ in range(n):
            fields, _visitor, _click = clicks.click_event(
                entry=entry, method="GET", user_agent="Mozilla/5.0", ip="198.51.100.9", cookie=None, referer=""
            )
            streams.append(clicks.wire(fields))
            ids.append(fields["e"])
            queue.times[fields["e"]] = clicks.event_row(fields, "stream")[1]
        return ids

    queue.times = {}

    return queue


@pytest.fixture
def workers(event_stream):
    """Start workers on the test's stream; all stopped at the end."""
    redis.Redis.from_url(settings.REDIS_URL).flushdb()  # no task left from another test
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    started = []

    def start(**env):
        proc = start_worker({"EXCHANGE_EVENTS_STREAM": event_stream, **{k: str(v) for k, v in env.items()}})
        started.append(proc)
        return proc

    yield start
    app.conf.task_always_eager = was_eager
    for proc in started:
        stop_worker(proc)


def _stored_ids() -> list[str]:
    return [u.hex for u in ClickEvent.objects.values_list("event_id", flat=True)]


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def _hold_event_id(event_id: str, occurred_at) -> psycopg.Connection:
    """Another session inserts a row with this event id and time and does not commit: whoever
    inserts the same event next waits on it (the unique key) — a flush held in the middle of
    its batch."""
    db = connection.settings_dict
    blocker = psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    blocker.execute(
        f"INSERT INTO {ClickEvent._meta.db_table} (event_id, occurred_at, code, link_id, leg_id, click_id, visitor_id, "
        "visitor_kind, referrer_host, ua_class, is_bot, bot_reason, outside_window, ingest) "
        "VALUES (%s, %s, 'x', 0, 0, %s, 'x', 'hash', '', 'other', false, '', false, 'direct')",
        [uuid.UUID(hex=event_id), occurred_at, uuid.uuid4()],
    )
    return blocker


def test_worker_killed_mid_batch_loses_nothing_and_stores_nothing_twice(queued, workers):
    ids = queued(3000)
    blocker = _hold_event_id(ids[10], queued.times[ids[10]])  # in the first batch
    env = {"EXCHANGE_EVENTS_BATCH_SIZE": 500, "EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS": 1}
    worker = workers(**env)
    try:
        events_flush_task.delay()
        assert _wait(lambda: _lock_waiters() >= 1), "the worker never reached its INSERT"
        assert streams.backlog().pending == 500, "the batch is read and not acknowledged"
        kill_worker(worker)  # mid-batch: entries read, rows not committed, nothing acknowledged
    finally:
        blocker.rollback()
        blocker.close()
    assert _wait(lambda: _lock_waiters() == 0, timeout=20)
    assert ClickEvent.objects.count() == 0, "the killed batch committed nothing"
    assert streams.backlog().pending == 500, "its entries stay pending on the dead consumer"

    workers(**env)
    deadline = time.time() + 90
    while time.time() < deadline and ClickEvent.objects.count() < len(ids):
        events_flush_task.delay()  # what beat does every few seconds
        time.sleep(1.5)
    stored = _stored_ids()
    assert sorted(stored) == sorted(ids), "every event stored, exactly once"
    backlog = streams.backlog()
    assert (backlog.length, backlog.pending) == (0, 0)


def test_two_workers_flushing_one_stream_store_each_event_once(queued, workers):
    ids = queued(6000)
    env = {"EXCHANGE_EVENTS_BATCH_SIZE": 200, "EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS": 0}
    pair = [workers(**env), workers(**env)]
    deadline = time.time() + 120
    while time.time() < deadline and streams.backlog().length:
        events_flush_task.delay()
        events_flush_task.delay()
        time.sleep(0.5)
    assert _wait(lambda: ClickEvent.objects.count() >= len(ids), timeout=30)
    time.sleep(1)  # any straggling batch of a worker commits now or never
    stored = _stored_ids()
    assert len(stored) == len(set(stored)) == len(ids) and set(stored) == set(ids)
    read_by = []
    for proc in pair:
        stop_worker(proc)
        log = proc.stdout.read()
        read_by.append(sum(int(n) for n in re.findall(r"events_flush_task\[[^\]]+\] succeeded in [\d.]+s: (\d+)", log)))
    assert all(read_by), f"both workers flushed events: {read_by}"
    assert sum(read_by) >= len(ids), "entries taken over from the other worker are read again (and stored once)"
