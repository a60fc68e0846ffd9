"""The swap composer's form: rows of placements (the author's own, and in a counter the other
side's, carried over with ``based_on_id``), asks, a cash top-up and a message.

Not a Django formset: rows are added in the browser and indexed by their names
(``mine-3-quantity``); blank rows are ignored. The form only turns posted strings into the
services' arguments and puts the services' errors (``placements[i].field``) back on the row
they belong to — every rule and every figure (values, capacity, balance) is the exchange's.

One idea at ~450 lines: the composer form and the meter it renders are read and written
together (rows, their errors, their figures); split, each half would need the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import valuation
from exchange.models import Placement, PlacementFormat, unit_for
from exchange.services import Preview
from exchange.states import Side
from frontend.labels import page_error_items
from huiliu.text import ascii_int

MINE, THEIRS, ASK = "mine", "their", "ask"
MAX_ROW_INDEX = 50  # higher indices are ignored: a posted form cannot make the server loop
NAME = re.compile(r"^(mine|their|ask)-(\d{1,3})-([a-z_]+)$")
MAX_TOPUP_CENTS = 10**13


def default_window() -> tuple[date, date]:
    start = timezone.localdate() + timedelta(days=1)
    return start, start + timedelta(days=6)


@dataclass(frozen=True)
class Offer:
    """One (channel, format) the author may offer: a channel of its own and a format that has
    a benchmark rate for that channel type."""

    channel: valuation.ChannelOption
    format: str
    rate_cents: int
    unit: str

    @property
    def value(self) -> str:
        return f"{self.channel.channel_id}:{self.format}"


@dataclass
class OfferGroup:
    channel: valuation.ChannelOption
    offers: list[Offer]

    @property
    def active_audience(self) -> int:
        return round(self.channel.size * self.channel.active_rate)


def offer_groups(
    channels: list[valuation.ChannelOption], rates: dict[tuple[str, str], tuple[int, str]]
) -> list[OfferGroup]:
    groups = []
    for ch in channels:
        offers = [
            Offer(ch, fmt, *rates[(ch.channel_type, fmt)])
            for fmt in PlacementFormat.values
            if (ch.channel_type, fmt) in rates
        ]
        if offers:
            groups.append(OfferGroup(ch, offers))
    return groups


@dataclass
class Row:
    kind: str
    index: int
    pick: str = ""  # mine: "channel_id:format"
    based_on: int | None = None  # their: the carried placement
    keep: bool = True  # their: False removes the placement from the counter
    format: str = ""
    quantity: str = ""
    starts_on: str = ""
    ends_on: str = ""
    notes: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    # Filled from the exchange's preview: the line's value, pricing unit and (own channels) capacity.
    value_cents: int | None = None
    unit: str = ""
    capacity: int | None = None
    # their rows: the placement as it stands in the current revision
    carried: Placement | None = None
    format_choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def prefix(self) -> str:
        return f"{self.kind}-{self.index}"

    @property
    def hint_id(self) -> str:
        return f"{self.prefix}-hint"

    @property
    def is_blank(self) -> bool:
        if self.kind == MINE:
            return not self.pick and not self.quantity.strip()
        if self.kind == ASK:
            return not self.format and not self.quantity.strip()
        return False

    def add_error(self, name: str, message: str) -> None:
        messages = self.errors.setdefault(name, [])
        if message not in messages:
            messages.append(message)

    @property
    def error_list(self) -> list[str]:
        return [m for msgs in self.errors.values() for m in msgs]

    @property
    def channel_id(self) -> int | None:
        return ascii_int(self.pick.split(":", 1)[0])

    @property
    def picked_format(self) -> str:
        return self.pick.split(":", 1)[1] if ":" in self.pick else ""


def _int_or_none(raw: str) -> int | None:
    """Reads "20000", "20,000" or "2万"-free digits; anything else is left for the service
    to refuse with its own message."""
    text = (raw or "").strip().replace(",", "").replace("，", "").replace(" ", "")
    return ascii_int(text, max_digits=15)


def _date_text(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value or "")


class ComposerForm:
    """Everything the composer posts. ``specs()`` gives the services' placements; the rows keep
    what the person typed, so a refused form comes back as it was sent."""

    def __init__(
        self,
        *,
        groups: list[OfferGroup],
        carried: list[Placement] | None = None,
        rates: dict[tuple[str, str], tuple[int, str]] | None = None,
    ):
        self.groups = groups
        self.offers = {o.value: o for g in groups for o in g.offers}
        self.carried = {p.pk: p for p in carried or []}
        self.rates = rates or {}
        self.mine: list[Row] = []
        self.their: list[Row] = []
        self.asks: list[Row] = []
        self.topup = ""
        self.topup_cents: int | None = 0
        self.message = ""
        self.revision = ""
        self.non_field_errors: list[str] = []
        self.errors: dict[str, list[str]] = {}  # topup, message
        self._spec_rows: list[Row] = []

    # --- building ---------------------------------------------------------------------------
    def _their_row(self, index: int, placement: Placement) -> Row:
        return Row(
            THEIRS,
            index,
            based_on=placement.pk,
            format=placement.format,
            quantity=str(placement.quantity),
            starts_on=placement.starts_on.isoformat(),
            ends_on=placement.ends_on.isoformat(),
            notes=placement.notes,
            carried=placement,
            format_choices=[
                (fmt, str(label))
                for fmt, label in PlacementFormat.choices
                if (placement.channel_type, fmt) in self.rates
            ],
        )

    def start(self, *, own: list[Placement] | None = None, revision: int | None = None) -> ComposerForm:
        """The first view of the composer: the author's current placements (a counter), every
        carried placement of the other side kept as it is, and one blank row of each kind."""
        for p in own or []:
            if p.channel_id is not None:
                self.mine.append(
                    Row(
                        MINE,
                        len(self.mine),
                        pick=f"{p.channel_id}:{p.format}",
                        quantity=str(p.quantity),
                        starts_on=p.starts_on.isoformat(),
                        ends_on=p.ends_on.isoformat(),
                        notes=p.notes,
                    )
                )
        for i, p in enumerate(self.carried.values()):
            self.their.append(self._their_row(i, p))
        self.revision = "" if revision is None else str(revision)
        self.add_blank_rows()
        return self

    def bind(self, post) -> ComposerForm:
        rows: dict[tuple[str, int], dict[str, str]] = {}
        for key in post:
            m = NAME.match(key)
            if m and int(m.group(2)) <= MAX_ROW_INDEX:
                rows.setdefault((m.group(1), int(m.group(2))), {})[m.group(3)] = post.get(key, "")
        for (kind, index), values in sorted(rows.items(), key=lambda item: (item[0][0], item[0][1])):
            text = {k: (v or "").strip() for k, v in values.items()}
            if kind == MINE:
                row = Row(MINE, index, pick=text.get("pick", "")[:40])
            elif kind == ASK:
                row = Row(ASK, index, format=text.get("format", "")[:40])
            else:
                based_on = _int_or_none(text.get("based_on", ""))
                placement = self.carried.get(based_on) if based_on is not None else None
                if placement is None:
                    continue  # not a placement of the current revision: nothing to carry over
                row = self._their_row(index, placement)
                row.keep = text.get("keep") == "1"
                row.format = text.get("format", "")[:40]
            row.quantity = text.get("quantity", "")[:30]
            row.starts_on = text.get("starts_on", "")[:20]
            row.ends_on = text.get("ends_on", "")[:20]
            row.notes = (values.get("notes") or values.get("note") or "").strip()[:600]
            {MINE: self.mine, THEIRS: self.their, ASK: self.asks}[kind].append(row)
        self.mine = [r for r in self.mine if not r.is_blank]
        self.asks = [r for r in self.asks if not r.is_blank]
        self.topup = (post.get("topup") or "").strip()[:20]
        self.topup_cents = self._parse_topup()
        self.message = post.get("message") or ""
        self.revision = (post.get("revision") or "").strip()[:10]
        return self

    def add_blank_rows(self) -> None:
        """One empty row of each kind to type into (the browser adds more)."""
        start, end = default_window()
        self.mine.append(Row(MINE, self.next_index(MINE), starts_on=start.isoformat(), ends_on=end.isoformat()))
        self.asks.append(Row(ASK, self.next_index(ASK)))

    def next_index(self, kind: str) -> int:
        rows = {MINE: self.mine, THEIRS: self.their, ASK: self.asks}[kind]
        return max((r.index for r in rows), default=-1) + 1

    # --- to the services ----------------------------------------------------------------------
    def specs(self) -> list[dict[str, Any]]:
        """The placements in the services' format; ``self._spec_rows[i]`` is the row of spec i."""
        specs: list[dict[str, Any]] = []
        self._spec_rows = []
        for row in self.mine:
            if row.is_blank:
                continue
            specs.append(
                {
                    "channel_id": row.channel_id,
                    "format": row.picked_format,
                    "quantity": _int_or_none(row.quantity),
                    "starts_on": row.starts_on,
                    "ends_on": row.ends_on,
                    "notes": row.notes,
                }
            )
            self._spec_rows.append(row)
        for row in self.their:
            if row.keep:
                specs.append(
                    {
                        "based_on_id": row.based_on,
                        "format": row.format,
                        "quantity": _int_or_none(row.quantity),
                        "starts_on": row.starts_on,
                        "ends_on": row.ends_on,
                        "notes": row.notes,
                    }
                )
                self._spec_rows.append(row)
        return specs

    def asks_payload(self) -> list[dict[str, Any]]:
        return [{"format": r.format, "quantity": _int_or_none(r.quantity), "note": r.notes} for r in self.asks]

    def _parse_topup(self) -> int | None:
        """The top-up in cents, 0 when empty, None (with an error) when it is not an amount."""
        text = self.topup.replace(",", "").replace("，", "").replace("¥", "").strip()
        if not text:
            return 0
        try:
            amount = Decimal(text)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
            self.errors.setdefault("topup", []).append(_("Enter an amount in yuan, e.g. 500 or 499.50."))
            return None
        cents = int(amount * 100)
        if cents > MAX_TOPUP_CENTS:
            self.errors.setdefault("topup", []).append(_("Enter an amount in yuan, e.g. 500 or 499.50."))
            return None
        return cents

    def revision_number(self) -> int:
        return ascii_int(self.revision, max_digits=9) or 0

    # --- back from the services ---------------------------------------------------------------------
    def apply_errors(self, exc: ValidationError) -> None:
        for name, _code, message in page_error_items(exc):
            self._place_error(name, message)

    def _place_error(self, name: str, message: str) -> None:
        m = re.match(r"^(placements|asks)\[(\d+)\]\.(\w+)$", name)
        if m:
            index, fld = int(m.group(2)), m.group(3)
            rows = self._spec_rows if m.group(1) == "placements" else self.asks
            if index < len(rows):
                row = rows[index]
                if row.kind == MINE and fld in ("channel", "format"):
                    fld = "pick"
                elif fld in ("window", "based_on"):
                    fld = "starts_on" if fld == "window" else "format"
                elif fld == "note":
                    fld = "notes"
                row.add_error(fld, message)
                return
        if name in ("topup_cents", "topup"):
            self.errors.setdefault("topup", []).append(message)
        elif name in ("message", "body"):
            self.errors.setdefault("message", []).append(message)
        elif message not in self.non_field_errors:
            self.non_field_errors.append(message)

    def apply_preview(self, preview: Preview) -> None:
        """Each line's value (or its errors) and, for the author's own channels, its capacity."""
        for i, (row, (valued, problems)) in enumerate(zip(self._spec_rows, preview.lines, strict=False)):
            for problem in problems:
                self._place_error(f"placements[{i}].{problem.field}", problem.message)
            if valued is not None:
                row.value_cents, row.unit = valued.value_cents, valued.unit
            if row.kind == MINE:
                offer = self.offers.get(row.pick)
                if offer is not None:
                    row.unit = offer.unit
                    row.capacity = valuation.channel_capacity(
                        channel_type=offer.channel.channel_type,
                        size=offer.channel.size,
                        active_rate=offer.channel.active_rate,
                        fmt=offer.format,
                        days=_days(row.starts_on, row.ends_on),
                    )
            elif row.carried is not None and not row.unit:
                row.unit = unit_for(row.format or row.carried.format)

    @property
    def has_errors(self) -> bool:
        rows = self.mine + self.their + self.asks
        return bool(self.non_field_errors or self.errors or any(r.errors for r in rows))

    @property
    def ask_formats(self) -> list[tuple[str, str]]:
        return [(v, str(label)) for v, label in PlacementFormat.choices]


def _days(starts: str, ends: str) -> int:
    try:
        return max(1, (date.fromisoformat(ends) - date.fromisoformat(starts)).days + 1)
    except ValueError:
        return 1


# --- the balance meter ---------------------------------------------------------------------------
@dataclass
class Meter:
    """The balance as one side reads it: ``left`` is the reader's brand (or the initiator, for
    a reader who is neither party), ``right`` the other. Every figure comes from the exchange."""

    left_name: str
    right_name: str
    left_cents: int
    right_cents: int
    gap_cents: int
    gap_percent: float
    balanced: bool
    lighter: str | None  # "left" | "right" | None
    topup_cents: int
    topup_from: str | None
    suggestions: list[valuation.Suggestion] = field(default_factory=list)
    reader_is_left: bool = True
    tolerance_percent: int = 10

    @classmethod
    def of(
        cls,
        balance: valuation.Balance,
        *,
        left_is_initiator: bool,
        left_name: str,
        right_name: str,
        suggestions: list[valuation.Suggestion] | None = None,
        reader_is_left: bool = True,
    ) -> Meter:
        def side(name: str | None) -> str | None:
            if name is None:
                return None
            return "left" if (name == Side.INITIATOR) == left_is_initiator else "right"

        left, right = (
            (balance.initiator_cents, balance.counterparty_cents)
            if left_is_initiator
            else (balance.counterparty_cents, balance.initiator_cents)
        )
        return cls(
            left_name=left_name,
            right_name=right_name,
            left_cents=left,
            right_cents=right,
            gap_cents=balance.gap_cents,
            gap_percent=balance.gap_percent,
            balanced=balance.balanced,
            lighter=side(balance.lighter),
            topup_cents=balance.topup_cents,
            topup_from=side(balance.topup_from),
            suggestions=list(suggestions or []),
            reader_is_left=reader_is_left,
            tolerance_percent=balance.tolerance_percent,
        )

    @property
    def total_cents(self) -> int:
        return self.left_cents + self.right_cents

    @property
    def left_share(self) -> float:
        """The left side's share of all value given (0.5 when nothing is offered yet)."""
        total = self.left_cents + self.right_cents + self.topup_cents
        left = self.left_cents + (self.topup_cents if self.topup_from == "left" else 0)
        return left / total if total else 0.5

    @property
    def empty(self) -> bool:
        return self.left_cents == 0 and self.right_cents == 0
