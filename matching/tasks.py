"""Celery tasks of the matching domain (queue ``matching``): thin wrappers over services.

When they are enqueued (the refresh debounce, training runs) is ``matching.scheduling``.
Nobody reads their results (the rows they write are the result), so none is stored.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from matching import scheduling, services

log = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=5,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def recommendations_refresh_brand_task(brand_id: int) -> int:
    """Idempotent (replaces the brand's rows), so safe to redeliver."""
    scheduling.refresh_started(brand_id)
    return services.recommendations_refresh_brand(brand_id=brand_id)


@shared_task(
    autoretry_for=(OperationalError, ConnectionError),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
    reject_on_worker_lost=True,
    ignore_result=True,
)
def recommendations_refresh_all_task() -> dict:
    scheduling.refresh_started("all")
    stats = services.recommendations_refresh_all(progress=log.info)
    return {"brands": stats.brands, "rows": stats.rows, "model_version": stats.model_version}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def matcher_train_task(run_id: int) -> dict:
    """Runs a TrainingRun (progress polled on the row). Claims the row, so redelivery is safe."""
    run = services.training_run_execute(run_id=run_id)
    return {"state": run.state, "model": run.model_id, "activated": run.activated}


@shared_task(acks_late=True, reject_on_worker_lost=True, ignore_result=True)
def matcher_retrain_nightly_task() -> dict:
    """Beat (``matching-retrain-nightly``): retrain from every outcome, gate, activate or not."""
    run = services.training_run_nightly()
    if run is None:
        return {"skipped": True}
    return {"state": run.state, "model": run.model_id, "activated": run.activated}
