"""The click events' monthly partitions on PostgreSQL: made by the migration, created ahead
idempotently (the daily beat task), an event lands in its month's partition (or the default
one, whose rows move once their month is created), an ended month can be detached."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from io import StringIO

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from exchange.errors import ExchangeError as E
from exchange.models import ClickEvent, Ingest, TrackingLink
from exchange.services import clicks
from exchange.services.partitions import (
    DEFAULT,
    click_partition_detach,
    click_partitions,
    click_partitions_ensure,
    month_add,
    month_start,
    partition_name,
    partitioned,
)
from exchange.services.rollup_check import rollups_recount
from huiliu.celery import app
from huiliu.queues import QueueName

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="partitions are PostgreSQL's (make test)"),
]


def _row(link: TrackingLink, at: datetime) -> tuple:
    return (
        uuid.uuid4(), at, link.code, link.pk, link.leg_id, uuid.uuid4(), "v" * 32, "cookie", "", "browser",
        False, "", True, Ingest.DIRECT,
    )  # fmt: skip


def _home(event_id: uuid.UUID) -> str:
    """The partition holding the event."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT tableoid::regclass::text FROM {ClickEvent._meta.db_table} WHERE event_id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def _local(month: date, day: int = 15) -> datetime:
    return datetime(month.year, month.month, day, 12, tzinfo=timezone.get_default_timezone())


def test_the_migration_made_this_month_and_three_ahead_and_a_default():
    assert partitioned()
    attached = {p.name for p in click_partitions() if p.attached}
    this = month_start()
    assert {DEFAULT, *(partition_name(month_add(this, n)) for n in range(4))} <= attached


def test_ensure_is_idempotent_and_creates_only_what_is_missing():
    assert click_partitions_ensure(months_ahead=3) == []
    created = click_partitions_ensure(months_ahead=5)
    assert created == [partition_name(month_add(month_start(), n)) for n in (4, 5)]
    assert click_partitions_ensure(months_ahead=5) == []


def test_ensure_refuses_a_silly_horizon():
    with pytest.raises(ValidationError) as exc:
        click_partitions_ensure(months_ahead=400)
    assert exc.value.error_dict["months_ahead"][0].code == E.INVALID


def test_an_event_in_a_future_month_lands_in_its_partition_and_reads_back(campaign):
    link = TrackingLink.objects.first()
    month = month_add(month_start(), 2)
    row = _row(link, _local(month))
    with connection.cursor():
        assert clicks.events_write([row, _row(link, timezone.now())]) == 2
    assert _home(row[0]) == partition_name(month)
    assert ClickEvent.objects.get(event_id=row[0]).occurred_at == row[1], "the ORM reads across partitions"
    assert clicks.events_write([row]) == 0, "the key holds within the partition"


def test_an_event_beyond_the_partitions_waits_in_the_default_and_moves_when_its_month_is_made(campaign):
    link = TrackingLink.objects.first()
    month = month_add(month_start(), 7)
    row = _row(link, _local(month, 1))
    clicks.events_write([row, _row(link, timezone.now())])
    assert _home(row[0]) == DEFAULT
    created = click_partitions_ensure(months_ahead=7)
    assert partition_name(month) in created
    assert _home(row[0]) == partition_name(month)
    assert ClickEvent.objects.count() == 2 and rollups_recount() == []


def test_an_ended_month_detaches_and_leaves_its_table_for_the_archive(campaign):
    link = TrackingLink.objects.first()
    past = month_add(month_start(), -6)
    assert click_partitions_ensure(months_ahead=0, now=_local(past)) == [partition_name(past)]
    old, recent = _row(link, _local(past)), _row(link, timezone.now())
    clicks.events_write([old, recent])
    assert _home(old[0]) == partition_name(past)

    out = StringIO()
    call_command("click_partitions", "--detach", f"{past:%Y-%m}", stdout=out)
    assert f"Detached {partition_name(past)}" in out.getvalue()
    assert list(ClickEvent.objects.values_list("event_id", flat=True)) == [recent[0]]
    listed = {p.name: p for p in click_partitions()}
    assert listed[partition_name(past)].attached is False, "still in the database, outside the table"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT event_id FROM {partition_name(past)}")
        assert cursor.fetchall() == [(old[0],)]
    assert click_partitions_ensure(months_ahead=0, now=_local(past)) == [], "a detached month is not re-created"
    assert rollups_recount(since=month_start()) == [], "after a detach, check from the attached months"


def test_detaching_a_running_or_unknown_month_is_refused():
    this = month_start()
    with pytest.raises(ValidationError) as exc:
        click_partition_detach(month=this)
    assert exc.value.error_dict["month"][0].code == E.PARTITION_NOT_ENDED
    with pytest.raises(ValidationError) as exc:
        click_partition_detach(month=date(2001, 1, 1))
    assert exc.value.error_dict["month"][0].code == E.PARTITION_UNKNOWN
    with pytest.raises(CommandError, match="ended"):
        call_command("click_partitions", "--detach", f"{this:%Y-%m}", stdout=StringIO())
    with pytest.raises(CommandError, match="YYYY-MM"):
        call_command("click_partitions", "--detach", "last-month", stdout=StringIO())
    assert partition_name(this) in {p.name for p in click_partitions() if p.attached}


def test_the_command_lists_the_partitions():
    out = StringIO()
    call_command("click_partitions", "--ensure", stdout=out)
    text = out.getvalue()
    assert "Created: -" in text
    assert DEFAULT in text and partition_name(month_start()) in text and "attached" in text


def test_the_beat_task_runs_daily_on_the_events_queue_and_expires(settings):
    from exchange.tasks import events_partitions_ensure_task

    assert app.amqp.router.route({}, events_partitions_ensure_task.name)["queue"].name == QueueName.EVENTS
    beat = settings.CELERY_BEAT_SCHEDULE["exchange-click-partitions"]
    assert beat["task"] == events_partitions_ensure_task.name and beat["options"]["expires"]
    assert events_partitions_ensure_task.delay().get() == []
    assert month_start(timezone.now() + timedelta(days=40)) in {
        p.month for p in click_partitions() if p.attached and p.month
    }
