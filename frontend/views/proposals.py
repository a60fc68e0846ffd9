"""A proposal's page and the actions on it (accept, decline, withdraw, message).

Thin views. The exchange's selectors decide what the caller may see (anything else is a 404,
so a proposal's existence is never revealed) and its services decide what the caller may do.
The composer is in ``compose``, the inbox in ``inbox``.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exchange import selectors, services
from exchange.models import Proposal
from exchange.states import OPEN_STATES, ProposalState
from frontend.composer import Meter
from frontend.exchange_forms import DeclineForm, MessageForm
from frontend.labels import page_error_items
from frontend.revisions import revision_views
from frontend.views.common import actor_of
from frontend.views.proposal_common import flash_errors, negotiates_for, proposal_or_404, refused, ui_language
from huiliu.text import ascii_int
from partners.actors import Actor
from partners.models import Brand


def _detail(request, proposal: Proposal, *, decline_form=None, message_form=None):
    actor = actor_of(request)
    lang = ui_language()
    views = revision_views(proposal, list(proposal.revisions.all()))
    current = views[-1] if views else None
    parties = (proposal.initiator_id, proposal.counterparty_id)
    member_of = [b for b in parties if actor.role_in(b) is not None]
    acting = [b for b in parties if negotiates_for(actor, b)]
    # The reader's own side on the left; for anyone else (staff) the initiator's.
    left_is_initiator = not member_of or member_of[0] == proposal.initiator_id
    brands = {proposal.initiator_id: proposal.initiator, proposal.counterparty_id: proposal.counterparty}
    left, right = (
        (proposal.initiator, proposal.counterparty)
        if left_is_initiator
        else (proposal.counterparty, proposal.initiator)
    )
    meter = None
    if current is not None:
        meter = Meter.of(
            services.revision_balance(current.revision),
            left_is_initiator=left_is_initiator,
            left_name=left.display_name(lang),
            right_name=right.display_name(lang),
            reader_is_left=bool(member_of),
        )
    is_open = proposal.state in OPEN_STATES
    can_answer = is_open and proposal.turn_id in acting
    return render(
        request,
        "frontend/proposals/detail.html",
        {
            "proposal": proposal,
            "brands": brands,
            "left": left,
            "right": right,
            "current": current,
            "current_sides": (current.sides if left_is_initiator else current.sides[::-1]) if current else [],
            "history": views[::-1],
            "meter": meter,
            "is_party": bool(member_of),
            "my_turn": proposal.turn_id in member_of,
            "read_only": not acting,
            "can_answer": can_answer,
            "can_withdraw": is_open and proposal.initiator_id in acting,
            "can_message": bool(acting),
            "thread": list(proposal.messages.all()),
            "decline_form": decline_form or DeclineForm(initial={"revision": proposal.revision_number}),
            "message_form": message_form or MessageForm(),
            "campaign": selectors.campaign_for_proposal(actor=actor, proposal=proposal)
            if proposal.state == ProposalState.ACCEPTED
            else None,
        },
    )


@login_required
def detail(request, pk: int):
    return _detail(request, proposal_or_404(actor_of(request), pk))


def _revision_posted(request) -> int:
    raw = (request.POST.get("revision") or "").strip()
    return ascii_int(raw, max_digits=9) or 0


@require_POST
@login_required
def accept(request, pk: int):
    actor = actor_of(request)
    proposal = proposal_or_404(actor, pk)
    try:
        proposal = services.proposal_accept(actor=actor, proposal=proposal, revision=_revision_posted(request))
    except ValidationError as exc:
        if refused(exc):
            raise PermissionDenied from None
        flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Swap accepted: revision %(n)d is now the agreement with %(brand)s.")
            % {"n": proposal.revision_number, "brand": _other_side(actor, proposal).display_name(ui_language())},
        )
    return redirect("frontend:proposal", pk=pk)


def _other_side(actor: Actor, proposal: Proposal) -> Brand:
    return proposal.counterparty if proposal.initiator_id in actor.brand_ids else proposal.initiator


@require_POST
@login_required
def decline(request, pk: int):
    actor = actor_of(request)
    proposal = proposal_or_404(actor, pk)
    form = DeclineForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_decline(
                actor=actor,
                proposal=proposal,
                revision=_revision_posted(request),
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
            )
        except ValidationError as exc:
            if refused(exc):
                raise PermissionDenied from None
            for field, _code, message in page_error_items(exc):
                form.add_error(field if field in ("reason", "note") else None, message)
        else:
            messages.success(
                request,
                _("You declined the proposal of %(brand)s.")
                % {"brand": _other_side(actor, proposal).display_name(ui_language())},
            )
            return redirect("frontend:proposal", pk=pk)
    return _detail(request, proposal_or_404(actor, pk), decline_form=form)


@require_POST
@login_required
def withdraw(request, pk: int):
    actor = actor_of(request)
    proposal = proposal_or_404(actor, pk)
    try:
        services.proposal_withdraw(actor=actor, proposal=proposal)
    except ValidationError as exc:
        if refused(exc):
            raise PermissionDenied from None
        flash_errors(request, exc)
    else:
        messages.success(request, _("You withdrew the proposal."))
    return redirect("frontend:proposal", pk=pk)


@require_POST
@login_required
def message(request, pk: int):
    actor = actor_of(request)
    proposal = proposal_or_404(actor, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_message_send(actor=actor, proposal=proposal, body=form.cleaned_data["body"])
        except ValidationError as exc:
            if refused(exc):
                raise PermissionDenied from None
            for _field, _code, text in page_error_items(exc):
                form.add_error("body", text)
        else:
            return redirect(reverse("frontend:proposal", args=[pk]) + "#thread")
    return _detail(request, proposal, message_form=form)
