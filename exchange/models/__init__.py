"""Exchange models, one module per sub-domain (rates, proposals, campaigns, tracking, metrics,
outbox and notifications, delivery reports, webhooks, ledger, settlement, disputes)."""

from exchange.models.campaigns import Campaign, CampaignLeg, CampaignPlacement
from exchange.models.coupons import Coupon, CouponBatch
from exchange.models.delivery import DeliveryReport
from exchange.models.disputes import (
    OPEN_DISPUTE_STATES,
    Dispute,
    DisputeEvidence,
    DisputeOutcome,
    DisputeState,
    DisputeSubject,
)
from exchange.models.ledger import (
    AccountKind,
    Currency,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TxnReason,
)
from exchange.models.metrics import LegDayMetrics, LegDayVisitor
from exchange.models.outbox import DomainEvent, EmailDelivery, EventType, Notification
from exchange.models.proposals import Placement, Proposal, ProposalMessage, Revision
from exchange.models.rates import ChannelRate, PlacementFormat, PricingUnit, unit_for
from exchange.models.reported import (
    AttributionKind,
    ReportedEvent,
    ReportedKind,
    ReportedState,
    ReverseReason,
)
from exchange.models.settlement import (
    BillingProfile,
    Payment,
    PaymentState,
    Refund,
    RefundState,
    Settlement,
    SettlementChoice,
    SettlementPolicy,
    SettlementState,
    StripeEvent,
)
from exchange.models.tracking import BotReason, ClickEvent, Ingest, TrackingLink, UaClass, VisitorKind
from exchange.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint, WebhookState

__all__ = [
    "OPEN_DISPUTE_STATES",
    "Dispute",
    "DisputeEvidence",
    "DisputeOutcome",
    "DisputeState",
    "DisputeSubject",
    "AccountKind",
    "Currency",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "TxnReason",
    "BillingProfile",
    "Payment",
    "PaymentState",
    "Refund",
    "RefundState",
    "Settlement",
    "SettlementChoice",
    "SettlementPolicy",
    "SettlementState",
    "StripeEvent",
    "AttributionKind",
    "Coupon",
    "CouponBatch",
    "ReportedEvent",
    "ReportedKind",
    "ReportedState",
    "ReverseReason",
    "BotReason",
    "Campaign",
    "CampaignLeg",
    "CampaignPlacement",
    "ChannelRate",
    "ClickEvent",
    "DeliveryReport",
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
