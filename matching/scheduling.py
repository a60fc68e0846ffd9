"""When matching work runs: debounced refreshes and queued training runs.

Debounce: ``schedule_brand_refresh`` enqueues at most one refresh per brand per
``MATCHING_REFRESH_DEBOUNCE`` seconds — the first change sets a cache key (``cache.add``)
and schedules the task with that countdown; later changes see the key and do nothing. The
task clears the key (``refresh_started``) before it reads the brand, so a change made while it
runs schedules a new refresh. Five edits in a row → one refresh that sees all five.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache


def _tasks():
    # The one lazy import in matching: the tasks are thin wrappers that import the services at
    # module top, and the services enqueue tasks through this module, so importing the tasks
    # module here at load time would close the cycle services → scheduling → tasks → services.
    from matching import tasks

    return tasks


def refresh_key(brand_id: int | str) -> str:
    return f"matching:refresh:{brand_id}"


def schedule_brand_refresh(brand_id: int) -> bool:
    """Enqueue one debounced refresh of ``brand_id``; False if one is already pending."""
    debounce = settings.MATCHING_REFRESH_DEBOUNCE
    if not cache.add(refresh_key(brand_id), 1, timeout=debounce + 60):
        return False
    _tasks().recommendations_refresh_brand_task.apply_async((brand_id,), countdown=debounce)
    return True


def schedule_full_refresh() -> bool:
    """Enqueue one debounced refresh of every brand; False if one is already pending."""
    debounce = settings.MATCHING_REFRESH_DEBOUNCE
    if not cache.add(refresh_key("all"), 1, timeout=debounce + 600):
        return False
    _tasks().recommendations_refresh_all_task.apply_async(countdown=debounce)
    return True


def refresh_started(brand_id: int | str) -> None:
    """Called by a refresh task before it reads: later changes schedule a new refresh."""
    cache.delete(refresh_key(brand_id))


def schedule_training(run_id: int) -> None:
    """Enqueue the training run ``run_id`` (call after its row is committed)."""
    _tasks().matcher_train_task.delay(run_id)
