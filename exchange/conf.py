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
