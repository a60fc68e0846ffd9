"""One row of a partner's report: read and checked on its own (``parse_row``), then its
attribution resolved together with the batch's other rows in one query per kind
(``targets_of``) and checked against the reporter and the window (``attribute``). A row that
fails raises ``RowRejected`` with its code; the batch goes on without it
(``exchange.services.reported``).
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import AttributionKind, ClickEvent, Coupon, ReportedKind, TrackingLink
from exchange.services.coupons import coupon_code_normalise
from partners.models import Brand

CLOCK_SKEW = timedelta(minutes=10)
MAX_EXTERNAL_ID = 128
MAX_AMOUNT_CENTS = 10**12  # ¥10 billion in one order is a typo, not a sale
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_CURRENCY = re.compile(r"[A-Z]{3}")
_TRACKING_CODE = re.compile(r"[0-9A-Za-z]{8,16}")
_COUPON = re.compile(r"[0-9A-Z]{1,16}")  # after normalising; anything else is no code of ours
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass
class Row:
    index: int
    external_id: str
    occurred_at: datetime
    attribution: str
    value: str  # the click id (hex), coupon code (normalised) or tracking code
    amount_cents: int | None = None
    currency: str = ""
    payload_hash: str = ""
    # resolved
    campaign_id: int = 0
    leg_id: int = 0
    link_id: int = 0
    coupon_id: int | None = None


@dataclass(frozen=True)
class Target:
    """Where an attribution leads: the leg and link, and the window it may be credited in."""

    campaign_id: int
    leg_id: int
    promoted_id: int
    link_id: int
    opens: datetime
    closes: datetime
    coupon_id: int | None = None
    redeemed: bool = False


class RowRejected(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message


# --- parsing a row ---------------------------------------------------------------------------------
def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _external_id(row: Mapping[str, Any]) -> str:
    value = _text(row, "external_id")
    if not value or len(value) > MAX_EXTERNAL_ID or _CONTROL.search(value):
        raise RowRejected(
            E.INVALID_EXTERNAL_ID,
            _("Give an external id of 1 to %(n)d printable characters.") % {"n": MAX_EXTERNAL_ID},
        )
    return value


def _when(row: Mapping[str, Any], now: datetime) -> datetime:
    value = row.get("occurred_at")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            value = None
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise RowRejected(
            E.INVALID_TIME, _("Give the time as ISO 8601 with its UTC offset, e.g. 2026-12-01T20:15:00+08:00.")
        )
    if value < EARLIEST or value > now + CLOCK_SKEW:
        raise RowRejected(E.INVALID_TIME, _("The time is in the future or implausibly far in the past."))
    return value.astimezone(UTC)


def _money(row: Mapping[str, Any]) -> tuple[int, str]:
    amount = row.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT_CENTS:
        raise RowRejected(E.INVALID_AMOUNT, _("Give the amount in whole cents, 0 or more."))
    currency = _text(row, "currency").upper()
    if not _CURRENCY.fullmatch(currency):
        raise RowRejected(E.INVALID_CURRENCY, _("Give the currency as a three-letter ISO 4217 code, e.g. CNY."))
    return amount, currency


def _attribution(row: Mapping[str, Any]) -> tuple[str, str]:
    given = [
        (kind, _text(row, key))
        for kind, key in (
            (AttributionKind.CLICK, "click_id"),
            (AttributionKind.COUPON, "coupon_code"),
            (AttributionKind.CODE, "tracking_code"),
        )
        if _text(row, key)
    ]
    if not given:
        raise RowRejected(E.ATTRIBUTION_REQUIRED, _("Give a click id, a coupon code or a tracking code."))
    if len(given) > 1:
        raise RowRejected(E.ATTRIBUTION_AMBIGUOUS, _("Give only one of click id, coupon code and tracking code."))
    kind, value = given[0]
    if kind == AttributionKind.CLICK:
        try:
            return kind, uuid.UUID(value).hex
        except ValueError:
            raise RowRejected(E.UNKNOWN_CLICK, _("No click has this id.")) from None
    if kind == AttributionKind.COUPON:
        code = coupon_code_normalise(value)
        if not _COUPON.fullmatch(code):
            raise RowRejected(E.UNKNOWN_COUPON, _("No coupon has this code."))
        return kind, code
    if not _TRACKING_CODE.fullmatch(value):
        raise RowRejected(E.UNKNOWN_CODE, _("No tracking link has this code."))
    return kind, value


def payload_hash(kind: str, r: Row) -> str:
    """What a retry must repeat exactly to count as the same report."""
    canonical = [kind, r.external_id, r.amount_cents, r.currency, r.occurred_at.isoformat(), r.attribution, r.value]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def parse_row(kind: str, index: int, row: Mapping[str, Any], now: datetime) -> Row:
    external_id = _external_id(row)
    try:
        occurred_at = _when(row, now)
        amount, currency = _money(row) if kind == ReportedKind.CONVERSION else (None, "")
        attribution, value = _attribution(row)
    except RowRejected as exc:
        exc.external_id = external_id
        raise
    parsed = Row(index, external_id, occurred_at, attribution, value, amount, currency)
    parsed.payload_hash = payload_hash(kind, parsed)
    return parsed


# --- resolving attributions, set-based ------------------------------------------------------------
def targets_of(rows: Sequence[Row]) -> dict[tuple[str, str], Target]:
    """Every attribution the rows name → its target: one query per kind named (coupons locked)."""
    days = timedelta(days=conf.attribution_days())
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        wanted[r.attribution].add(r.value)
    out: dict[tuple[str, str], Target] = {}
    if wanted[AttributionKind.COUPON]:
        coupons = (
            Coupon.objects.select_for_update(of=("self",))
            .filter(code__in=wanted[AttributionKind.COUPON])
            .order_by("pk")  # one lock order for every batch: two batches never deadlock
            .values_list(
                "code",
                "pk",
                "redeemed_at",
                "leg_id",
                "leg__promoted_id",
                "leg__campaign_id",
                "batch__placement__link__id",
                "batch__placement__starts_at",
                "batch__placement__ends_at",
            )
        )
        for code, pk, redeemed_at, leg, promoted, campaign, link, starts, ends in coupons:
            out[AttributionKind.COUPON, code] = Target(
                campaign, leg, promoted, link, starts - CLOCK_SKEW, ends + days, pk, redeemed_at is not None
            )
    if wanted[AttributionKind.CLICK]:
        clicks = (
            ClickEvent.objects.filter(click_id__in=[uuid.UUID(v) for v in wanted[AttributionKind.CLICK]])
            .order_by("occurred_at")
            .values_list("click_id", "occurred_at", "leg_id", "leg__promoted_id", "leg__campaign_id", "link_id")
        )
        for click_id, at, leg, promoted, campaign, link in clicks:
            out.setdefault(
                (AttributionKind.CLICK, click_id.hex),
                Target(campaign, leg, promoted, link, at - CLOCK_SKEW, at + days),
            )
    if wanted[AttributionKind.CODE]:
        links = TrackingLink.objects.filter(code__in=wanted[AttributionKind.CODE]).values_list(
            "code", "pk", "leg_id", "leg__promoted_id", "leg__campaign_id", "placement__starts_at", "placement__ends_at"
        )
        for code, pk, leg, promoted, campaign, starts, ends in links:
            out[AttributionKind.CODE, code] = Target(campaign, leg, promoted, pk, starts - CLOCK_SKEW, ends + days)
    return out


_UNKNOWN = {
    AttributionKind.CLICK: (E.UNKNOWN_CLICK, "No click has this id."),
    AttributionKind.COUPON: (E.UNKNOWN_COUPON, "No coupon has this code."),
    AttributionKind.CODE: (E.UNKNOWN_CODE, "No tracking link has this code."),
}


def attribute(r: Row, brand: Brand, targets: Mapping[tuple[str, str], Target], used: set[int]) -> None:
    target = targets.get((r.attribution, r.value))
    if target is None:
        code, message = _UNKNOWN[r.attribution]
        raise RowRejected(code, _(message))
    if target.promoted_id != brand.pk:
        raise RowRejected(
            E.NOT_YOUR_CAMPAIGN,
            _("This was not brought to your brand: only the promoted brand of a campaign leg reports its results."),
        )
    if not target.opens <= r.occurred_at <= target.closes:
        raise RowRejected(
            E.OUTSIDE_ATTRIBUTION_WINDOW,
            _("The time is outside the attribution window (%(days)d days).") % {"days": conf.attribution_days()},
        )
    if target.coupon_id is not None:
        if target.redeemed or target.coupon_id in used:
            raise RowRejected(E.COUPON_REDEEMED, _("This coupon has already been redeemed."))
        used.add(target.coupon_id)
    r.campaign_id, r.leg_id, r.link_id, r.coupon_id = (
        target.campaign_id,
        target.leg_id,
        target.link_id,
        target.coupon_id,
    )
