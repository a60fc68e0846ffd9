"""Drafting a revision: what a caller's placements are worth, whether each one is allowed
(its channel, format, quantity and window), and the dry-run valuation the composer's balance
meter shows. Nothing here writes; ``proposals`` writes what passes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf, selectors, valuation
from exchange.errors import ExchangeError as E
from exchange.models import ChannelRate, Placement, PlacementFormat, Proposal
from exchange.services.common import can_act_for, error
from exchange.states import Side
from huiliu.errors import error_items
from huiliu.text import clean_free_text, is_blank
from partners.actors import Actor
from partners.models import Brand, Channel

MAX_QUANTITY = 10**12
MAX_MESSAGE = 4000
MAX_NOTES = Placement._meta.get_field("notes").max_length
MAX_ASK_NOTE = 200


def _free_text(value: Any, field: str, *, required: bool = False, max_length: int | None = None) -> str:
    """Free text (line breaks allowed, other control characters not), keyed by ``field``."""
    try:
        return clean_free_text(value, field.rsplit(".", 1)[-1], required=required, max_length=max_length)
    except ValidationError as exc:
        raise ValidationError({field: exc}) from None


@dataclass(frozen=True)
class PlacementSpec:
    """One placement as a caller describes it. ``channel_id`` names one of the author's own
    channels; ``based_on_id`` instead carries a placement of the current revision over (the
    only way to change the other side's placements, whose channels are private)."""

    format: str
    quantity: int
    starts_on: date
    ends_on: date
    channel_id: int | None = None
    based_on_id: int | None = None
    notes: str = ""


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None


def _as_spec(raw: PlacementSpec | Mapping[str, Any]) -> PlacementSpec:
    if isinstance(raw, PlacementSpec):
        return raw
    return PlacementSpec(
        format=raw.get("format") or "",
        quantity=raw.get("quantity"),
        starts_on=raw.get("starts_on"),
        ends_on=raw.get("ends_on"),
        channel_id=raw.get("channel_id"),
        based_on_id=raw.get("based_on_id"),
        notes=raw.get("notes") or "",
    )


@dataclass
class Valued:
    brand_id: int
    channel: Channel | None
    channel_type: str
    channel_label: str
    format: str
    quantity: int
    unit: str
    rate_cents: int
    value_cents: int
    starts_on: date
    ends_on: date
    notes: str


def value_placements(
    *,
    author: Brand,
    other: Brand,
    specs: Iterable[PlacementSpec | Mapping[str, Any]],
    carried: Mapping[int, Placement],
    require_own: bool = True,
) -> list[Valued]:
    """Validate and value every placement; all problems are reported at once."""
    rates = {(r.channel_type, r.format): r for r in ChannelRate.objects.all()}
    specs = [_as_spec(s) for s in specs]
    own_ids = [s.channel_id for s in specs if s.channel_id is not None]
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=[i for i in own_ids if isinstance(i, int)])}
    today = timezone.localdate()
    errors: dict[str, list[ValidationError]] = {}
    out: list[Valued] = []

    def err(i: int, field: str, message: str, code: str) -> None:
        errors.setdefault(f"placements[{i}].{field}", []).append(ValidationError(message, code=code))

    for i, spec in enumerate(specs):
        # Whose channel is it?
        if spec.channel_id is not None:
            channel = channels.get(spec.channel_id)
            if channel is None or channel.brand_id != author.pk:
                err(i, "channel", _("This channel is not one of your brand's channels."), E.NOT_YOUR_CHANNEL)
                continue
            brand_id, channel_type, label = author.pk, channel.type, channel.label
        elif spec.based_on_id is not None:
            base = carried.get(spec.based_on_id)
            if base is None:
                err(
                    i,
                    "based_on",
                    _("Only placements of the current revision can be carried over."),
                    E.NOT_YOUR_CHANNEL,
                )
                continue
            channel, brand_id, channel_type, label = base.channel, base.brand_id, base.channel_type, base.channel_label
            if channel is None:
                err(i, "based_on", _("That channel no longer exists."), E.NOT_YOUR_CHANNEL)
                continue
        else:
            err(i, "channel", _("Choose a channel for this placement."), E.REQUIRED)
            continue
        rate = rates.get((channel_type, spec.format))
        if rate is None:
            err(
                i,
                "format",
                _("This format cannot be offered on this channel type."),
                E.FORMAT_NOT_AVAILABLE,
            )
            continue
        starts, ends = _as_date(spec.starts_on), _as_date(spec.ends_on)
        if starts is None or ends is None:
            err(i, "window", _("Give the window as two dates (YYYY-MM-DD)."), E.INVALID)
            continue
        if starts < today:
            err(i, "starts_on", _("The window cannot start in the past."), E.WINDOW_IN_PAST)
            continue
        if ends < starts:
            err(i, "ends_on", _("The window ends before it starts."), E.WINDOW_INVERTED)
            continue
        days = (ends - starts).days + 1
        if days > conf.max_window_days():
            err(
                i,
                "ends_on",
                _("A window is at most %(n)d days long.") % {"n": conf.max_window_days()},
                E.WINDOW_TOO_LONG,
            )
            continue
        quantity = spec.quantity
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 < quantity <= MAX_QUANTITY:
            err(i, "quantity", _("The quantity must be a positive whole number."), E.INVALID)
            continue
        capacity = valuation.channel_capacity(
            channel_type=channel.type, size=channel.size, active_rate=channel.active_rate, fmt=spec.format, days=days
        )
        if quantity > capacity:
            # The other brand's channel figures are private to it: no number in that message.
            message = (
                _("This channel can carry at most %(cap)s for this placement.") % {"cap": f"{capacity:,}"}
                if brand_id == author.pk
                else _("This is more than their channel can carry for this placement.")
            )
            err(
                i,
                "quantity",
                message,
                E.REACH_ABOVE_AUDIENCE,
            )
            continue
        notes = (spec.notes or "").strip()
        if len(notes) > MAX_NOTES:
            err(i, "notes", _("Notes are at most %(n)d characters.") % {"n": MAX_NOTES}, E.INVALID)
            continue
        try:
            notes = clean_free_text(notes, "notes")
        except ValidationError as exc:
            err(i, "notes", exc.messages[0], E.INVALID)
            continue
        out.append(
            Valued(
                brand_id=brand_id,
                channel=channel,
                channel_type=channel_type,
                channel_label=label,
                format=spec.format,
                quantity=quantity,
                unit=rate.unit,
                rate_cents=rate.rate_cents,
                value_cents=valuation.placement_value(quantity, rate.rate_cents, rate.unit),
                starts_on=starts,
                ends_on=ends,
                notes=notes,
            )
        )
    limit = conf.max_placements()
    for side in (author.pk, other.pk):
        if sum(1 for v in out if v.brand_id == side) > limit:
            errors.setdefault("placements", []).append(
                ValidationError(
                    _("At most %(n)d placements per side.") % {"n": limit},
                    code=E.TOO_MANY_PLACEMENTS,
                )
            )
            break
    if errors:
        raise ValidationError(errors)
    if require_own and not any(v.brand_id == author.pk for v in out):
        raise error("placements", _("Offer at least one placement of your own."), E.EMPTY_SIDE)
    return out


def clean_asks(asks: Any) -> list[dict[str, Any]]:
    cleaned = []
    for i, ask in enumerate(asks or []):
        fmt = (ask or {}).get("format")
        qty = (ask or {}).get("quantity")
        if fmt not in PlacementFormat.values:
            raise error(f"asks[{i}].format", _("Unknown placement format."), E.INVALID)
        if qty is not None and (isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= MAX_QUANTITY):
            raise error(f"asks[{i}].quantity", _("The quantity must be a positive whole number."), E.INVALID)
        note = _free_text((ask or {}).get("note"), f"asks[{i}].note", max_length=MAX_ASK_NOTE)
        cleaned.append({"format": fmt, "quantity": qty, "note": note})
    if len(cleaned) > conf.max_placements():
        raise error("asks", _("At most %(n)d asks.") % {"n": conf.max_placements()}, E.TOO_MANY_PLACEMENTS)
    return cleaned


def clean_message(message: str, *, required: bool = False, field: str = "message") -> str:
    """A message (or a decline note, ``field``): free text of at most MAX_MESSAGE characters;
    invisible characters alone do not make a required message."""
    message = (message or "").strip() if isinstance(message, str) else message
    if required and (not message or (isinstance(message, str) and is_blank(message))):
        raise error(field, _("Write a message."), E.REQUIRED)
    if isinstance(message, str) and len(message) > MAX_MESSAGE:
        raise error(field, _("A message is at most %(n)d characters.") % {"n": MAX_MESSAGE}, E.INVALID)
    return _free_text(message, field)


@dataclass(frozen=True)
class LineProblem:
    """Why one line of a draft cannot be valued: its field (``quantity``…), code and message."""

    field: str
    code: str
    message: str


@dataclass
class Preview:
    """What the composer's live meter shows: each line's value (or its error), the balance,
    and how the lighter side could close the gap if that side is the caller's."""

    lines: list[tuple[Valued | None, list[LineProblem]]]
    balance: valuation.Balance
    suggestions: list[valuation.Suggestion]
    lighter_is_author: bool


def proposal_preview(
    *,
    actor: Actor,
    brand: Brand,
    counterparty: Brand,
    placements: Iterable[PlacementSpec | Mapping[str, Any]],
    topup_cents: int = 0,
    proposal: Proposal | None = None,
) -> Preview:
    """Value a draft revision without writing anything (the server computes every figure the
    composer shows — one rule, one place). Lines with errors count as zero."""
    carried: dict[int, Placement] = {}
    if proposal is not None:
        current = proposal.revisions.order_by("-number").first()
        if current is not None:
            carried = {p.pk: p for p in current.placements.select_related("channel")}
    initiator_id = proposal.initiator_id if proposal is not None else brand.pk
    lines: list[tuple[Valued | None, list[LineProblem]]] = []
    for spec in placements:
        try:
            (v,) = value_placements(author=brand, other=counterparty, specs=[spec], carried=carried, require_own=False)
            lines.append((v, []))
        except ValidationError as exc:
            problems = [LineProblem(f.split(".", 1)[-1], code, message) for f, code, message in error_items(exc)]
            lines.append((None, problems))
    ini = sum(v.value_cents for v, _e in lines if v is not None and v.brand_id == initiator_id)
    cpt = sum(v.value_cents for v, _e in lines if v is not None and v.brand_id != initiator_id)
    topup = topup_cents if isinstance(topup_cents, int) and not isinstance(topup_cents, bool) else 0
    bal = valuation.balance(ini, cpt, topup, tolerance_percent=selectors.tolerance_percent())
    author_side = Side.INITIATOR if brand.pk == initiator_id else Side.COUNTERPARTY
    lighter_is_author = bal.lighter == author_side
    suggestions: list[valuation.Suggestion] = []
    if lighter_is_author and can_act_for(actor, brand.pk):
        suggestions = valuation.suggest(
            gap_cents=bal.gap_cents, channels=selectors.channel_options(brand=brand), rates=selectors.rate_table()
        )
    return Preview(lines=lines, balance=bal, suggestions=suggestions, lighter_is_author=lighter_is_author)
