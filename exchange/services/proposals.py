"""Swap proposals: propose, counter, accept, decline, withdraw, expire, and the message thread.

Every service runs in one transaction, locks the proposal row before reading its state (so of
two conflicting actions exactly one wins), writes the revision / state, an audit record and a
domain event (the outbox) together, and records the outcome for the matcher. On any error
nothing is written.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from exchange import conf, selectors, valuation
from exchange.errors import ExchangeError as E
from exchange.models import ChannelRate, EventType, Placement, PlacementFormat, Proposal, ProposalMessage, Revision
from exchange.outbox import emit
from exchange.signals import proposal_accepted
from exchange.states import OPEN_STATES, TRANSITIONS, DeclineReason, Who
from matching import scheduling
from matching import services as matching_services
from matching.models import OutcomeKind
from partners import selectors as partner_selectors
from partners.actors import EDIT_ROLES, Actor
from partners.models import AuditAction, Brand, BrandStatus, Channel
from partners.services import audit

MAX_QUANTITY = 10**12
MAX_MESSAGE = 4000


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


def _error(field: str, message: str, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _can_act_for(actor: Actor, brand_id: int) -> bool:
    """Negotiating is a brand member's act (owner or marketer, or a write key) — platform
    admins read proposals but never negotiate on a brand's behalf."""
    return actor.roles.get(brand_id) in EDIT_ROLES


# --- guards ---------------------------------------------------------------------------------
def _check_parties(brand: Brand, counterparty: Brand) -> None:
    """Both brands may trade with each other right now."""
    if brand.pk == counterparty.pk:
        raise _error("counterparty", _("A brand cannot propose a swap to itself."), E.SELF_PROPOSAL)
    for field, b in (("brand", brand), ("counterparty", counterparty)):
        if b.status == BrandStatus.SUSPENDED:
            raise _error(field, _("%(brand)s is suspended and cannot trade.") % {"brand": b.name}, E.SUSPENDED)
        if b.status != BrandStatus.APPROVED:
            raise _error(
                field, _("%(brand)s is not approved on the marketplace yet.") % {"brand": b.name}, E.NOT_APPROVED
            )
    if (brand.pk, counterparty.pk) in partner_selectors.blocked_pairs([brand.pk, counterparty.pk]):
        raise _error("counterparty", _("One of the two brands has blocked the other."), E.BLOCKED)
    if partner_selectors.brands_compete(brand, counterparty):
        raise _error(
            "counterparty", _("%(brand)s competes with your brand.") % {"brand": counterparty.name}, E.COMPETITOR
        )


def _check_daily_limit(brand: Brand) -> None:
    limit = conf.daily_limit()
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if Proposal.objects.filter(initiator=brand, created_at__gte=start).count() >= limit:
        raise _error(
            "brand",
            _("%(brand)s has sent %(n)d proposals today, the daily limit. Try again tomorrow.")
            % {"brand": brand.name, "n": limit},
            E.DAILY_LIMIT,
        )


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
class _Valued:
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


def _value_placements(
    *,
    author: Brand,
    other: Brand,
    specs: Iterable[PlacementSpec | Mapping[str, Any]],
    carried: Mapping[int, Placement],
    require_own: bool = True,
) -> list[_Valued]:
    """Validate and value every placement; all problems are reported at once."""
    rates = {(r.channel_type, r.format): r for r in ChannelRate.objects.all()}
    specs = [_as_spec(s) for s in specs]
    own_ids = [s.channel_id for s in specs if s.channel_id is not None]
    channels = {c.pk: c for c in Channel.objects.filter(pk__in=[i for i in own_ids if isinstance(i, int)])}
    today = timezone.localdate()
    errors: dict[str, list[ValidationError]] = {}
    out: list[_Valued] = []

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
            err(
                i,
                "quantity",
                _("This channel can carry at most %(cap)s for this placement.") % {"cap": f"{capacity:,}"},
                E.REACH_ABOVE_AUDIENCE,
            )
            continue
        notes = (spec.notes or "").strip()
        if len(notes) > 500:
            err(i, "notes", _("Notes are at most 500 characters."), E.INVALID)
            continue
        out.append(
            _Valued(
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
        raise _error("placements", _("Offer at least one placement of your own."), E.EMPTY_SIDE)
    return out


def _clean_asks(asks: Any) -> list[dict[str, Any]]:
    cleaned = []
    for i, ask in enumerate(asks or []):
        fmt = (ask or {}).get("format")
        qty = (ask or {}).get("quantity")
        if fmt not in PlacementFormat.values:
            raise _error(f"asks[{i}].format", _("Unknown placement format."), E.INVALID)
        if qty is not None and (isinstance(qty, bool) or not isinstance(qty, int) or not 0 < qty <= MAX_QUANTITY):
            raise _error(f"asks[{i}].quantity", _("The quantity must be a positive whole number."), E.INVALID)
        cleaned.append({"format": fmt, "quantity": qty, "note": str((ask or {}).get("note") or "")[:200]})
    if len(cleaned) > conf.max_placements():
        raise _error("asks", _("At most %(n)d asks.") % {"n": conf.max_placements()}, E.TOO_MANY_PLACEMENTS)
    return cleaned


def _clean_message(message: str, *, required: bool = False) -> str:
    message = (message or "").strip()
    if required and not message:
        raise _error("body", _("Write a message."), E.REQUIRED)
    if len(message) > MAX_MESSAGE:
        raise _error("message", _("A message is at most %(n)d characters.") % {"n": MAX_MESSAGE}, E.INVALID)
    return message


def _write_revision(
    *,
    actor: Actor,
    proposal: Proposal,
    author: Brand,
    valued: list[_Valued],
    message: str,
    topup_cents: int,
    asks: list[dict[str, Any]],
) -> Revision:
    ini = sum(v.value_cents for v in valued if v.brand_id == proposal.initiator_id)
    cpt = sum(v.value_cents for v in valued if v.brand_id == proposal.counterparty_id)
    if isinstance(topup_cents, bool) or not isinstance(topup_cents, int) or topup_cents < 0:
        raise _error("topup_cents", _("The cash top-up must be a whole number of cents, 0 or more."), E.INVALID_TOPUP)
    if topup_cents:
        raw_gap = abs(ini - cpt)
        if raw_gap == 0 or topup_cents > raw_gap:
            raise _error(
                "topup_cents",
                _("A cash top-up can only close the gap (at most %(gap)s cents) and is paid by the lighter side.")
                % {"gap": f"{raw_gap:,}"},
                E.INVALID_TOPUP,
            )
    lighter = None if ini == cpt else (proposal.initiator_id if ini < cpt else proposal.counterparty_id)
    revision = Revision.objects.create(
        proposal=proposal,
        number=proposal.revision_number,
        author=author,
        created_by=actor.user,
        created_by_key=actor.api_key,
        message=message,
        topup_cents=topup_cents,
        topup_from_id=lighter if topup_cents else None,
        asks=asks,
        initiator_value_cents=ini,
        counterparty_value_cents=cpt,
    )
    Placement.objects.bulk_create(
        [
            Placement(
                revision=revision,
                brand_id=v.brand_id,
                channel=v.channel,
                channel_type=v.channel_type,
                channel_label=v.channel_label,
                format=v.format,
                quantity=v.quantity,
                unit=v.unit,
                rate_cents=v.rate_cents,
                value_cents=v.value_cents,
                starts_on=v.starts_on,
                ends_on=v.ends_on,
                notes=v.notes,
                position=i,
            )
            for i, v in enumerate(valued)
        ]
    )
    return revision


def _payload(proposal: Proposal, **extra: Any) -> dict[str, Any]:
    return {
        "proposal": proposal.pk,
        "revision": proposal.revision_number,
        "state": proposal.state,
        "initiator": proposal.initiator.slug,
        "counterparty": proposal.counterparty.slug,
        **extra,
    }


def _record_outcome(proposal: Proposal, kind: str, reason: str = "") -> None:
    matching_services.outcome_record(
        brand_a_id=proposal.initiator_id,
        brand_b_id=proposal.counterparty_id,
        kind=kind,
        reason=reason,
        key=f"exchange:proposal:{proposal.pk}:{kind}",
    )


@dataclass
class Preview:
    """What the composer's live meter shows: each line's value (or its error), the balance,
    and how the lighter side could close the gap if that side is the caller's."""

    lines: list[tuple[_Valued | None, dict[str, list[str]]]]
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
    lines: list[tuple[_Valued | None, dict[str, list[str]]]] = []
    for spec in placements:
        try:
            (v,) = _value_placements(author=brand, other=counterparty, specs=[spec], carried=carried, require_own=False)
            lines.append((v, {}))
        except ValidationError as exc:
            fields = {k.split(".", 1)[-1]: [str(m) for m in msgs] for k, msgs in exc.message_dict.items()}
            lines.append((None, fields))
    ini = sum(v.value_cents for v, _e in lines if v is not None and v.brand_id == initiator_id)
    cpt = sum(v.value_cents for v, _e in lines if v is not None and v.brand_id != initiator_id)
    topup = topup_cents if isinstance(topup_cents, int) and not isinstance(topup_cents, bool) else 0
    bal = valuation.balance(ini, cpt, topup)
    author_side = "initiator" if brand.pk == initiator_id else "counterparty"
    lighter_is_author = bal.lighter == author_side
    suggestions: list[valuation.Suggestion] = []
    if lighter_is_author and _can_act_for(actor, brand.pk):
        suggestions = valuation.suggest(
            gap_cents=bal.gap_cents, channels=selectors.channel_options(brand=brand), rates=selectors.rate_table()
        )
    return Preview(lines=lines, balance=bal, suggestions=suggestions, lighter_is_author=lighter_is_author)


def _refresh_pair(proposal: Proposal) -> None:
    """Opening or closing a negotiation changes both brands' recommendation lists."""
    ids = (proposal.initiator_id, proposal.counterparty_id)
    transaction.on_commit(lambda: [scheduling.schedule_brand_refresh(i) for i in ids])


def _locked(proposal: Proposal | int) -> Proposal:
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    return Proposal.objects.select_for_update().select_related("initiator", "counterparty").get(pk=pk)


def _check_open_and_current(proposal: Proposal, revision: int | None) -> None:
    if proposal.state not in OPEN_STATES:
        raise _error(
            "proposal",
            _("This proposal is %(state)s; it can no longer be changed.") % {"state": proposal.get_state_display()},
            E.NOT_OPEN,
        )
    if revision is not None and revision != proposal.revision_number:
        raise _error(
            "revision",
            _("The proposal has changed since you saw it (now revision %(n)d). Reload and try again.")
            % {"n": proposal.revision_number},
            E.STALE_REVISION,
        )


def _acting_side(actor: Actor, proposal: Proposal, who: str) -> Brand:
    """The brand ``actor`` acts for in this transition, or the matching refusal."""
    if who == Who.INITIATOR:
        if _can_act_for(actor, proposal.initiator_id):
            return proposal.initiator
        if _can_act_for(actor, proposal.counterparty_id):
            raise _error("proposal", _("Only the brand that proposed the swap can withdraw it."), E.PERMISSION_DENIED)
    else:
        if _can_act_for(actor, proposal.turn_id):
            return proposal.initiator if proposal.turn_id == proposal.initiator_id else proposal.counterparty
        if _can_act_for(actor, proposal.other(proposal.turn_id)):
            raise _error("proposal", _("It is the other brand's turn to answer."), E.NOT_YOUR_TURN)
    raise _error("proposal", _("You are not allowed to do this."), E.PERMISSION_DENIED)


# --- services ---------------------------------------------------------------------------------
@transaction.atomic
def proposal_create(
    *,
    actor: Actor,
    brand: Brand,
    counterparty: Brand,
    placements: Iterable[PlacementSpec | Mapping[str, Any]],
    message: str = "",
    topup_cents: int = 0,
    asks: Any = None,
) -> Proposal:
    """``brand`` proposes a swap to ``counterparty``: revision 1 with ``brand``'s placements (and
    optionally what it would like in return, ``asks``). It is then the counterparty's turn."""
    if not _can_act_for(actor, brand.pk):
        raise _error("brand", _("You are not allowed to do this."), E.PERMISSION_DENIED)
    _check_parties(brand, counterparty)
    _check_daily_limit(brand)
    low, high = sorted((brand.pk, counterparty.pk))
    if Proposal.objects.filter(pair_low=low, pair_high=high, state__in=OPEN_STATES).exists():
        raise _error(
            "counterparty",
            _("There is already an open proposal between these two brands."),
            E.ALREADY_OPEN,
        )
    message = _clean_message(message)
    asks = _clean_asks(asks)
    now = timezone.now()
    proposal = Proposal(
        initiator=brand,
        counterparty=counterparty,
        turn=counterparty,
        revision_number=1,
        created_by=actor.user,
        created_at=now,
        updated_at=now,
        expires_at=now + timedelta(days=conf.expiry_days()),
    )
    valued = _value_placements(author=brand, other=counterparty, specs=placements, carried={})
    try:
        # A savepoint: a concurrent proposal for the same pair trips the partial unique index.
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        raise _error(
            "counterparty", _("There is already an open proposal between these two brands."), E.ALREADY_OPEN
        ) from None
    revision = _write_revision(
        actor=actor, proposal=proposal, author=brand, valued=valued, message=message, topup_cents=topup_cents, asks=asks
    )
    audit(actor=actor, action=AuditAction.PROPOSAL_CREATED, obj=proposal, brand=brand, data={"to": counterparty.slug})
    emit(
        type=EventType.PROPOSAL_CREATED,
        proposal=proposal,
        actor_brand_id=brand.pk,
        payload=_payload(
            proposal,
            initiator_value_cents=revision.initiator_value_cents,
            counterparty_value_cents=revision.counterparty_value_cents,
        ),
    )
    _record_outcome(proposal, OutcomeKind.PROPOSED)
    _refresh_pair(proposal)
    return proposal


@transaction.atomic
def proposal_counter(
    *,
    actor: Actor,
    proposal: Proposal,
    revision: int,
    placements: Iterable[PlacementSpec | Mapping[str, Any]],
    message: str = "",
    topup_cents: int = 0,
    asks: Any = None,
) -> Proposal:
    """The side whose turn it is answers with a new revision (its own channels, and the other
    side's placements carried over with ``based_on_id``, possibly changed). The turn passes."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, revision)
    author = _acting_side(actor, proposal, TRANSITIONS["counter"].who)
    other = proposal.counterparty if author.pk == proposal.initiator_id else proposal.initiator
    _check_parties(author, other)
    current = proposal.revisions.get(number=proposal.revision_number)
    carried = {p.pk: p for p in current.placements.select_related("channel")}
    message = _clean_message(message)
    asks = _clean_asks(asks)
    valued = _value_placements(author=author, other=other, specs=placements, carried=carried)
    now = timezone.now()
    proposal.revision_number += 1
    proposal.state = TRANSITIONS["counter"].target
    proposal.turn = other
    proposal.updated_at = now
    proposal.expires_at = now + timedelta(days=conf.expiry_days())
    proposal.save()
    new = _write_revision(
        actor=actor,
        proposal=proposal,
        author=author,
        valued=valued,
        message=message,
        topup_cents=topup_cents,
        asks=asks,
    )
    audit(
        actor=actor,
        action=AuditAction.PROPOSAL_COUNTERED,
        obj=proposal,
        brand=author,
        data={"revision": new.number},
    )
    emit(
        type=EventType.PROPOSAL_COUNTERED,
        proposal=proposal,
        actor_brand_id=author.pk,
        payload=_payload(
            proposal,
            initiator_value_cents=new.initiator_value_cents,
            counterparty_value_cents=new.counterparty_value_cents,
        ),
    )
    return proposal


@transaction.atomic
def proposal_accept(*, actor: Actor, proposal: Proposal, revision: int) -> Proposal:
    """The side whose turn it is accepts the current revision (both sides must give something).
    The accepted proposal is what a campaign is created from (``proposal_accepted`` signal)."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, revision)
    author = _acting_side(actor, proposal, TRANSITIONS["accept"].who)
    other = proposal.counterparty if author.pk == proposal.initiator_id else proposal.initiator
    _check_parties(author, other)
    current = proposal.revisions.get(number=proposal.revision_number)
    sides = set(current.placements.values_list("brand_id", flat=True))
    if sides != {proposal.initiator_id, proposal.counterparty_id}:
        raise _error(
            "proposal",
            _("Both brands must offer at least one placement before the swap can be accepted."),
            E.EMPTY_SIDE,
        )
    now = timezone.now()
    proposal.state = TRANSITIONS["accept"].target
    proposal.turn = None
    proposal.updated_at = proposal.closed_at = now
    proposal.expires_at = None
    proposal.save()
    audit(
        actor=actor,
        action=AuditAction.PROPOSAL_ACCEPTED,
        obj=proposal,
        brand=author,
        data={"revision": current.number},
    )
    emit(
        type=EventType.PROPOSAL_ACCEPTED,
        proposal=proposal,
        actor_brand_id=author.pk,
        payload=_payload(
            proposal,
            initiator_value_cents=current.initiator_value_cents,
            counterparty_value_cents=current.counterparty_value_cents,
        ),
    )
    _record_outcome(proposal, OutcomeKind.ACCEPTED)
    _refresh_pair(proposal)
    proposal_id = proposal.pk
    transaction.on_commit(lambda: proposal_accepted.send(sender=Proposal, proposal_id=proposal_id))
    return proposal


@transaction.atomic
def proposal_decline(*, actor: Actor, proposal: Proposal, revision: int, reason: str, note: str = "") -> Proposal:
    """The side whose turn it is declines, with a reason (a choice, plus free text for "other")."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, revision)
    author = _acting_side(actor, proposal, TRANSITIONS["decline"].who)
    note = (note or "").strip()
    if reason not in DeclineReason.values:
        raise _error("reason", _("Choose why you decline."), E.REASON_REQUIRED)
    if reason == DeclineReason.OTHER and not note:
        raise _error("note", _("Say in a few words why you decline."), E.REASON_REQUIRED)
    if len(note) > MAX_MESSAGE:
        raise _error("note", _("A message is at most %(n)d characters.") % {"n": MAX_MESSAGE}, E.INVALID)
    now = timezone.now()
    proposal.state = TRANSITIONS["decline"].target
    proposal.turn = None
    proposal.decline_reason, proposal.decline_note = reason, note
    proposal.updated_at = proposal.closed_at = now
    proposal.expires_at = None
    proposal.save()
    audit(
        actor=actor,
        action=AuditAction.PROPOSAL_DECLINED,
        obj=proposal,
        brand=author,
        reason=note,
        data={"reason": reason},
    )
    emit(
        type=EventType.PROPOSAL_DECLINED,
        proposal=proposal,
        actor_brand_id=author.pk,
        payload=_payload(proposal, reason=reason, note=note),
    )
    _record_outcome(proposal, OutcomeKind.DECLINED, reason=reason)
    _refresh_pair(proposal)
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor: Actor, proposal: Proposal) -> Proposal:
    """The initiator withdraws its proposal while it is open (whoever's turn it is)."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, None)
    author = _acting_side(actor, proposal, TRANSITIONS["withdraw"].who)
    now = timezone.now()
    proposal.state = TRANSITIONS["withdraw"].target
    proposal.turn = None
    proposal.updated_at = proposal.closed_at = now
    proposal.expires_at = None
    proposal.save()
    audit(actor=actor, action=AuditAction.PROPOSAL_WITHDRAWN, obj=proposal, brand=author)
    emit(type=EventType.PROPOSAL_WITHDRAWN, proposal=proposal, actor_brand_id=author.pk, payload=_payload(proposal))
    _refresh_pair(proposal)
    return proposal


def proposals_expire(*, now: datetime | None = None) -> int:
    """Expire every open proposal unanswered past its ``expires_at``. Each in its own
    transaction with the row locked, so an answer racing the sweep either lands first (the
    proposal is no longer due) or finds it expired. Returns how many expired."""
    now = now or timezone.now()
    due = list(Proposal.objects.filter(state__in=OPEN_STATES, expires_at__lte=now).values_list("pk", flat=True)[:1000])
    expired = 0
    system = Actor.system_actor()
    for pk in due:
        with transaction.atomic():
            proposal = _locked(pk)
            if proposal.state not in OPEN_STATES or proposal.expires_at is None or proposal.expires_at > now:
                continue
            proposal.state = TRANSITIONS["expire"].target
            proposal.turn = None
            proposal.updated_at = proposal.closed_at = now
            proposal.save()
            audit(actor=system, action=AuditAction.PROPOSAL_EXPIRED, obj=proposal, brand=proposal.initiator)
            emit(type=EventType.PROPOSAL_EXPIRED, proposal=proposal, actor_brand_id=None, payload=_payload(proposal))
            _record_outcome(proposal, OutcomeKind.EXPIRED)
            _refresh_pair(proposal)
            expired += 1
    return expired


@transaction.atomic
def proposal_message_send(
    *, actor: Actor, proposal: Proposal, body: str, brand: Brand | None = None
) -> ProposalMessage:
    """A message in the proposal's thread from one of the two parties (open or closed: the
    thread stays the place to talk). ``brand`` chooses the side when the actor is in both."""
    body = _clean_message(body, required=True)
    sides = [b for b in (proposal.initiator, proposal.counterparty) if _can_act_for(actor, b.pk)]
    if brand is not None:
        sides = [b for b in sides if b.pk == brand.pk]
    if not sides:
        raise _error("proposal", _("Only the two brands can write in this thread."), E.PERMISSION_DENIED)
    author = sides[0]
    msg = ProposalMessage.objects.create(
        proposal=proposal, brand=author, author=actor.user, author_key=actor.api_key, body=body
    )
    emit(
        type=EventType.PROPOSAL_MESSAGE,
        proposal=proposal,
        actor_brand_id=author.pk,
        payload=_payload(proposal, message=msg.pk, preview=body[:140]),
    )
    return msg


def revision_balance(revision: Revision) -> valuation.Balance:
    return valuation.balance(revision.initiator_value_cents, revision.counterparty_value_cents, revision.topup_cents)
