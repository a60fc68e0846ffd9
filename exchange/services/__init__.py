"""State changes of the exchange, one module per sub-domain; the public names are here."""

from exchange.services.campaigns import campaign_create, campaigns_advance, campaigns_create_missing
from exchange.services.clicks import click_record, events_flush
from exchange.services.coupons import coupon_batch_generate, coupons_csv
from exchange.services.delivery import deliveries_autoconfirm, delivery_confirm, delivery_dispute, delivery_report
from exchange.services.disputes import (
    dispute_answer,
    dispute_evidence_add,
    dispute_open,
    dispute_resolve,
    dispute_withdraw,
)
from exchange.services.drafting import PlacementSpec, Preview, proposal_preview
from exchange.services.notifications import email_send, event_dispatch, notifications_mark_read, outbox_pending
from exchange.services.proposals import (
    parties_check,
    proposal_accept,
    proposal_counter,
    proposal_create,
    proposal_decline,
    proposal_message_send,
    proposal_withdraw,
    proposals_expire,
    revision_balance,
)
from exchange.services.rates import channel_rate_set
from exchange.services.reported import (
    conversions_report,
    new_members_report,
    reported_event_reverse,
    reported_events_confirm,
)
from exchange.services.settlements import (
    settlement_choose,
    settlement_open,
    settlement_policy,
    settlement_policy_set,
    settlements_default,
)
from exchange.services.tracking import leg_landing_set

__all__ = [
    "PlacementSpec",
    "Preview",
    "campaign_create",
    "campaigns_advance",
    "campaigns_create_missing",
    "channel_rate_set",
    "click_record",
    "deliveries_autoconfirm",
    "delivery_confirm",
    "delivery_dispute",
    "delivery_report",
    "conversions_report",
    "coupon_batch_generate",
    "coupons_csv",
    "dispute_answer",
    "dispute_evidence_add",
    "dispute_open",
    "dispute_resolve",
    "dispute_withdraw",
    "email_send",
    "event_dispatch",
    "events_flush",
    "leg_landing_set",
    "new_members_report",
    "notifications_mark_read",
    "outbox_pending",
    "proposal_accept",
    "proposal_counter",
    "proposal_create",
    "proposal_decline",
    "proposal_message_send",
    "proposal_preview",
    "parties_check",
    "proposal_withdraw",
    "proposals_expire",
    "reported_event_reverse",
    "reported_events_confirm",
    "revision_balance",
    "settlement_choose",
    "settlement_open",
    "settlement_policy",
    "settlement_policy_set",
    "settlements_default",
]
