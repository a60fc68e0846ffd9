"""Partner-reported events: orders (``conversions_report``) and new members
(``new_members_report``) that a leg's *promoted* brand says the swap brought it, their reversal
during the screening period, and their confirmation after it.

**A batch** (at most ``EXCHANGE_REPORT_BATCH_MAX`` rows, 500) is judged row by row: each row is
accepted or rejected with its own code (``exchange.errors``), and the good rows are kept. A
batch-level problem (not the caller's brand, too many rows) refuses all of it and stores
nothing. The whole batch costs a handful of set-based queries, whatever its size: coupons by
code (locked, so two batches cannot redeem one coupon), the reporter's existing rows by
external id, clicks by click id, links by code, one ``INSERT … ON CONFLICT DO NOTHING
RETURNING`` (``huiliu.bulk.insert_new``), one rollup upsert, one coupon update.

**Idempotent** on (reporting brand, kind, external id): a row already stored with the same
payload is *accepted* with ``duplicate=True`` (not counted again); with a different payload it
is rejected ``conflict`` (never overwritten). Two identical batches racing each other meet in
the unique constraint: the loser's rows come back as duplicates.

**Attribution**: exactly one of a click id (credited within ``EXCHANGE_ATTRIBUTION_DAYS`` after
the click), a coupon code or a tracking code (within the placement's window plus the
attribution days). The reporter must be the credited leg's promoted brand — the brand that got
the traffic reports what it brought (``not_your_campaign`` otherwise). Times may run up to
``CLOCK_SKEW`` ahead of ours (a partner's clock) and no further.

**Rollups** (``exchange.services.rollups``, in the same transaction): ``conversions``,
``gmv_cents`` and ``new_members`` of (leg, Asia/Shanghai day of ``occurred_at``) count rows that
are pending *or* confirmed; a reversal subtracts its row. Confirmation changes no count (the
dashboard tells pending from confirmed by reading the rows' states). ``gmv_cents`` is CNY: an
order in another currency counts as a conversion but adds nothing to GMV.

**Screening**: rows stay ``pending`` for ``EXCHANGE_SCREENING_DAYS`` after they were reported;
meanwhile the reporter may reverse one with a reason (``reported_event_reverse``, audited,
written to the outbox). ``reported_events_confirm`` (beat, hourly) confirms the rest, one
outbox event per leg and kind. A reversed conversion keeps its coupon redeemed (the code was
used; it is not handed out again).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import (
    AttributionKind,
    Campaign,
    ClickEvent,
    Coupon,
    EventType,
    ReportedEvent,
    ReportedKind,
    ReportedState,
    ReverseReason,
    TrackingLink,
)
from exchange.outbox import emit
from exchange.services.common import can_act_for, error
from exchange.services.coupons import coupon_code_normalise
from exchange.services.rollups import day_of, rollup_add
from huiliu import bulk
from partners.actors import Actor
from partners.models import AuditAction, Brand
from partners.services import audit

log = logging.getLogger(__name__)

CLOCK_SKEW = timedelta(minutes=10)
MAX_EXTERNAL_ID = 128
MAX_AMOUNT_CENTS = 10**12  # ¥10 billion in one order is a typo, not a sale
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
GMV_CURRENCY = "CNY"
CONFIRM_CHUNK = 1000
_CURRENCY = re.compile(r"[A-Z]{3}")
_TRACKING_CODE = re.compile(r"[0-9A-Za-z]{8,16}")
_COUPON = re.compile(r"[0-9A-Z]{1,16}")  # after normalising; anything else is no code of ours
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The columns written by the batch insert (every one the table needs).
COLUMNS = (
    "kind",
    "brand_id",
    "external_id",
    "payload_hash",
    "amount_cents",
    "currency",
    "occurred_at",
    "attribution",
    "attribution_value",
    "campaign_id",
    "leg_id",
    "link_id",
    "state",
    "reversed_reason",
    "created_at",
    "confirmed_at",
    "reversed_at",
)


# --- results ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Accepted:
    index: int  # the row's position in the batch (0-based)
    external_id: str
    event: ReportedEvent
    duplicate: bool  # True: already stored from an earlier identical report (not counted again)


@dataclass(frozen=True)
class Rejected:
    index: int
    external_id: str
    code: str
    message: str


@dataclass
class ReportResult:
    kind: str
    accepted: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def new(self) -> int:
        return sum(1 for a in self.accepted if not a.duplicate)


@dataclass
class _Row:
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
class _Target:
    """Where an attribution leads: the leg and link, and the window it may be credited in."""

    campaign_id: int
    leg_id: int
    promoted_id: int
    link_id: int
    opens: datetime
    closes: datetime
    coupon_id: int | None = None
    redeemed: bool = False


class _Reject(Exception):
    def __init__(self, code: str, message: str):
        self.code, self.message = code, message


# --- parsing a row ---------------------------------------------------------------------------------
def _text(row: Mapping[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _external_id(row: Mapping[str, Any]) -> str:
    value = _text(row, "external_id")
    if not value or len(value) > MAX_EXTERNAL_ID or _CONTROL.search(value):
        raise _Reject(
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
        raise _Reject(
            E.INVALID_TIME, _("Give the time as ISO 8601 with its UTC offset, e.g. 2026-12-01T20:15:00+08:00.")
        )
    if value < EARLIEST or value > now + CLOCK_SKEW:
        raise _Reject(E.INVALID_TIME, _("The time is in the future or implausibly far in the past."))
    return value.astimezone(UTC)


def _money(row: Mapping[str, Any]) -> tuple[int, str]:
    amount = row.get("amount_cents")
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount <= MAX_AMOUNT_CENTS:
        raise _Reject(E.INVALID_AMOUNT, _("Give the amount in whole cents, 0 or more."))
    currency = _text(row, "currency").upper()
    if not _CURRENCY.fullmatch(currency):
        raise _Reject(E.INVALID_CURRENCY, _("Give the currency as a three-letter ISO 4217 code, e.g. CNY."))
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
        raise _Reject(E.ATTRIBUTION_REQUIRED, _("Give a click id, a coupon code or a tracking code."))
    if len(given) > 1:
        raise _Reject(E.ATTRIBUTION_AMBIGUOUS, _("Give only one of click id, coupon code and tracking code."))
    kind, value = given[0]
    if kind == AttributionKind.CLICK:
        try:
            return kind, uuid.UUID(value).hex
        except ValueError:
            raise _Reject(E.UNKNOWN_CLICK, _("No click has this id.")) from None
    if kind == AttributionKind.COUPON:
        code = coupon_code_normalise(value)
        if not _COUPON.fullmatch(code):
            raise _Reject(E.UNKNOWN_COUPON, _("No coupon has this code."))
        return kind, code
    if not _TRACKING_CODE.fullmatch(value):
        raise _Reject(E.UNKNOWN_CODE, _("No tracking link has this code."))
    return kind, value


def payload_hash(kind: str, r: _Row) -> str:
    """What a retry must repeat exactly to count as the same report."""
    canonical = [kind, r.external_id, r.amount_cents, r.currency, r.occurred_at.isoformat(), r.attribution, r.value]
    return hashlib.sha256(json.dumps(canonical, separators=(",", ":")).encode()).hexdigest()


def _parse(kind: str, index: int, row: Mapping[str, Any], now: datetime) -> _Row:
    external_id = _external_id(row)
    try:
        occurred_at = _when(row, now)
        amount, currency = _money(row) if kind == ReportedKind.CONVERSION else (None, "")
        attribution, value = _attribution(row)
    except _Reject as exc:
        exc.external_id = external_id
        raise
    parsed = _Row(index, external_id, occurred_at, attribution, value, amount, currency)
    parsed.payload_hash = payload_hash(kind, parsed)
    return parsed


# --- resolving attributions, set-based ------------------------------------------------------------
def _targets(rows: Sequence[_Row]) -> dict[tuple[str, str], _Target]:
    """Every attribution the rows name → its target: one query per kind named (coupons locked)."""
    days = timedelta(days=conf.attribution_days())
    wanted: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        wanted[r.attribution].add(r.value)
    out: dict[tuple[str, str], _Target] = {}
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
            out[AttributionKind.COUPON, code] = _Target(
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
                _Target(campaign, leg, promoted, link, at - CLOCK_SKEW, at + days),
            )
    if wanted[AttributionKind.CODE]:
        links = TrackingLink.objects.filter(code__in=wanted[AttributionKind.CODE]).values_list(
            "code", "pk", "leg_id", "leg__promoted_id", "leg__campaign_id", "placement__starts_at", "placement__ends_at"
        )
        for code, pk, leg, promoted, campaign, starts, ends in links:
            out[AttributionKind.CODE, code] = _Target(campaign, leg, promoted, pk, starts - CLOCK_SKEW, ends + days)
    return out


_UNKNOWN = {
    AttributionKind.CLICK: (E.UNKNOWN_CLICK, "No click has this id."),
    AttributionKind.COUPON: (E.UNKNOWN_COUPON, "No coupon has this code."),
    AttributionKind.CODE: (E.UNKNOWN_CODE, "No tracking link has this code."),
}


def _attribute(r: _Row, brand: Brand, targets: Mapping[tuple[str, str], _Target], used: set[int]) -> None:
    target = targets.get((r.attribution, r.value))
    if target is None:
        code, message = _UNKNOWN[r.attribution]
        raise _Reject(code, _(message))
    if target.promoted_id != brand.pk:
        raise _Reject(
            E.NOT_YOUR_CAMPAIGN,
            _("This was not brought to your brand: only the promoted brand of a campaign leg reports its results."),
        )
    if not target.opens <= r.occurred_at <= target.closes:
        raise _Reject(
            E.OUTSIDE_ATTRIBUTION_WINDOW,
            _("The time is outside the attribution window (%(days)d days).") % {"days": conf.attribution_days()},
        )
    if target.coupon_id is not None:
        if target.redeemed or target.coupon_id in used:
            raise _Reject(E.COUPON_REDEEMED, _("This coupon has already been redeemed."))
        used.add(target.coupon_id)
    r.campaign_id, r.leg_id, r.link_id, r.coupon_id = (
        target.campaign_id,
        target.leg_id,
        target.link_id,
        target.coupon_id,
    )


# --- reporting ---------------------------------------------------------------------------------
def conversions_report(*, actor: Actor, brand: Brand, rows: Sequence[Mapping[str, Any]]) -> ReportResult:
    """Report orders: each row ``{external_id, amount_cents, currency, occurred_at, and one of
    click_id / coupon_code / tracking_code}``. Returns every row accepted (``duplicate`` for a
    retry) or rejected with its code. Raises ``ValidationError`` (``permission_denied``,
    ``batch_too_large``) with nothing stored."""
    return _report(actor=actor, brand=brand, kind=ReportedKind.CONVERSION, rows=rows)


def new_members_report(*, actor: Actor, brand: Brand, rows: Sequence[Mapping[str, Any]]) -> ReportResult:
    """Report new members: each row ``{external_id (the client's hash of the member id),
    occurred_at, and one of click_id / coupon_code / tracking_code}``. As ``conversions_report``."""
    return _report(actor=actor, brand=brand, kind=ReportedKind.NEW_MEMBER, rows=rows)


def _report(*, actor: Actor, brand: Brand, kind: str, rows: Sequence[Mapping[str, Any]]) -> ReportResult:
    if not can_act_for(actor, brand.pk):
        raise error(
            "brand", _("Only the brand's owner, marketers or write keys can report its results."), E.PERMISSION_DENIED
        )
    cap = conf.report_batch_max()
    if len(rows) > cap:
        raise error(
            "rows",
            _("Send at most %(cap)d rows per call (this one has %(n)d); nothing was stored.")
            % {"cap": cap, "n": len(rows)},
            E.BATCH_TOO_LARGE,
        )
    result = ReportResult(kind=kind)
    now = timezone.now()
    parsed: list[_Row] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            r = _parse(kind, index, row, now)
        except _Reject as exc:
            result.rejected.append(Rejected(index, getattr(exc, "external_id", ""), exc.code, exc.message))
            continue
        if r.external_id in seen:
            result.rejected.append(
                Rejected(index, r.external_id, E.DUPLICATE_IN_BATCH, _("This external id is already in this batch."))
            )
            continue
        seen.add(r.external_id)
        parsed.append(r)
    if not parsed:
        result.rejected.sort(key=lambda x: x.index)
        return result
    with transaction.atomic():
        targets = _targets(parsed)  # coupons locked first: a racing batch waits here, then sees our rows
        stored = dict(
            (ext, (pk, digest))
            for ext, pk, digest in ReportedEvent.objects.filter(
                brand=brand, kind=kind, external_id__in=[r.external_id for r in parsed]
            ).values_list("external_id", "pk", "payload_hash")
        )
        duplicates: list[tuple[_Row, int]] = []
        fresh: list[_Row] = []
        used: set[int] = set()
        for r in parsed:
            if r.external_id in stored:
                pk, digest = stored[r.external_id]
                if digest == r.payload_hash:
                    duplicates.append((r, pk))
                else:
                    result.rejected.append(_conflict(r))
                continue
            try:
                _attribute(r, brand, targets, used)
            except _Reject as exc:
                result.rejected.append(Rejected(r.index, r.external_id, exc.code, exc.message))
                continue
            fresh.append(r)
        inserted = dict(
            (ext, pk)
            for pk, ext in bulk.insert_new(
                ReportedEvent,
                COLUMNS,
                [_values(kind, brand, r, now) for r in fresh],
                conflict=("brand", "kind", "external_id"),
                returning=("id", "external_id"),
            )
        )
        lost = [r for r in fresh if r.external_id not in inserted]
        if lost:  # a concurrent identical batch stored them first: duplicates or conflicts
            log.info("%d reported rows of brand %s were stored by a concurrent report", len(lost), brand.pk)
            raced = dict(
                (ext, (pk, digest))
                for ext, pk, digest in ReportedEvent.objects.filter(
                    brand=brand, kind=kind, external_id__in=[r.external_id for r in lost]
                ).values_list("external_id", "pk", "payload_hash")
            )
            for r in lost:
                pk, digest = raced[r.external_id]
                if digest == r.payload_hash:
                    duplicates.append((r, pk))
                else:
                    result.rejected.append(_conflict(r))
        new_rows = [r for r in fresh if r.external_id in inserted]
        rollup_add(_deltas(kind, new_rows, sign=1))
        redeemed = [
            Coupon(pk=r.coupon_id, redeemed_at=now, redeemed_by_id=inserted[r.external_id])
            for r in new_rows
            if r.coupon_id
        ]
        bulk.update_rows(redeemed, ["redeemed_at", "redeemed_by_id"])
        wanted = [inserted[r.external_id] for r in new_rows] + [pk for _r, pk in duplicates]
        events = {
            e.pk: e
            for e in ReportedEvent.objects.filter(pk__in=wanted).select_related(
                "brand", "leg__promoter", "leg__promoted", "link"
            )
        }
    for r in new_rows:
        result.accepted.append(Accepted(r.index, r.external_id, events[inserted[r.external_id]], False))
    for r, pk in duplicates:
        result.accepted.append(Accepted(r.index, r.external_id, events[pk], True))
    result.accepted.sort(key=lambda x: x.index)
    result.rejected.sort(key=lambda x: x.index)
    return result


def _conflict(r: _Row) -> Rejected:
    return Rejected(
        r.index,
        r.external_id,
        E.CONFLICT,
        _("This external id was already reported with different details; it was not changed."),
    )


def _values(kind: str, brand: Brand, r: _Row, now: datetime) -> tuple:
    return (
        kind,
        brand.pk,
        r.external_id,
        r.payload_hash,
        r.amount_cents,
        r.currency,
        r.occurred_at,
        r.attribution,
        r.value,
        r.campaign_id,
        r.leg_id,
        r.link_id,
        ReportedState.PENDING,
        "",
        now,
        None,
        None,
    )


def _metric_deltas(kind: str, amount_cents: int | None, currency: str, sign: int) -> dict[str, int]:
    if kind == ReportedKind.NEW_MEMBER:
        return {"new_members": sign}
    gmv = (amount_cents or 0) if currency == GMV_CURRENCY else 0
    return {"conversions": sign, "gmv_cents": sign * gmv}


def _deltas(kind: str, rows: Sequence[_Row], *, sign: int) -> dict:
    out: dict = defaultdict(lambda: defaultdict(int))
    for r in rows:
        for name, n in _metric_deltas(kind, r.amount_cents, r.currency, sign).items():
            out[(r.leg_id, day_of(r.occurred_at))][name] += n
    return out


# --- reversal and confirmation -------------------------------------------------------------------
def screening_ends(event: ReportedEvent) -> datetime:
    return event.created_at + timedelta(days=conf.screening_days())


def reported_event_reverse(*, actor: Actor, event: ReportedEvent, reason: str) -> ReportedEvent:
    """Take back a pending row (refund, member left …): only the reporting brand's editors, only
    during the screening period. Its counts leave the rollups; audited; outbox event for both
    brands. Raises ``ValidationError``: ``permission_denied``, ``invalid`` (reason),
    ``not_pending``, ``screening_over``."""
    with transaction.atomic():
        event = (
            ReportedEvent.objects.select_for_update(of=("self",))
            .select_related("campaign__proposal", "brand")
            .get(pk=event.pk)
        )
        if not can_act_for(actor, event.brand_id):
            raise error("event", _("Only the brand that reported this can reverse it."), E.PERMISSION_DENIED)
        if reason not in ReverseReason.values:
            raise error("reason", _("Choose a reason for the reversal."), E.INVALID)
        if event.state != ReportedState.PENDING:
            raise error("event", _("Only a pending report can be reversed."), E.NOT_PENDING)
        now = timezone.now()
        if now >= screening_ends(event):
            raise error("event", _("The screening period of this report is over."), E.SCREENING_OVER)
        event.state, event.reversed_reason, event.reversed_at = ReportedState.REVERSED, reason, now
        event.save(update_fields=["state", "reversed_reason", "reversed_at"])
        rollup_add(
            {
                (event.leg_id, day_of(event.occurred_at)): _metric_deltas(
                    event.kind, event.amount_cents, event.currency, -1
                )
            }
        )
        audit(
            actor=actor,
            action=AuditAction.EVENT_REVERSED,
            obj=event.campaign,
            brand=event.brand,
            data={"event": event.pk, "kind": event.kind, "external_id": event.external_id, "reason": reason},
        )
        emit(
            type=EventType.CONVERSION_REVERSED if event.kind == ReportedKind.CONVERSION else EventType.MEMBER_REVERSED,
            proposal=event.campaign.proposal,
            actor_brand_id=event.brand_id,
            payload={
                "campaign": event.campaign_id,
                "leg": event.leg_id,
                "event": event.pk,
                "external_id": event.external_id,
                "reason": reason,
                "amount_cents": event.amount_cents,
                "currency": event.currency,
            },
        )
        return event


def reported_events_confirm(*, now: datetime | None = None) -> int:
    """Confirm pending rows reported more than ``EXCHANGE_SCREENING_DAYS`` ago, a chunk per
    transaction (rows locked, skipping any a reversal holds), with one outbox event per leg and
    kind of each chunk (count and ids), not one per row. Returns how many were confirmed."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=conf.screening_days())
    total = 0
    while True:
        with transaction.atomic():
            due = list(
                ReportedEvent.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(state=ReportedState.PENDING, created_at__lte=cutoff)
                .order_by("id")
                .values_list("pk", "leg_id", "kind", "campaign_id")[:CONFIRM_CHUNK]
            )
            if not due:
                return total
            ReportedEvent.objects.filter(pk__in=[d[0] for d in due], state=ReportedState.PENDING).update(
                state=ReportedState.CONFIRMED, confirmed_at=now
            )
            groups: dict[tuple[int, str, int], list[int]] = defaultdict(list)
            for pk, leg, kind, campaign in due:
                groups[(leg, kind, campaign)].append(pk)
            campaigns = {
                c.pk: c for c in Campaign.objects.select_related("proposal").filter(pk__in={k[2] for k in groups})
            }
            for (leg, kind, campaign_id), pks in groups.items():
                emit(
                    type=EventType.CONVERSIONS_CONFIRMED
                    if kind == ReportedKind.CONVERSION
                    else EventType.MEMBERS_CONFIRMED,
                    proposal=campaigns[campaign_id].proposal,
                    actor_brand_id=None,
                    payload={"campaign": campaign_id, "leg": leg, "count": len(pks), "events": pks},
                )
            total += len(due)
            if len(due) < CONFIRM_CHUNK:
                return total
