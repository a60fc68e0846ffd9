"""Celery queues are declared once (huiliu.queues) and tasks are routed by them."""

import subprocess
import sys
from pathlib import Path

from huiliu.celery import app
from huiliu.queues import QueueName, worker_queues
from matching import tasks as matching_tasks
from partners import tasks as partners_tasks

ROOT = Path(__file__).resolve().parent.parent


def _queue_of(task_name: str) -> str:
    return app.amqp.router.route({}, task_name)["queue"].name


def test_every_queue_name_is_a_declared_kombu_queue():
    assert {q.name for q in app.conf.task_queues} == {q.value for q in QueueName}
    assert app.conf.task_default_queue == QueueName.DEFAULT


def test_tasks_are_routed_by_the_queue_enum():
    assert _queue_of(matching_tasks.recommendations_refresh_brand_task.name) == QueueName.MATCHING
    assert _queue_of(matching_tasks.matcher_train_task.name) == QueueName.MATCHING
    assert _queue_of(partners_tasks.brand_status_notify.name) == QueueName.DEFAULT
    assert _queue_of("exchange.tasks.events_flush") == QueueName.EVENTS
    assert _queue_of("exchange.tasks.settlement_run") == QueueName.PAYMENTS
    assert _queue_of("exchange.tasks.webhook_deliver_task") == QueueName.WEBHOOKS
    assert _queue_of("exchange.tasks.webhooks_due_task") == QueueName.DEFAULT  # the cheap beat sweep


def test_the_worker_command_line_gets_every_queue_from_the_module():
    printed = subprocess.run(
        [sys.executable, "-m", "huiliu.queues"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert printed == worker_queues() == "default,matching,events,payments,webhooks"


def test_matching_tasks_store_no_result_nobody_reads():
    for task in (
        matching_tasks.recommendations_refresh_brand_task,
        matching_tasks.recommendations_refresh_all_task,
        matching_tasks.matcher_train_task,
    ):
        assert task.ignore_result, task.name


def test_every_beat_entry_expires_rather_than_piling_up():
    from django.conf import settings

    assert {"exchange-outbox-sweep", "exchange-proposals-expire", "matching-refresh-all"} <= set(
        settings.CELERY_BEAT_SCHEDULE
    )
    for name, entry in settings.CELERY_BEAT_SCHEDULE.items():
        assert entry.get("options", {}).get("expires"), name


def test_exchange_delivery_tasks_are_idempotent_late_acks():
    from exchange import tasks as exchange_tasks

    for task in (exchange_tasks.outbox_dispatch_task, exchange_tasks.email_send_task):
        assert task.acks_late and task.reject_on_worker_lost and task.ignore_result, task.name
