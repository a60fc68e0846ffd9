"""Redis stops while clicks continue: every click is still answered (302, fast) and stored —
straight to the database while Redis is frozen (SIGSTOP: the stream's calls time out) or gone
(SIGKILL: refused) — and when Redis returns the redirect goes back to the stream by itself and
the flush drains it. In the end: one row per answered click, none twice, even for the clicks a
frozen Redis took late (written both ways, stored once), and the rollups agree.

A dedicated redis-server on its own port (tests/support/redis_server.py), the redirect served
in-process by the test client with ``EXCHANGE_EVENTS_REDIS_URL`` pointing at it.
"""

from __future__ import annotations

import time
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from exchange import streams
from exchange.models import CampaignPlacement, ClickEvent, Ingest, TrackingLink
from exchange.services import clicks, tracking
from exchange.services.rollup_check import rollups_recount
from tests.support.redis_server import RedisServer

pytestmark = [pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

PHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"


@pytest.fixture
def events_redis(settings, event_stream):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (make test)")
    server = RedisServer()
    server.start()
    settings.EXCHANGE_EVENTS_REDIS_URL = server.url
    streams.reset()
    yield server
    server.stop()
    streams.reset()


@pytest.fixture
def code(campaign):
    link = TrackingLink.objects.first()
    now = timezone.now()
    CampaignPlacement.objects.filter(pk=link.placement_id).update(
        starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1)
    )
    cache.clear()
    tracking.link_memo_clear()
    return link.code


class Clicker:
    """Clicks the link as phones do (each a new visitor), keeping each answer's click id."""

    def __init__(self, client, code: str) -> None:
        self.client, self.code = client, code
        self.click_ids: list[str] = []
        self.slowest = 0.0

    def click(self, n: int) -> None:
        for i in range(n):
            started = time.perf_counter()
            response = self.client.get(
                f"/t/{self.code}", HTTP_USER_AGENT=PHONE, REMOTE_ADDR=f"198.51.{len(self.click_ids) % 250}.{i % 250}"
            )
            self.slowest = max(self.slowest, time.perf_counter() - started)
            assert response.status_code == 302
            self.click_ids.append(dict(parse_qsl(urlsplit(response["Location"]).query))["hl_click"])


def _stream_length() -> int:
    return streams.backlog().length


def _stored_by(ingest: str) -> int:
    return ClickEvent.objects.filter(ingest=ingest).count()


def test_clicks_survive_redis_frozen_then_killed_and_the_stream_resumes(client, code, events_redis, monkeypatch):
    monkeypatch.setattr(streams, "PAUSE_SECONDS", 0.5)  # retry Redis sooner after a failure
    clicker = Clicker(client, code)

    clicker.click(40)  # Redis up: every event goes to the stream, nothing to the database yet
    assert _stream_length() == 40 and ClickEvent.objects.count() == 0
    assert clicks.events_flush().stored == 40

    events_redis.pause()  # frozen: the redirect's calls time out, events go straight in
    clicker.click(30)
    assert _stored_by(Ingest.DIRECT) == 30, "every click answered while Redis was frozen is stored"
    assert clicker.slowest < 2.0, f"a click waited {clicker.slowest:.2f} s on a frozen Redis"
    events_redis.resume()  # it now runs the XADDs it had received: those events are queued too
    time.sleep(0.2)

    events_redis.kill()  # gone: refused at once
    clicker.click(30)
    assert _stored_by(Ingest.DIRECT) == 60

    events_redis.start()  # back on the same port, with its append-only file
    time.sleep(0.6)  # past the pause: the next click tries the stream again
    stream_before = _stream_length()
    clicker.click(40)
    assert _stream_length() == stream_before + 40, "the redirect went back to the stream by itself"
    assert _stored_by(Ingest.DIRECT) == 60

    result = clicks.events_flush()
    assert result.stored == 40, "only the new clicks; the late XADDs of the frozen Redis were stored already"
    assert result.duplicates == stream_before
    backlog = streams.backlog()
    assert (backlog.length, backlog.pending) == (0, 0), "the stream drained"

    stored = [c.hex for c in ClickEvent.objects.values_list("click_id", flat=True)]
    assert len(clicker.click_ids) == 140
    assert len(stored) == len(set(stored)) == 140, "one row per click, none twice"
    assert set(stored) == set(clicker.click_ids), "exactly the clicks answered"
    assert rollups_recount() == []
