"""The exchange's settings, read in one place with their defaults documented in settings.py."""

from __future__ import annotations

from django.conf import settings


def expiry_days() -> int:
    return settings.EXCHANGE_PROPOSAL_EXPIRY_DAYS


def daily_limit() -> int:
    return settings.EXCHANGE_DAILY_PROPOSAL_LIMIT


def max_placements() -> int:
    return settings.EXCHANGE_MAX_PLACEMENTS_PER_SIDE


def max_window_days() -> int:
    return settings.EXCHANGE_MAX_WINDOW_DAYS


def email_lease_seconds() -> int:
    return settings.EXCHANGE_EMAIL_LEASE_SECONDS


def sweep_grace_seconds() -> int:
    return settings.EXCHANGE_OUTBOX_SWEEP_GRACE_SECONDS


# --- campaigns and tracking -------------------------------------------------------------------
def delivery_confirm_days() -> int:
    return settings.EXCHANGE_DELIVERY_CONFIRM_DAYS


def events_redis_url() -> str:
    return settings.EXCHANGE_EVENTS_REDIS_URL


def events_stream() -> str:
    return settings.EXCHANGE_EVENTS_STREAM


def events_stream_maxlen() -> int:
    return settings.EXCHANGE_EVENTS_STREAM_MAXLEN


def events_batch_size() -> int:
    return settings.EXCHANGE_EVENTS_BATCH_SIZE


def events_claim_idle_seconds() -> int:
    return settings.EXCHANGE_EVENTS_CLAIM_IDLE_SECONDS


def click_burst_per_minute() -> int:
    return settings.EXCHANGE_CLICK_BURST_PER_MINUTE


def link_cache_seconds() -> int:
    return settings.EXCHANGE_LINK_CACHE_SECONDS


def client_ip_header() -> str:
    return settings.EXCHANGE_CLIENT_IP_HEADER


# --- delivery reports -------------------------------------------------------------------------
def proof_max_bytes() -> int:
    return settings.EXCHANGE_PROOF_MAX_BYTES


def delivery_reach_cap_multiple() -> int:
    return settings.EXCHANGE_DELIVERY_REACH_CAP_MULTIPLE


def delivery_window_grace_days() -> int:
    return settings.EXCHANGE_DELIVERY_WINDOW_GRACE_DAYS


# --- coupons and partner-reported events ----------------------------------------------------
def coupon_batch_max() -> int:
    return settings.EXCHANGE_COUPON_BATCH_MAX


def attribution_days() -> int:
    return settings.EXCHANGE_ATTRIBUTION_DAYS


def screening_days() -> int:
    return settings.EXCHANGE_SCREENING_DAYS


def report_batch_max() -> int:
    return settings.EXCHANGE_REPORT_BATCH_MAX


def public_base_url() -> str:
    """Where absolute links printed for the outside world (QR codes) point: ``SITE_URL``."""
    return settings.SITE_URL


# --- webhooks -----------------------------------------------------------------------------------
def webhook_secret_keys() -> list[str]:
    """The key material secrets are encrypted with: the current one first, then old ones."""
    return [settings.WEBHOOK_SECRET_KEY or settings.SECRET_KEY, *settings.WEBHOOK_SECRET_KEYS_OLD]


def webhook_secret_overlap_hours() -> int:
    return settings.WEBHOOK_SECRET_OVERLAP_HOURS


def webhook_timeout_seconds() -> float:
    return settings.WEBHOOK_TIMEOUT_SECONDS


def webhook_lease_seconds() -> int:
    return settings.WEBHOOK_LEASE_SECONDS


def webhook_retry_schedule() -> list[int]:
    return list(settings.WEBHOOK_RETRY_SCHEDULE)


def webhook_disable_after_hours() -> int:
    return settings.WEBHOOK_DISABLE_AFTER_HOURS


def webhook_allow_loopback() -> bool:
    return settings.WEBHOOK_ALLOW_LOOPBACK


def webhook_max_endpoints() -> int:
    return settings.WEBHOOK_MAX_ENDPOINTS_PER_BRAND
