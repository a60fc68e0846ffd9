"""Celery tasks of the matching domain (queue ``matching``): thin wrappers over services.

Debounce: ``schedule_brand_refresh`` enqueues at most one refresh per brand per
``MATCHING_REFRESH_DEBOUNCE`` seconds — the first change sets a cache key (``cache.add``)
and schedules the task with that countdown; later changes see the key and do nothing. The
task clears the key before it reads the brand, so a change made while it runs schedules a
new refresh. Five edits in a row → one refresh that sees all five.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import OperationalError

log = logging.getLogger(__name__)


def _debounce() -> int:
    return int(getattr(settings, "MATCHING_REFRESH_DEBOUNCE", 10))


def refresh_key(brand_id: int | str) -> str:
    return f"matching:refresh:{brand_id}"


def schedule_brand_refresh(brand_id: int) -> bool:
    """Enqueue one debounced refresh of ``brand_id``; False if one is already pending."""
    if not cache.add(refresh_key(brand_id), 1, timeout=_debounce() + 60):
        return False
    recommendations_refresh_brand_task.apply_async((brand_id,), countdown=_debounce())
    return True


def schedule_full_refresh() -> bool:
    if not cache.add(refresh_key("all"), 1, timeout=_debounce() + 600):
        return False
    recommendations_refresh_all_task.apply_async(countdown=_debounce())
    return True


@shared_task(
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
)
def recommendations_refresh_brand_task(brand_id: int) -> int:
    """Idempotent (replaces the brand's rows), so safe to redeliver."""
    from matching.services import recommendations_refresh_brand

    cache.delete(refresh_key(brand_id))
    return recommendations_refresh_brand(brand_id=brand_id)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    reject_on_worker_lost=True,
)
def recommendations_refresh_all_task() -> dict:
    from matching.services import recommendations_refresh_all

    cache.delete(refresh_key("all"))
    stats = recommendations_refresh_all(progress=log.info)
    return {"brands": stats.brands, "rows": stats.rows, "model_version": stats.model_version}


@shared_task(acks_late=True, reject_on_worker_lost=True)
def matcher_train_task(run_id: int) -> dict:
    """Runs a TrainingRun (progress polled on the row). Claims the row, so redelivery is safe."""
    from matching.services import training_run_execute

    run = training_run_execute(run_id=run_id)
    return {"state": run.state, "model": run.model_id, "activated": run.activated}
