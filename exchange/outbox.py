"""Writing to the transactional outbox. Services call ``emit`` inside their transaction; the
dispatch task is enqueued only once that transaction commits, and a beat sweep picks up any
event whose enqueue was lost (a crash between commit and enqueue), so no event is ever lost.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from exchange.models import DomainEvent, EventType, Proposal


def emit(
    *,
    type: str,
    proposal: Proposal | None,
    actor_brand_id: int | None,
    payload: dict[str, Any],
    brand_ids: list[int] | None = None,
) -> DomainEvent:
    """Record one domain event in the caller's transaction (must be inside one). The brands
    concerned are the proposal's two parties, or ``brand_ids`` for an event about brands alone."""
    if proposal is not None:
        brand_ids = sorted({proposal.initiator_id, proposal.counterparty_id})
    brand_ids = sorted(set(brand_ids or []))
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


def brand_status_event(*, sender, brand_id: int, previous: str, status: str, reason: str = "", **kwargs) -> None:
    """Receiver of ``partners.signals.brand_status_changed`` (inside the brand's transaction):
    the change goes out to the brand's own webhook endpoints as ``brand.status_changed``."""
    from partners.models import Brand

    slug = Brand.objects.filter(pk=brand_id).values_list("slug", flat=True).first()
    emit(
        type=EventType.BRAND_STATUS_CHANGED,
        proposal=None,
        actor_brand_id=None,
        brand_ids=[brand_id],
        payload={"brand": slug, "previous": previous, "status": status, "reason": reason},
    )
