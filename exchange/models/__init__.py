"""Exchange models, one module per sub-domain (rates, proposals, outbox and notifications)."""

from exchange.models.outbox import DomainEvent, EmailDelivery, EventType, Notification
from exchange.models.proposals import Placement, Proposal, ProposalMessage, Revision
from exchange.models.rates import ChannelRate, PlacementFormat, PricingUnit, unit_for

__all__ = [
    "ChannelRate",
    "DomainEvent",
    "EmailDelivery",
    "EventType",
    "Notification",
    "Placement",
    "PlacementFormat",
    "PricingUnit",
    "Proposal",
    "ProposalMessage",
    "Revision",
    "unit_for",
]
