"""Swap proposals: propose, counter, accept, decline, withdraw, expire, and the message thread.

Every service runs in one transaction, locks the proposal row before reading its state (so of
two conflicting actions exactly one wins), writes the revision / state, an audit record and a
domain event (the outbox) together, and records the outcome for the matcher. On any error
nothing is written.

One idea at ~500 lines: the proposal's state machine (each transition with its guards, audit,
outbox event and outcome). Drafting and valuing a revision is in ``drafting``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from exchange import conf, selectors, valuation
from exchange.errors import ExchangeError as E
from exchange.models import EventType, Placement, Proposal, ProposalMessage, Revision
from exchange.outbox import emit
from exchange.services.campaigns import campaign_create
from exchange.services.common import can_act_for, error
from exchange.services.drafting import (
    PlacementSpec,
    Valued,
    clean_asks,
    clean_message,
    value_placements,
)
from exchange.signals import proposal_accepted
from exchange.states import OPEN_STATES, TRANSITIONS, DeclineReason, ProposalState, Who
from huiliu.db import advisory_xact_lock
from huiliu.text import is_blank
from matching import scheduling
from matching import selectors as matching_selectors
from matching import services as matching_services
from matching.models import OutcomeKind
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import AuditAction, Brand, BrandStatus
from partners.services import audit


def parties_check(brand: Brand, counterparty: Brand) -> None:
    """Both brands may trade with each other right now (raises the first reason why not). The
    composer asks it before anything is typed; every forward transition asks it again."""
    if brand.pk == counterparty.pk:
        raise error("counterparty", _("A brand cannot propose a swap to itself."), E.SELF_PROPOSAL)
    language = get_language() or "zh-hans"
    for field, b in (("brand", brand), ("counterparty", counterparty)):
        name = b.display_name(language)
        if b.status == BrandStatus.SUSPENDED:
            raise error(field, _("%(brand)s is suspended and cannot trade.") % {"brand": name}, E.SUSPENDED)
        if b.status != BrandStatus.APPROVED:
            raise error(
                field,
                _("%(brand)s is not approved on the marketplace yet: only approved brands can swap.") % {"brand": name},
                E.NOT_APPROVED,
            )
    if (brand.pk, counterparty.pk) in partner_selectors.blocked_pairs([brand.pk, counterparty.pk]):
        raise error("counterparty", _("One of the two brands has blocked the other."), E.BLOCKED)
    if partner_selectors.brands_compete(brand, counterparty):
        raise error(
            "counterparty",
            _("%(partner)s competes with %(brand)s: competitors cannot swap traffic.")
            % {"partner": counterparty.display_name(language), "brand": brand.display_name(language)},
            E.COMPETITOR,
        )


def _check_daily_limit(brand: Brand) -> None:
    """Counted under a per-brand lock held to the end of the transaction, so proposals sent
    at the same instant cannot all slip under the limit."""
    advisory_xact_lock(f"exchange.daily_limit.{brand.pk}")
    limit = conf.daily_limit()
    start = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    if Proposal.objects.filter(initiator=brand, created_at__gte=start).count() >= limit:
        raise error(
            "brand",
            _("%(brand)s has sent %(n)d proposals today, the daily limit. Try again tomorrow.")
            % {"brand": brand.name, "n": limit},
            E.DAILY_LIMIT,
        )


def _write_revision(
    *,
    actor: Actor,
    proposal: Proposal,
    author: Brand,
    valued: list[Valued],
    message: str,
    topup_cents: int,
    asks: list[dict[str, Any]],
) -> Revision:
    ini = sum(v.value_cents for v in valued if v.brand_id == proposal.initiator_id)
    cpt = sum(v.value_cents for v in valued if v.brand_id == proposal.counterparty_id)
    if isinstance(topup_cents, bool) or not isinstance(topup_cents, int) or topup_cents < 0:
        raise error("topup_cents", _("The cash top-up must be a whole number of cents, 0 or more."), E.INVALID_TOPUP)
    if topup_cents:
        raw_gap = abs(ini - cpt)
        if raw_gap == 0 or topup_cents > raw_gap:
            raise error(
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
        slot=proposal.slot,  # stamped at creation: the refresh it triggered removed the row
    )


def _refresh_pair(proposal: Proposal) -> None:
    """Opening or closing a negotiation changes both brands' recommendation lists."""
    ids = (proposal.initiator_id, proposal.counterparty_id)
    transaction.on_commit(lambda: [scheduling.schedule_brand_refresh(i) for i in ids])


def _close(proposal: Proposal, transition: str, *, now: datetime, **fields: Any) -> None:
    """Move an open proposal into the closing state of ``transition``: nobody's turn any more,
    closed at ``now`` (an expired one keeps the moment it expired as its expiry)."""
    proposal.state = TRANSITIONS[transition].target
    proposal.turn = None
    proposal.updated_at = proposal.closed_at = now
    if transition != "expire":
        proposal.expires_at = None
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.save()


def _locked(proposal: Proposal | int) -> Proposal:
    pk = proposal.pk if isinstance(proposal, Proposal) else proposal
    return Proposal.objects.select_for_update().select_related("initiator", "counterparty").get(pk=pk)


def _check_open_and_current(proposal: Proposal, revision: int | None) -> None:
    """Open, not past its expiry (the hourly sweep may not have run yet), and the revision the
    caller saw is still the current one."""
    expired = proposal.expires_at is not None and proposal.expires_at <= timezone.now()
    if proposal.state not in OPEN_STATES or expired:
        raise error(
            "proposal",
            _("This proposal is %(state)s; it can no longer be changed.")
            % {"state": ProposalState.EXPIRED.label if expired else proposal.get_state_display()},
            E.NOT_OPEN,
        )
    if revision is not None and revision != proposal.revision_number:
        raise error(
            "revision",
            _("The proposal has changed since you saw it (now revision %(n)d). Reload and try again.")
            % {"n": proposal.revision_number},
            E.STALE_REVISION,
        )


def _acting_side(actor: Actor, proposal: Proposal, who: str) -> Brand:
    """The brand ``actor`` acts for in this transition, or the matching refusal."""
    if who == Who.INITIATOR:
        if can_act_for(actor, proposal.initiator_id):
            return proposal.initiator
        if can_act_for(actor, proposal.counterparty_id):
            raise error("proposal", _("Only the brand that proposed the swap can withdraw it."), E.PERMISSION_DENIED)
    else:
        if can_act_for(actor, proposal.turn_id):
            return proposal.initiator if proposal.turn_id == proposal.initiator_id else proposal.counterparty
        if can_act_for(actor, proposal.other(proposal.turn_id)):
            raise error("proposal", _("It is the other brand's turn to answer."), E.NOT_YOUR_TURN)
    raise error("proposal", _("You are not allowed to do this."), E.PERMISSION_DENIED)


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
    if not can_act_for(actor, brand.pk):
        raise error("brand", _("You are not allowed to do this."), E.PERMISSION_DENIED)
    parties_check(brand, counterparty)
    _check_daily_limit(brand)
    low, high = sorted((brand.pk, counterparty.pk))
    if Proposal.objects.filter(pair_low=low, pair_high=high, state__in=OPEN_STATES).exists():
        raise error(
            "counterparty",
            _("There is already an open proposal between these two brands."),
            E.ALREADY_OPEN,
        )
    message = clean_message(message)
    asks = clean_asks(asks)
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
        # Which slot of the proposer's recommendations it came from (ranked / explore / none),
        # read before the refresh this proposal schedules removes the pair's row.
        slot=matching_selectors.recommendation_slot(brand_id=brand.pk, partner_id=counterparty.pk),
    )
    valued = value_placements(author=brand, other=counterparty, specs=placements, carried={})
    try:
        # A savepoint: a concurrent proposal for the same pair trips the partial unique index.
        with transaction.atomic():
            proposal.save()
    except IntegrityError:
        raise error(
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
    parties_check(author, other)
    current = proposal.revisions.get(number=proposal.revision_number)
    carried = {p.pk: p for p in current.placements.select_related("channel")}
    message = clean_message(message)
    asks = clean_asks(asks)
    valued = value_placements(author=author, other=other, specs=placements, carried=carried)
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
    Its campaign is created in the same transaction (``campaign_create``); ``proposal_accepted``
    is sent once it commits."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, revision)
    author = _acting_side(actor, proposal, TRANSITIONS["accept"].who)
    other = proposal.counterparty if author.pk == proposal.initiator_id else proposal.initiator
    parties_check(author, other)
    current = proposal.revisions.get(number=proposal.revision_number)
    placements = list(current.placements.all())
    if {p.brand_id for p in placements} != {proposal.initiator_id, proposal.counterparty_id}:
        raise error(
            "proposal",
            _("Both brands must offer at least one placement before the swap can be accepted."),
            E.EMPTY_SIDE,
        )
    if any(p.starts_on < timezone.localdate() for p in placements):
        # An agreement must be deliverable: counter with new dates instead.
        raise error(
            "proposal",
            _("A placement of this revision starts in the past; counter with new dates before accepting."),
            E.WINDOW_IN_PAST,
        )
    _close(proposal, "accept", now=timezone.now())
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
    campaign_create(actor=actor, proposal=proposal)  # same transaction: never an accepted swap without one
    proposal_id = proposal.pk
    transaction.on_commit(lambda: proposal_accepted.send(sender=Proposal, proposal_id=proposal_id))
    return proposal


@transaction.atomic
def proposal_decline(*, actor: Actor, proposal: Proposal, revision: int, reason: str, note: str = "") -> Proposal:
    """The side whose turn it is declines, with a reason (a choice, plus free text for "other")."""
    proposal = _locked(proposal)
    _check_open_and_current(proposal, revision)
    author = _acting_side(actor, proposal, TRANSITIONS["decline"].who)
    if reason not in DeclineReason.values:
        raise error("reason", _("Choose why you decline."), E.REASON_REQUIRED)
    note = clean_message(note, field="note")
    if reason == DeclineReason.OTHER and is_blank(note):
        raise error("note", _("Say in a few words why you decline."), E.REASON_REQUIRED)
    _close(proposal, "decline", now=timezone.now(), decline_reason=reason, decline_note=note)
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
    _close(proposal, "withdraw", now=timezone.now())
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
            _close(proposal, "expire", now=now)
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
    body = clean_message(body, required=True, field="body")
    sides = [b for b in (proposal.initiator, proposal.counterparty) if can_act_for(actor, b.pk)]
    if brand is not None:
        sides = [b for b in sides if b.pk == brand.pk]
    if not sides:
        raise error("proposal", _("Only the two brands can write in this thread."), E.PERMISSION_DENIED)
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
    return valuation.balance(
        revision.initiator_value_cents,
        revision.counterparty_value_cents,
        revision.topup_cents,
        tolerance_percent=selectors.tolerance_percent(),
    )
