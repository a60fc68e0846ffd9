"""Exchange models, one module per sub-domain (rates, proposals, campaigns, tracking, metrics,
outbox and notifications, webhooks)."""

from exchange.models.campaigns import Campaign, CampaignLeg, CampaignPlacement
from exchange.models.metrics import LegDayMetrics, LegDayVisitor
from exchange.models.outbox import DomainEvent, EmailDelivery, EventType, Notification
from exchange.models.proposals import Placement, Proposal, ProposalMessage, Revision
from exchange.models.rates import ChannelRate, PlacementFormat, PricingUnit, unit_for
from exchange.models.tracking import BotReason, ClickEvent, Ingest, TrackingLink, UaClass, VisitorKind
from exchange.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookState

__all__ = [
    "BotReason",
    "Campaign",
    "CampaignLeg",
    "CampaignPlacement",
    "ChannelRate",
    "ClickEvent",
    "WebhookState",
    "DomainEvent",
    "EmailDelivery",
    "EventType",
    "Ingest",
    "LegDayMetrics",
    "LegDayVisitor",
    "Notification",
    "Placement",
    "PlacementFormat",
    "PricingUnit",
    "Proposal",
    "ProposalMessage",
    "Revision",
    "TrackingLink",
    "UaClass",
    "VisitorKind",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
    "unit_for",
]
