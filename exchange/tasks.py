"""Celery tasks of the exchange: thin wrappers that take ids and call a service. Delivery tasks
are idempotent (rows claimed before the side effect), so they run with ``acks_late`` and are
safe to redeliver. ``events_*`` tasks go to the ``events`` queue (huiliu.queues.ROUTES)."""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

from exchange.services import (
    campaigns,
    clicks,
    delivery,
    notifications,
    partitions,
    proposals,
    refunds,
    reported,
    settlements,
    stripe_sync,
    webhooks,
)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def outbox_dispatch_task(event_id: int) -> None:
    pending = notifications.event_dispatch(event_id=event_id)
    for delivery_id in pending:
        email_send_task.delay(delivery_id)
    # The deliveries were written by the dispatch (same transaction); start the new ones.
    for delivery_id in webhooks.deliveries_pending(event_id=event_id):
        webhook_deliver_task.delay(delivery_id)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError, SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def email_send_task(delivery_id: int) -> None:
    notifications.email_send(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def outbox_sweep_task() -> None:
    """Beat, every minute: restart whatever an enqueue lost or a dead worker left claimed."""
    events, emails = notifications.outbox_pending()
    for event_id in events:
        outbox_dispatch_task.delay(event_id)
    for delivery_id in emails:
        email_send_task.delay(delivery_id)


@shared_task(ignore_result=True)
def proposals_expire_task() -> int:
    """Beat, hourly: expire proposals nobody answered in time."""
    return proposals.proposals_expire()


@shared_task(ignore_result=True)
def campaigns_advance_task() -> None:
    """Beat, every 5 minutes: campaigns for accepted proposals that lack one, then every due
    campaign one state on (scheduled → live → completed)."""
    campaigns.campaigns_create_missing()
    campaigns.campaigns_advance()


@shared_task(ignore_result=True)
def deliveries_autoconfirm_task() -> int:
    """Beat, hourly: confirm the delivery reports nobody answered within the window."""
    return delivery.deliveries_autoconfirm()


@shared_task(ignore_result=True)
def settlement_defaults_task() -> int:
    """Beat, hourly (queue ``payments``): carry as traffic credit the settlements nobody chose
    (or chose cash and never paid) by their deadline; the payer is told through the outbox."""
    return settlements.settlements_default()


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def settlement_refund_task(refund_id: int) -> None:
    """Queue ``payments``: issue one claimed refund at Stripe. Idempotent (the refund row's
    metadata finds a refund already made; an applied row is left), so a redelivery is safe."""
    refunds.refund_execute(refund_id=refund_id)


@shared_task(ignore_result=True)
def settlement_payments_resume_task() -> int:
    """Beat, every minute (queue ``payments``): finish payments and refunds a dead process left
    claimed between the Stripe call and the database write."""
    return stripe_sync.payments_resume()


@shared_task(ignore_result=True, soft_time_limit=600)
def settlement_reconcile_task() -> int:
    """Beat, nightly (queue ``payments``): compare payments, refunds and ledger cash with Stripe;
    every mismatch is logged as an error (and ``manage.py reconcile_stripe`` prints them)."""
    import logging

    if not stripe_sync.stripe_client.configured():
        return 0
    problems = stripe_sync.reconcile()
    for line in problems:
        logging.getLogger(__name__).error("reconcile_stripe: %s", line)
    return len(problems)


@shared_task(ignore_result=True, soft_time_limit=60)
def events_flush_task() -> int:
    """Beat, every 5 seconds (queue ``events``): move queued click events into the database.
    Not ``acks_late``: the stream, not the task message, holds the work — a worker killed
    mid-batch leaves its entries pending and the next flush takes them over. Returns how many
    events it read (the worker's log shows it)."""
    result = clicks.events_flush(max_seconds=4)
    clicks.events_flush_maintain()
    return result.read


@shared_task(ignore_result=True)
def events_partitions_ensure_task() -> list[str]:
    """Beat, daily (queue ``events``): the click events' monthly partitions exist three months
    ahead (PostgreSQL; nothing elsewhere). Returns the partitions created."""
    return partitions.click_partitions_ensure(months_ahead=3)


@shared_task(ignore_result=True, soft_time_limit=600)
def reported_events_confirm_task() -> int:
    """Beat, hourly: confirm reported orders and new members past their screening period.
    Idempotent (only pending rows move), so a lost or repeated run is harmless."""
    return reported.reported_events_confirm()


@shared_task(
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
    # The request itself times out after WEBHOOK_TIMEOUT_SECONDS (10 s); these only stop a task
    # stuck elsewhere (DNS, the database). A killed task is redelivered; the lease makes it safe.
    soft_time_limit=30,
    time_limit=45,
)
def webhook_deliver_task(delivery_id: int) -> None:
    """One attempt of one webhook delivery. Idempotent by the claim (a redelivered message
    finds the row claimed or settled and does nothing); HTTP failures are not retried here
    but rescheduled on the delivery's own backoff, which the beat below picks up."""
    webhooks.delivery_attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def webhooks_due_task() -> int:
    """Beat, every 30 seconds: start the deliveries whose retry is due, and those a lost
    enqueue or a killed worker left behind (their lease expired); forget previous signing
    secrets past their overlap. Returns how many deliveries were started."""
    webhooks.expired_secrets_clear()
    due = webhooks.deliveries_due()
    for delivery_id in due:
        webhook_deliver_task.delay(delivery_id)
    return len(due)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError, SMTPException, OSError),
    retry_backoff=True,
    max_retries=8,
    ignore_result=True,
)
def webhook_disabled_notify_task(endpoint_id: int) -> None:
    webhooks.endpoint_disabled_notify(endpoint_id=endpoint_id)


__all__ = [
    "campaigns_advance_task",
    "deliveries_autoconfirm_task",
    "settlement_defaults_task",
    "settlement_payments_resume_task",
    "settlement_reconcile_task",
    "settlement_refund_task",
    "email_send_task",
    "events_flush_task",
    "events_partitions_ensure_task",
    "outbox_dispatch_task",
    "outbox_sweep_task",
    "proposals_expire_task",
    "reported_events_confirm_task",
    "webhook_deliver_task",
    "webhook_disabled_notify_task",
    "webhooks_due_task",
]
