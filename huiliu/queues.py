"""The Celery queues, declared once: settings, the Makefile's worker and the tests' worker read them here.

``python -m huiliu.queues`` prints the names comma-separated, for ``celery worker -Q``.
"""

from __future__ import annotations

from enum import StrEnum

from kombu import Queue


class QueueName(StrEnum):
    DEFAULT = "default"
    MATCHING = "matching"  # recommendation refreshes, training runs
    EVENTS = "events"  # exchange event aggregation
    PAYMENTS = "payments"  # exchange settlement
    WEBHOOKS = "webhooks"  # deliveries to partner systems: slow receivers never hold up the rest


QUEUES = tuple(Queue(name.value, routing_key=name.value) for name in QueueName)

# Task name patterns → queue; anything unmatched goes to QueueName.DEFAULT.
ROUTES = {
    "matching.*": {"queue": QueueName.MATCHING.value},
    "exchange.tasks.events_*": {"queue": QueueName.EVENTS.value},
    "exchange.tasks.settlement_*": {"queue": QueueName.PAYMENTS.value},
    "exchange.tasks.webhook_*": {"queue": QueueName.WEBHOOKS.value},
}


def worker_queues() -> str:
    """Every queue, as ``celery worker -Q`` takes them."""
    return ",".join(name.value for name in QueueName)


if __name__ == "__main__":
    print(worker_queues())
