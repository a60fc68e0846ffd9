"""The outbox is delivered by a real Celery worker: kill it with SIGKILL while it is sending
e-mails, start another, and every e-mail still goes out exactly once (the claim with a lease,
then the sweep), and every inbox row exists exactly once."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings
from django.db import transaction

from exchange import services
from exchange.models import DomainEvent, EmailDelivery, Notification
from exchange.tasks import outbox_sweep_task
from huiliu.celery import app
from partners.models import Role
from tests.factories import MembershipFactory, UserFactory
from tests.support.slow_email import sending, sent_ids
from tests.support.workers import kill_worker, start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

RECIPIENTS = 8


def _wait(predicate, timeout=40.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_worker_killed_mid_delivery_loses_nothing_and_sends_nothing_twice(
    coffee, toys, coffee_actor, coffee_wecom, place, tmp_path
):
    for i in range(RECIPIENTS):
        MembershipFactory(brand=toys, role=Role.MARKETER, user=UserFactory(username=f"m{i}@toys.example"))
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    env = {
        "EMAIL_BACKEND": "tests.support.slow_email.EmailBackend",
        "TEST_EMAIL_DIR": str(tmp_path),
        "TEST_EMAIL_DELAY": "0.6",
        "EXCHANGE_EMAIL_LEASE_SECONDS": "2",
        "EXCHANGE_OUTBOX_SWEEP_GRACE_SECONDS": "1",
    }
    worker = start_worker(env)
    try:
        with transaction.atomic():
            proposal = services.proposal_create(
                actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
            )
        # the commit enqueued the dispatch; let the worker send a few, then kill it mid-send
        # two delivered, a third in the middle of its send: kill there
        assert _wait(lambda: len(sent_ids(tmp_path)) >= 2 and sending(tmp_path)), "the worker never started sending"
        kill_worker(worker)
        sent_before = len(sent_ids(tmp_path))
        assert sent_before < RECIPIENTS, "the kill must land mid-delivery"

        worker = start_worker({**env, "TEST_EMAIL_DELAY": "0"})
        # the leases of the killed worker expire; the beat sweep restarts what is pending
        deadline = time.time() + 60
        while time.time() < deadline and EmailDelivery.objects.filter(sent_at__isnull=True).exists():
            time.sleep(2.2)
            outbox_sweep_task.delay()  # what beat does every minute
        assert not EmailDelivery.objects.filter(sent_at__isnull=True).exists(), "an e-mail was lost"
    finally:
        stop_worker(worker)
        app.conf.task_always_eager = was_eager

    ids = sent_ids(tmp_path)
    event = DomainEvent.objects.get(proposal=proposal)
    expected = sorted(f"event-{event.pk}-user-{u}@huiliu" for u in toys.memberships.values_list("user_id", flat=True))
    assert ids == expected, "every recipient exactly once"
    assert Notification.objects.filter(event=event).count() == RECIPIENTS
    assert EmailDelivery.objects.filter(event=event, attempts__gte=2).exists(), "the killed send was retried"
