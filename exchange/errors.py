"""Error codes of the exchange domain.

Services raise ``ValidationError({field: ValidationError(message, code=ExchangeError.X)})``;
the same codes reach GraphQL clients (``errors { field code message }``), web forms and
commands. One code per guard, so a client can tell every refusal apart.
"""

from enum import StrEnum


class ExchangeError(StrEnum):
    REQUIRED = "required"
    INVALID = "invalid"
    PERMISSION_DENIED = "permission_denied"
    # counterparty guards
    SELF_PROPOSAL = "self_proposal"
    COMPETITOR = "competitor"
    BLOCKED = "blocked"
    NOT_APPROVED = "not_approved"
    SUSPENDED = "suspended"
    ALREADY_OPEN = "already_open"
    DAILY_LIMIT = "daily_limit"
    # placement guards
    NOT_YOUR_CHANNEL = "not_your_channel"
    FORMAT_NOT_AVAILABLE = "format_not_available"
    REACH_ABOVE_AUDIENCE = "reach_above_audience"
    EMPTY_SIDE = "empty_side"
    WINDOW_IN_PAST = "window_in_past"
    WINDOW_INVERTED = "window_inverted"
    WINDOW_TOO_LONG = "window_too_long"
    TOO_MANY_PLACEMENTS = "too_many_placements"
    INVALID_TOPUP = "invalid_topup"
    # negotiation guards
    NOT_OPEN = "not_open"
    NOT_YOUR_TURN = "not_your_turn"
    STALE_REVISION = "stale_revision"
    REASON_REQUIRED = "reason_required"
    # rates
    INVALID_RATE = "invalid_rate"
    # campaigns and tracking
    LANDING_NOT_HTTPS = "landing_not_https"
    LANDING_INVALID = "landing_invalid"
    CAMPAIGN_CLOSED = "campaign_closed"
    # webhooks
    WEBHOOK_URL_INVALID = "webhook_url_invalid"
    WEBHOOK_URL_NOT_HTTPS = "webhook_url_not_https"
    WEBHOOK_URL_NOT_PUBLIC = "webhook_url_not_public"  # resolves to a loopback, private or metadata address
    WEBHOOK_URL_UNRESOLVABLE = "webhook_url_unresolvable"
    EVENT_TYPES_REQUIRED = "event_types_required"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    TOO_MANY_ENDPOINTS = "too_many_endpoints"
    ENDPOINT_DISABLED = "endpoint_disabled"
    DELIVERY_IN_PROGRESS = "delivery_in_progress"
    INVALID_RANGE = "invalid_range"
