"""Webhooks delivered by a real Celery worker to a real HTTP server on loopback that verifies
each request with `standardwebhooks` and deduplicates by webhook-id:

* the receiver fails the first attempts of every event, then accepts → every event is accepted
  exactly once, after the retries the schedule allows;
* the worker is killed (SIGKILL) while a request is in flight → a new worker, after the lease
  expires, delivers everything: nothing lost, and the one redelivered request is recognised by
  its unchanged webhook-id.
"""

from __future__ import annotations

import time

import pytest
import redis
from django.db import transaction

from exchange import services
from exchange.models import DomainEvent, EventType, WebhookDelivery, WebhookState
from exchange.services import webhooks as hooks
from exchange.tasks import webhooks_due_task
from huiliu.celery import app
from tests.support.webhook_receiver import start_receiver, stop_receiver
from tests.support.workers import kill_worker, start_worker, stop_worker

pytestmark = [pytest.mark.worker, pytest.mark.reliability, pytest.mark.django_db(transaction=True)]

ENV = {
    "WEBHOOK_ALLOW_LOOPBACK": "1",
    "WEBHOOK_RETRY_SCHEDULE": "1,1,1,1,1",
    "WEBHOOK_LEASE_SECONDS": "2",
    "WEBHOOK_TIMEOUT_SECONDS": "5",
}
MESSAGES = 4  # + the proposal itself: 5 events


def _drive_until(predicate, timeout=60.0):
    """Wait for ``predicate``, doing what beat would do every 30 s (here every second)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        webhooks_due_task.delay()
        time.sleep(1.0)
    return predicate()


def _all_delivered(expected: int):
    def check() -> bool:
        states = list(WebhookDelivery.objects.values_list("state", flat=True))
        return len(states) == expected and all(s == WebhookState.SUCCEEDED for s in states)

    return check


@pytest.fixture
def setup(settings, coffee, toys, coffee_actor, coffee_wecom, place):
    settings.WEBHOOK_ALLOW_LOOPBACK = True
    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    receiver = start_receiver()
    endpoint, secret = hooks.endpoint_create(
        actor=coffee_actor,
        brand=coffee,
        url=receiver.url,
        event_types=[EventType.PROPOSAL_CREATED, EventType.PROPOSAL_MESSAGE],
    )
    receiver.secret = secret
    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False

    def produce():
        with transaction.atomic():
            proposal = services.proposal_create(
                actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
            )
        for i in range(MESSAGES):
            with transaction.atomic():
                services.proposal_message_send(actor=coffee_actor, proposal=proposal, body=f"hello {i}")
        return proposal

    yield receiver, produce
    app.conf.task_always_eager = was_eager
    stop_receiver(receiver)


def _expected_ids() -> set[str]:
    return {f"msg_{pk}" for pk in DomainEvent.objects.values_list("pk", flat=True)}


def test_receiver_failing_the_first_attempts_gets_each_event_exactly_once(setup):
    receiver, produce = setup
    receiver.fail_first = 2
    worker = start_worker(ENV)
    try:
        produce()
        assert _drive_until(_all_delivered(MESSAGES + 1)), list(WebhookDelivery.objects.values("state", "attempts"))
    finally:
        stop_worker(worker)
    expected = _expected_ids()
    assert len(expected) == MESSAGES + 1
    assert set(receiver.accepted) == expected and set(receiver.accepted.values()) == {1}
    assert all(r.verified for r in receiver.requests), "every request verifies with standardwebhooks"
    assert {receiver.tries[msg_id] for msg_id in expected} == {3}  # two refusals, then accepted
    assert set(WebhookDelivery.objects.values_list("attempts", flat=True)) == {3}


def test_worker_killed_mid_delivery_loses_nothing(setup):
    receiver, produce = setup
    receiver.delay = 3.0  # slow enough to kill the worker while it waits for an answer
    worker = start_worker(ENV)
    try:
        produce()
        deadline = time.time() + 30
        while time.time() < deadline and not receiver.arrived:
            time.sleep(0.05)
        assert receiver.arrived, "the worker never sent anything"
        kill_worker(worker)
        in_flight = receiver.arrived[0]
        receiver.delay = 0.0
        worker = start_worker(ENV)
        assert _drive_until(_all_delivered(MESSAGES + 1)), list(WebhookDelivery.objects.values("state", "attempts"))
    finally:
        stop_worker(worker)
    expected = _expected_ids()
    assert set(receiver.accepted) == expected and set(receiver.accepted.values()) == {1}
    assert all(r.verified for r in receiver.requests)
    # the request the killed worker was waiting on came again, with the same webhook-id
    assert receiver.arrived.count(in_flight) >= 2
    killed = WebhookDelivery.objects.get(event_id=int(in_flight.removeprefix("msg_")))
    assert killed.attempts >= 2
