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
    # click event partitions (operators)
    PARTITION_NOT_ENDED = "partition_not_ended"
    PARTITION_UNKNOWN = "partition_unknown"
    # delivery reports
    CAMPAIGN_NOT_RUNNING = "campaign_not_running"
    REACH_NEGATIVE = "reach_negative"
    REACH_ABOVE_PROMISED = "reach_above_promised"
    DELIVERED_OUTSIDE_WINDOW = "delivered_outside_window"
    DELIVERED_IN_FUTURE = "delivered_in_future"
    PROOF_REQUIRED = "proof_required"
    PROOF_URL_NOT_HTTPS = "proof_url_not_https"
    PROOF_URL_INVALID = "proof_url_invalid"
    PROOF_NOT_IMAGE = "proof_not_image"
    PROOF_TOO_LARGE = "proof_too_large"
    NOTE_TOO_LONG = "note_too_long"
    DELIVERY_ALREADY_CONFIRMED = "delivery_already_confirmed"
    DELIVERY_NOT_AWAITING = "delivery_not_awaiting"
    CONFIRM_WINDOW_CLOSED = "confirm_window_closed"
    # coupons
    COUPON_BATCH_SIZE = "coupon_batch_size"
    COUPON_BATCH_SHRINK = "coupon_batch_shrink"
    # partner-reported events: the batch
    BATCH_TOO_LARGE = "batch_too_large"
    # … and each row (a rejected row carries one of these; the others in its batch are kept)
    INVALID_EXTERNAL_ID = "invalid_external_id"
    INVALID_AMOUNT = "invalid_amount"
    INVALID_CURRENCY = "invalid_currency"
    INVALID_TIME = "invalid_time"
    ATTRIBUTION_REQUIRED = "attribution_required"
    ATTRIBUTION_AMBIGUOUS = "attribution_ambiguous"
    UNKNOWN_CLICK = "unknown_click"
    UNKNOWN_COUPON = "unknown_coupon"
    UNKNOWN_CODE = "unknown_code"
    NOT_YOUR_CAMPAIGN = "not_your_campaign"
    OUTSIDE_ATTRIBUTION_WINDOW = "outside_attribution_window"
    COUPON_REDEEMED = "coupon_redeemed"
    CONFLICT = "conflict"
    DUPLICATE_IN_BATCH = "duplicate_in_batch"
    # reversal
    NOT_PENDING = "not_pending"
    SCREENING_OVER = "screening_over"
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
    # ledger
    LEDGER_UNBALANCED = "ledger_unbalanced"
    LEDGER_CURRENCY_MISMATCH = "ledger_currency_mismatch"
    LEDGER_ALREADY_REVERSED = "ledger_already_reversed"
    # settlement
    SETTLEMENT_NOT_OPEN = "settlement_not_open"
    SETTLEMENT_HELD = "settlement_held"  # an open dispute holds it
    CASH_UNAVAILABLE = "cash_unavailable"  # no Stripe keys configured
    BELOW_MINIMUM_CHARGE = "below_minimum_charge"  # smaller than Stripe's minimum charge
    NO_PAYMENT_METHOD = "no_payment_method"
    PAYMENT_IN_PROGRESS = "payment_in_progress"
    PAYMENT_FAILED = "payment_failed"
    STRIPE_UNAVAILABLE = "stripe_unavailable"
    INVALID_POLICY = "invalid_policy"
    REFUND_NOT_FAILED = "refund_not_failed"  # only a refund Stripe refused is retried
    NOTHING_LEFT_TO_REFUND = "nothing_left_to_refund"
    # disputes
    DISPUTE_NOT_OPEN = "dispute_not_open"
    DISPUTE_ALREADY_OPEN = "dispute_already_open"
    DISPUTE_WINDOW_CLOSED = "dispute_window_closed"
    NOT_A_PARTY = "not_a_party"
    EVIDENCE_INVALID = "evidence_invalid"
    DECISION_REQUIRED = "decision_required"
