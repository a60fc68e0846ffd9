"""The composer on the web: a new proposal or a counter, with its live balance meter (htmx).

Every figure shown — values, capacity, balance, suggestions — comes from the exchange
(``proposal_preview``); the services decide on submit.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exchange import selectors, services
from exchange.models import Proposal, Revision
from exchange.states import OPEN_STATES
from frontend.composer import ASK, MINE, ComposerForm, Meter, Row, default_window, offer_groups
from frontend.labels import page_error_items
from frontend.views.common import actor_of, brand_for
from frontend.views.proposal_common import negotiates_for, proposal_or_404, refused, ui_language
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand
from partners.validation import SLUG_RE


# --- the composer --------------------------------------------------------------------------------
@dataclass
class Draft:
    """The revision being drafted: its author (a brand of the caller's), the other brand, and
    for a counter the proposal and its current revision."""

    author: Brand
    other: Brand
    proposal: Proposal | None = None
    revision: Revision | None = None

    @property
    def author_is_initiator(self) -> bool:
        return self.proposal is None or self.proposal.initiator_id == self.author.pk

    def urls(self) -> dict[str, str]:
        if self.proposal is None:
            new = reverse("frontend:proposal_new", args=[self.author.slug])
            return {"submit": new, "preview": reverse("frontend:proposal_new_preview", args=[self.author.slug])}
        return {
            "submit": reverse("frontend:proposal_counter", args=[self.proposal.pk]),
            "preview": reverse("frontend:proposal_counter_preview", args=[self.proposal.pk]),
            "cancel": reverse("frontend:proposal", args=[self.proposal.pk]),
        }


def _new_draft(request, slug: str) -> Draft:
    actor = actor_of(request)
    brand = brand_for(request, slug, need="edit")
    if not negotiates_for(actor, brand.pk):
        raise PermissionDenied  # a platform admin may edit a brand, never negotiate for it
    partner_slug = request.POST.get("partner") or request.GET.get("partner") or ""
    if not SLUG_RE.fullmatch(partner_slug):  # not a slug (a NUL would even reach the database)
        raise Http404
    partner = partner_selectors.brand_marketplace(actor=actor).filter(slug=partner_slug).first()
    if partner is None or partner.pk == brand.pk:
        raise Http404
    return Draft(brand, partner)


def _counter_draft(request, pk: int) -> Draft | None:
    """The draft of a counter, or None when the caller may not counter now (not open, not
    their turn): the proposal page then says why."""
    actor = actor_of(request)
    proposal = proposal_or_404(actor, pk)
    if proposal.state not in OPEN_STATES or not negotiates_for(actor, proposal.turn_id):
        return None
    if proposal.turn_id == proposal.initiator_id:
        author, other = proposal.initiator, proposal.counterparty
    else:
        author, other = proposal.counterparty, proposal.initiator
    return Draft(author, other, proposal, selectors.current_revision(proposal))


def _form(draft: Draft) -> ComposerForm:
    rates = selectors.rate_table()
    groups = offer_groups(selectors.channel_options(brand=draft.author), rates)
    carried = []
    if draft.revision is not None:
        carried = [p for p in draft.revision.placements.all() if p.brand_id == draft.other.pk]
    return ComposerForm(groups=groups, carried=carried, rates=rates)


def _meter(actor: Actor, draft: Draft, form: ComposerForm) -> Meter:
    """Value the draft through the exchange and put each line's figures on its row."""
    preview = services.proposal_preview(
        actor=actor,
        brand=draft.author,
        counterparty=draft.other,
        placements=form.specs(),
        topup_cents=form.topup_cents or 0,
        proposal=draft.proposal,
    )
    form.apply_preview(preview)
    return Meter.of(
        preview.balance,
        left_is_initiator=draft.author_is_initiator,
        left_name=draft.author.display_name(ui_language()),
        right_name=draft.other.display_name(ui_language()),
        suggestions=preview.suggestions,
    )


def _blockers(actor: Actor, draft: Draft) -> tuple[list[str], Proposal | None]:
    """Why this pair cannot start a proposal, told before anything is typed — the service's
    own check (one rule); the service decides again on submit."""
    try:
        services.parties_check(draft.author, draft.other)
        problems = []
    except ValidationError as exc:
        problems = [message for _field, _code, message in page_error_items(exc)]
    existing = (
        selectors.proposal_list(actor=actor, brand=draft.author, counterparty=draft.other)
        .filter(state__in=OPEN_STATES)
        .first()
    )
    return problems, existing


def _submit(actor: Actor, draft: Draft, form: ComposerForm) -> Proposal:
    common = {
        "actor": actor,
        "placements": form.specs(),
        "message": form.message,
        "topup_cents": form.topup_cents or 0,
        "asks": form.asks_payload(),
    }
    if draft.proposal is None:
        return services.proposal_create(brand=draft.author, counterparty=draft.other, **common)
    return services.proposal_counter(proposal=draft.proposal, revision=form.revision_number(), **common)


def _compose(request, draft: Draft):
    actor = actor_of(request)
    form = _form(draft)
    problems, existing = ([], None) if draft.proposal is not None else _blockers(actor, draft)
    if request.method == "POST":
        form.bind(request.POST)
        if "recalculate" not in request.POST and form.topup_cents is not None:
            try:
                proposal = _submit(actor, draft, form)
            except ValidationError as exc:
                if refused(exc):
                    raise PermissionDenied from None
                form.apply_errors(exc)
            else:
                lang = ui_language()
                text = (
                    _("Your proposal was sent to %(brand)s.")
                    if draft.proposal is None
                    else _("Your counter-offer was sent to %(brand)s.")
                )
                messages.success(request, text % {"brand": draft.other.display_name(lang)})
                return redirect("frontend:proposal", pk=proposal.pk)
    else:
        own = []
        if draft.revision is not None:
            own = [p for p in draft.revision.placements.all() if p.brand_id == draft.author.pk]
        form.start(own=own, revision=draft.proposal.revision_number if draft.proposal else None)
    meter = _meter(actor, draft, form)
    if request.method == "POST":
        form.add_blank_rows()  # room for one more without JavaScript
    their_asks = draft.revision.asks if draft.revision is not None else []
    start, end = default_window()
    # The rows the browser adds are copies of these (``__i__`` becomes the row's index).
    blank_mine = Row(MINE, "__i__", starts_on=start.isoformat(), ends_on=end.isoformat())
    return render(
        request,
        "frontend/proposals/composer.html",
        {
            "draft": draft,
            "form": form,
            "meter": meter,
            "urls": draft.urls(),
            "problems": problems,
            "existing": existing,
            "their_asks": their_asks,
            "blank_mine": blank_mine,
            "blank_ask": Row(ASK, "__i__"),
        },
    )


@login_required
def compose(request, slug: str):
    """A new proposal from one of the caller's brands to ``?partner=<slug>``."""
    return _compose(request, _new_draft(request, slug))


@login_required
def counter(request, pk: int):
    draft = _counter_draft(request, pk)
    if draft is None:
        messages.error(
            request, _("You cannot counter this proposal now: it is closed, or it is the other brand's turn.")
        )
        return redirect("frontend:proposal", pk=pk)
    return _compose(request, draft)


def _preview(request, draft: Draft | None):
    """The live meter (htmx): the balance and, out of band, each row's value or errors."""
    if draft is None:
        return render(request, "frontend/proposals/_preview_closed.html", status=409)
    form = _form(draft).bind(request.POST)
    meter = _meter(actor_of(request), draft, form)
    return render(request, "frontend/proposals/_preview.html", {"form": form, "meter": meter, "draft": draft})


@require_POST
@login_required
def compose_preview(request, slug: str):
    return _preview(request, _new_draft(request, slug))


@require_POST
@login_required
def counter_preview(request, pk: int):
    return _preview(request, _counter_draft(request, pk))


# --- the inbox ------------------------------------------------------------------------------------
