"""Reads of the exchange, each scoped to the caller (``actor``): a proposal is visible to the
two brands' members and API keys and to platform admins — nobody else."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db.models import Prefetch, Q, QuerySet

from exchange import valuation
from exchange.models import (
    Campaign,
    ChannelRate,
    DomainEvent,
    Notification,
    Placement,
    Proposal,
    ProposalMessage,
    Revision,
    WebhookDelivery,
    WebhookEndpoint,
)
from exchange.states import CLOSED_STATES, OPEN_STATES
from partners.actors import EDIT_ROLES, Actor
from partners.models import ApiKeyScope, Brand, Channel, Role


# --- visibility (one rule, used by every surface) ----------------------------------------------
def proposal_visible(*, actor: Actor) -> QuerySet[Proposal]:
    qs = Proposal.objects.select_related("initiator", "counterparty", "initiator__category", "counterparty__category")
    if actor.is_admin:
        return qs
    ids = actor.brand_ids
    if not ids:
        return qs.none()
    return qs.filter(Q(initiator_id__in=ids) | Q(counterparty_id__in=ids))


def revision_visible(*, actor: Actor) -> QuerySet[Revision]:
    return Revision.objects.filter(proposal__in=proposal_visible(actor=actor).values("pk"))


def placement_visible(*, actor: Actor) -> QuerySet[Placement]:
    return Placement.objects.filter(revision__proposal__in=proposal_visible(actor=actor).values("pk"))


def proposal_message_visible(*, actor: Actor) -> QuerySet[ProposalMessage]:
    return ProposalMessage.objects.filter(proposal__in=proposal_visible(actor=actor).values("pk"))


def campaign_visible(*, actor: Actor) -> QuerySet[Campaign]:
    """A campaign is visible to its two brands' members and API keys and to platform admins
    (the same rule as its proposal's)."""
    qs = Campaign.objects.select_related("brand_a", "brand_b")
    if actor.is_admin:
        return qs
    ids = actor.brand_ids
    if not ids:
        return qs.none()
    return qs.filter(Q(brand_a_id__in=ids) | Q(brand_b_id__in=ids))


def channel_rate_visible(*, actor: Actor) -> QuerySet[ChannelRate]:
    """Benchmark rates are the platform's public reference for every signed-in caller."""
    if not actor.is_authenticated:
        return ChannelRate.objects.none()
    return ChannelRate.objects.all()


def notification_visible(*, actor: Actor) -> QuerySet[Notification]:
    """A person's inbox — only entries of brands they still belong to (a member who left a
    brand loses its notifications with its proposals)."""
    if actor.user is None:
        return Notification.objects.none()
    return Notification.objects.filter(user=actor.user, brand_id__in=actor.brand_ids)


# --- lists --------------------------------------------------------------------------------------
class Direction(StrEnum):
    INCOMING = "incoming"
    OUTGOING = "outgoing"


class Box(StrEnum):
    """The inbox's three tabs."""

    NEEDS_ACTION = "action"
    WAITING = "waiting"
    CLOSED = "closed"


def proposal_list(
    *,
    actor: Actor,
    brand: Brand | None = None,
    state: str | None = None,
    direction: str | None = None,
    counterparty: Brand | None = None,
    needs_my_action: bool | None = None,
    box: str | None = None,
    parties_only: bool = False,
) -> QuerySet[Proposal]:
    """Proposals the caller may see, newest activity first. ``brand`` narrows to one of the
    caller's brands (the side the filters are relative to; default: all of them).
    ``parties_only`` leaves out what a platform admin sees only as an admin (an inbox is one's
    own). Add ``with_revisions`` for the revisions and placements (constant query count)."""
    qs = proposal_visible(actor=actor)
    if parties_only:
        qs = qs.filter(Q(initiator_id__in=actor.brand_ids) | Q(counterparty_id__in=actor.brand_ids))
    mine = {brand.pk} if brand is not None else actor.brand_ids
    if brand is not None:
        qs = qs.filter(Q(initiator=brand) | Q(counterparty=brand))
    if state:
        qs = qs.filter(state=state)
    if direction == Direction.INCOMING:
        qs = qs.filter(counterparty_id__in=mine)
    elif direction == Direction.OUTGOING:
        qs = qs.filter(initiator_id__in=mine)
    if counterparty is not None:
        qs = qs.filter(Q(initiator=counterparty) | Q(counterparty=counterparty))
    if needs_my_action is True:
        qs = qs.filter(state__in=OPEN_STATES, turn_id__in=mine & acting_brand_ids(actor))
    elif box == Box.NEEDS_ACTION:  # the brand's turn (its viewers see what it must answer too)
        qs = qs.filter(state__in=OPEN_STATES, turn_id__in=mine)
    elif needs_my_action is False or box == Box.WAITING:
        qs = qs.filter(state__in=OPEN_STATES).exclude(turn_id__in=mine)
    elif box == Box.CLOSED:
        qs = qs.filter(state__in=CLOSED_STATES)
    return qs.order_by("-updated_at", "-id")


def with_revisions(qs: QuerySet[Proposal]) -> QuerySet[Proposal]:
    """Prefetch every revision with its placements, and the thread (for a proposal page or an
    API list: a constant number of queries however many proposals)."""
    return qs.prefetch_related(
        Prefetch("revisions", queryset=Revision.objects.order_by("number").prefetch_related("placements")),
        Prefetch(
            "messages",
            queryset=ProposalMessage.objects.select_related("author", "author_key").order_by("created_at", "id"),
        ),
    )


def proposal_get(*, actor: Actor, pk: int) -> Proposal | None:
    return with_revisions(proposal_visible(actor=actor)).filter(pk=pk).first()


def current_revision(proposal: Proposal) -> Revision | None:
    """The latest revision (uses the prefetch when present)."""
    revisions = list(proposal.revisions.all())
    return revisions[-1] if revisions else None


def message_list(*, actor: Actor, proposal: Proposal) -> QuerySet[ProposalMessage]:
    return proposal_message_visible(actor=actor).filter(proposal=proposal).select_related("brand", "author")


def channel_rate_list(*, actor: Actor) -> QuerySet[ChannelRate]:
    return channel_rate_visible(actor=actor).order_by("channel_type", "format")


def rate_table() -> dict[tuple[str, str], tuple[int, str]]:
    return {(r.channel_type, r.format): (r.rate_cents, r.unit) for r in ChannelRate.objects.all()}


def channel_options(*, brand: Brand | None = None, brand_id: int | None = None) -> list[valuation.ChannelOption]:
    """The brand's own channels, as the composer and the balance helper see them."""
    pk = brand.pk if brand is not None else brand_id
    return [
        valuation.ChannelOption(c.pk, c.type, c.label, c.size, c.active_rate)
        for c in Channel.objects.filter(brand_id=pk).order_by("type", "label")
    ]


def notification_list(*, actor: Actor, unread_only: bool = False) -> QuerySet[Notification]:
    qs = notification_visible(actor=actor).select_related(
        "event", "event__proposal", "event__proposal__initiator", "event__proposal__counterparty", "brand"
    )
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return qs.order_by("-created_at", "-id")


def unread_count(*, actor: Actor) -> int:
    return notification_visible(actor=actor).filter(read_at__isnull=True).count()


def acting_brand_ids(actor: Actor) -> set[int]:
    """The brands the caller may negotiate for (owners, marketers, write keys — not viewers)."""
    return {brand_id for brand_id, role in actor.roles.items() if role in EDIT_ROLES}


def action_count(*, actor: Actor) -> int:
    """Open proposals waiting for an answer the caller can give."""
    mine = acting_brand_ids(actor)
    if not mine:
        return 0
    return Proposal.objects.filter(state__in=OPEN_STATES, turn_id__in=mine).count()


# --- the matcher's seam -------------------------------------------------------------------------
def open_pairs(brand_ids: list[int] | None) -> Iterable[tuple[int, int]]:
    """Brand pairs with an open proposal (registered with matching's excluded-pair sources, so
    they leave each other's recommendation lists while they negotiate)."""
    qs = Proposal.objects.filter(state__in=OPEN_STATES)
    if brand_ids is not None:
        qs = qs.filter(Q(initiator_id__in=brand_ids) | Q(counterparty_id__in=brand_ids))
    return qs.values_list("initiator_id", "counterparty_id")


def event_list(*, actor: Actor, proposal: Proposal) -> QuerySet[DomainEvent]:
    if not actor.is_admin and not ({proposal.initiator_id, proposal.counterparty_id} & actor.brand_ids):
        return DomainEvent.objects.none()
    return DomainEvent.objects.filter(proposal=proposal).order_by("created_at", "id")


# --- webhooks -----------------------------------------------------------------------------------
def webhook_endpoint_visible(*, actor: Actor) -> QuerySet[WebhookEndpoint]:
    """A brand's endpoints: its owners, its keys holding ``webhooks:manage``, platform admins."""
    qs = WebhookEndpoint.objects.all()
    if actor.is_admin:
        return qs
    key = actor.api_key
    if key is not None:
        if key.is_active and key.has_scope(ApiKeyScope.WEBHOOKS_MANAGE):
            return qs.filter(brand_id=key.brand_id)
        return qs.none()
    owned = [brand_id for brand_id, role in actor.roles.items() if role == Role.OWNER]
    return qs.filter(brand_id__in=owned) if owned else qs.none()


def webhook_endpoint_list(*, actor: Actor, brand: Brand | None = None) -> QuerySet[WebhookEndpoint]:
    qs = webhook_endpoint_visible(actor=actor).select_related("brand")
    if brand is not None:
        qs = qs.filter(brand=brand)
    return qs.order_by("created_at", "id")


def webhook_endpoint_get(*, actor: Actor, pk: int) -> WebhookEndpoint | None:
    return webhook_endpoint_list(actor=actor).filter(pk=pk).first()


def webhook_delivery_visible(*, actor: Actor) -> QuerySet[WebhookDelivery]:
    return WebhookDelivery.objects.filter(endpoint__in=webhook_endpoint_visible(actor=actor).values("pk"))


def webhook_delivery_list(
    *, actor: Actor, endpoint: WebhookEndpoint, state: str | None = None
) -> QuerySet[WebhookDelivery]:
    """The endpoint's log, newest first, with its event and attempts loaded (constant queries)."""
    qs = (
        webhook_delivery_visible(actor=actor)
        .filter(endpoint=endpoint)
        .select_related("endpoint", "event__proposal")
        .prefetch_related("attempt_log")
    )
    if state:
        qs = qs.filter(state=state)
    return qs.order_by("-created_at", "-id")


def webhook_delivery_get(*, actor: Actor, pk: int) -> WebhookDelivery | None:
    return webhook_delivery_visible(actor=actor).select_related("endpoint__brand", "event").filter(pk=pk).first()
