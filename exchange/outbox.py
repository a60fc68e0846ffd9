"""Writing to the transactional outbox. Services call ``emit`` inside their transaction; the
dispatch task is enqueued only once that transaction commits, and a beat sweep picks up any
event whose enqueue was lost (a crash between commit and enqueue), so no event is ever lost.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from exchange.models import DomainEvent, Proposal


def emit(*, type: str, proposal: Proposal | None, actor_brand_id: int | None, payload: dict[str, Any]) -> DomainEvent:
    """Record one domain event in the caller's transaction (must be inside one)."""
    brand_ids = sorted({proposal.initiator_id, proposal.counterparty_id}) if proposal is not None else []
    event = DomainEvent.objects.create(
        type=type, proposal=proposal, brand_ids=brand_ids, actor_brand_id=actor_brand_id, payload=payload
    )
    event_id = event.pk

    def _enqueue() -> None:
        # Lazy import: tasks import the services that call emit() (the one documented cycle).
        from exchange.tasks import outbox_dispatch_task

        outbox_dispatch_task.delay(event_id)

    transaction.on_commit(_enqueue)
    return event
