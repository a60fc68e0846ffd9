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

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf
from exchange.errors import ExchangeError as E
from exchange.models import (
    Campaign,
    CampaignLeg,
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
from exchange.services.report_rows import Row, RowRejected, attribute, parse_row, targets_of
from exchange.services.rollups import day_of, rollup_add
from huiliu import bulk
from partners.actors import Actor
from partners.models import AuditAction, Brand
from partners.services import audit

log = logging.getLogger(__name__)

GMV_CURRENCY = "CNY"
CONFIRM_CHUNK = 1000
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
    parsed: list[Row] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        try:
            r = parse_row(kind, index, row, now)
        except RowRejected as exc:
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
        targets = targets_of(parsed)  # coupons locked first: a racing batch waits here, then sees our rows
        stored = dict(
            (ext, (pk, digest))
            for ext, pk, digest in ReportedEvent.objects.filter(
                brand=brand, kind=kind, external_id__in=[r.external_id for r in parsed]
            ).values_list("external_id", "pk", "payload_hash")
        )
        duplicates: list[tuple[Row, int]] = []
        fresh: list[Row] = []
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
                attribute(r, brand, targets, used)
            except RowRejected as exc:
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
        events = _events_of(kind, brand, new_rows, inserted, [pk for _r, pk in duplicates], now)
    for r in new_rows:
        result.accepted.append(Accepted(r.index, r.external_id, events[inserted[r.external_id]], False))
    for r, pk in duplicates:
        result.accepted.append(Accepted(r.index, r.external_id, events[pk], True))
    result.accepted.sort(key=lambda x: x.index)
    result.rejected.sort(key=lambda x: x.index)
    return result


def _events_of(
    kind: str, brand: Brand, new_rows: Sequence[Row], inserted: dict[str, int], old: Sequence[int], now: datetime
) -> dict[int, ReportedEvent]:
    """The accepted rows as model instances, cheaply: the new ones built from the values just
    inserted (no query), the duplicates read without joins, and every row's leg (with its two
    brands) and link shared from one small query each — a batch names a handful of legs, so
    500 rows make ~500 instances, not 3,000 joined ones."""
    events: dict[int, ReportedEvent] = {}
    for r in new_rows:
        event = ReportedEvent(**dict(zip(COLUMNS, _values(kind, brand, r, now), strict=True)))
        event.pk = inserted[r.external_id]
        event._state.adding, event._state.db = False, "default"
        events[event.pk] = event
    if old:
        events.update({e.pk: e for e in ReportedEvent.objects.filter(pk__in=list(old))})
    legs = CampaignLeg.objects.select_related("promoter", "promoted").in_bulk({e.leg_id for e in events.values()})
    links = TrackingLink.objects.in_bulk({e.link_id for e in events.values()})
    for event in events.values():
        event.brand, event.leg, event.link = brand, legs[event.leg_id], links[event.link_id]
    return events


def _conflict(r: Row) -> Rejected:
    return Rejected(
        r.index,
        r.external_id,
        E.CONFLICT,
        _("This external id was already reported with different details; it was not changed."),
    )


def _values(kind: str, brand: Brand, r: Row, now: datetime) -> tuple:
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


def _deltas(kind: str, rows: Sequence[Row], *, sign: int) -> dict:
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
