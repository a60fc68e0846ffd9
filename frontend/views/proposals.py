"""Swap proposals on the web: the composer (a new proposal or a counter) with its live balance
meter, the inbox with the notifications, a proposal's page and the actions on it.

Thin views. The exchange's selectors decide what the caller may see (anything else is a 404,
so a proposal's existence is never revealed), its services decide what the caller may do, and
every figure shown — values, capacity, balance, suggestions — comes from the exchange
(``proposal_preview`` for a draft, the stored revision for a proposal).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exchange import selectors, services
from exchange.errors import ExchangeError
from exchange.models import Proposal, Revision
from exchange.notices import notice_line
from exchange.selectors import Box
from exchange.states import OPEN_STATES
from frontend.composer import ASK, MINE, ComposerForm, Meter, Row, default_window, offer_groups
from frontend.exchange_forms import DeclineForm, MessageForm
from frontend.labels import page_error_items
from frontend.revisions import revision_views
from frontend.views.common import actor_of, brand_for, safe_next
from partners import selectors as partner_selectors
from partners.actors import EDIT_ROLES, Actor
from partners.models import Brand, BrandStatus

INBOX_PAGE_SIZE = 20
NOTIFICATIONS_SHOWN = 20
TABS = (
    (Box.NEEDS_ACTION, gettext_lazy("Needs my action")),
    (Box.WAITING, gettext_lazy("Waiting for them")),
    (Box.CLOSED, gettext_lazy("Closed")),
)


def _lang() -> str:
    return get_language() or "zh-hans"


def _negotiates_for(actor: Actor, brand_id: int | None) -> bool:
    """Which buttons to show: owners and marketers negotiate, viewers and platform admins
    only read (the services enforce the same rule)."""
    return brand_id is not None and actor.role_in(brand_id) in EDIT_ROLES


def _proposal_or_404(actor: Actor, pk: int) -> Proposal:
    proposal = selectors.proposal_get(actor=actor, pk=pk)
    if proposal is None:
        raise Http404
    return proposal


def _refused(exc: ValidationError) -> bool:
    return any(code == ExchangeError.PERMISSION_DENIED for _f, code, _m in page_error_items(exc))


def _flash_errors(request, exc: ValidationError) -> None:
    for _field, _code, message in page_error_items(exc):
        messages.error(request, message)


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
    if not _negotiates_for(actor, brand.pk):
        raise PermissionDenied  # a platform admin may edit a brand, never negotiate for it
    partner_slug = (request.POST.get("partner") or request.GET.get("partner") or "")[:80]
    partner = partner_selectors.brand_marketplace(actor=actor).filter(slug=partner_slug).first()
    if partner is None or partner.pk == brand.pk:
        raise Http404
    return Draft(brand, partner)


def _counter_draft(request, pk: int) -> Draft | None:
    """The draft of a counter, or None when the caller may not counter now (not open, not
    their turn): the proposal page then says why."""
    actor = actor_of(request)
    proposal = _proposal_or_404(actor, pk)
    if proposal.state not in OPEN_STATES or not _negotiates_for(actor, proposal.turn_id):
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
        left_name=draft.author.display_name(_lang()),
        right_name=draft.other.display_name(_lang()),
        suggestions=preview.suggestions,
    )


def _blockers(actor: Actor, draft: Draft) -> tuple[list[str], Proposal | None]:
    """Why this pair cannot start a proposal, told before anything is typed. The same
    selectors the service's guards read; the service still decides on submit."""
    problems = []
    lang = _lang()
    names = {"brand": draft.author.display_name(lang), "partner": draft.other.display_name(lang)}
    if draft.author.status != BrandStatus.APPROVED:
        problems.append(_("%(brand)s is not approved yet: only approved brands can propose swaps.") % names)
    if (draft.author.pk, draft.other.pk) in partner_selectors.blocked_pairs([draft.author.pk, draft.other.pk]):
        problems.append(_("One of the two brands has blocked the other."))
    elif partner_selectors.brands_compete(draft.author, draft.other):
        problems.append(_("%(partner)s competes with %(brand)s: competitors cannot swap traffic.") % names)
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
                if _refused(exc):
                    raise PermissionDenied from None
                form.apply_errors(exc)
            else:
                lang = _lang()
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
@dataclass
class InboxRow:
    proposal: Proposal
    mine: Brand  # the caller's side
    other: Brand
    my_turn: bool
    mine_cents: int
    other_cents: int
    revision: Revision | None


def _inbox_row(actor: Actor, proposal: Proposal) -> InboxRow:
    ours = proposal.initiator_id in actor.brand_ids
    mine, other = (proposal.initiator, proposal.counterparty) if ours else (proposal.counterparty, proposal.initiator)
    revision = selectors.current_revision(proposal)
    values = (revision.initiator_value_cents, revision.counterparty_value_cents) if revision else (0, 0)
    mine_cents, other_cents = values if ours else values[::-1]
    return InboxRow(proposal, mine, other, proposal.turn_id == mine.pk, mine_cents, other_cents, revision)


@login_required
def inbox(request):
    actor = actor_of(request)
    box = request.GET.get("box", "")
    if box not in dict(TABS):
        box = Box.NEEDS_ACTION

    def mine(qs):
        # My inbox: proposals my brands are party to (a platform admin sees every proposal,
        # in the admin list, not here).
        return qs.filter(Q(initiator_id__in=actor.brand_ids) | Q(counterparty_id__in=actor.brand_ids))

    counts = {b: mine(selectors.proposal_list(actor=actor, box=b)).count() for b, _label in TABS}
    proposals = selectors.with_revisions(mine(selectors.proposal_list(actor=actor, box=box)))
    page = Paginator(proposals, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_inbox_row(actor, p) for p in page]
    notifications = list(selectors.notification_list(actor=actor)[:NOTIFICATIONS_SHOWN])
    lang = _lang()
    for n in notifications:
        n.line = notice_line(n.event, n.brand, lang)
    return render(
        request,
        "frontend/proposals/inbox.html",
        {
            "box": box,
            "tabs": [(b, label, counts[b]) for b, label in TABS],
            "page": page,
            "rows": rows,
            "notifications": notifications,
            "unread": sum(1 for n in notifications if n.read_at is None),
            "page_extra": f"&box={box}",
        },
    )


@login_required
def notification_open(request, pk: int):
    """Opening a notification marks it read and shows its proposal."""
    actor = actor_of(request)
    notification = selectors.notification_list(actor=actor).filter(pk=pk).first()
    if notification is None:
        raise Http404
    services.notifications_mark_read(actor=actor, ids=[notification.pk])
    if notification.event.proposal_id is not None:
        return redirect("frontend:proposal", pk=notification.event.proposal_id)
    return redirect("frontend:inbox")


@require_POST
@login_required
def notifications_read(request):
    n = services.notifications_mark_read(actor=actor_of(request))
    if n:
        messages.success(request, _("All notifications are marked as read."))
    return redirect(safe_next(request, reverse("frontend:inbox")))


# --- a proposal's page ------------------------------------------------------------------------------
def _detail(request, proposal: Proposal, *, decline_form=None, message_form=None):
    actor = actor_of(request)
    lang = _lang()
    views = revision_views(proposal, list(proposal.revisions.all()))
    current = views[-1] if views else None
    parties = (proposal.initiator_id, proposal.counterparty_id)
    member_of = [b for b in parties if actor.role_in(b) is not None]
    acting = [b for b in parties if _negotiates_for(actor, b)]
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
        },
    )


@login_required
def detail(request, pk: int):
    return _detail(request, _proposal_or_404(actor_of(request), pk))


def _revision_posted(request) -> int:
    raw = (request.POST.get("revision") or "").strip()
    return int(raw) if raw.isdigit() else 0


@require_POST
@login_required
def accept(request, pk: int):
    actor = actor_of(request)
    proposal = _proposal_or_404(actor, pk)
    try:
        proposal = services.proposal_accept(actor=actor, proposal=proposal, revision=_revision_posted(request))
    except ValidationError as exc:
        if _refused(exc):
            raise PermissionDenied from None
        _flash_errors(request, exc)
    else:
        messages.success(
            request,
            _("Swap accepted: revision %(n)d is now the agreement with %(brand)s.")
            % {"n": proposal.revision_number, "brand": _other_side(actor, proposal).display_name(_lang())},
        )
    return redirect("frontend:proposal", pk=pk)


def _other_side(actor: Actor, proposal: Proposal) -> Brand:
    return proposal.counterparty if proposal.initiator_id in actor.brand_ids else proposal.initiator


@require_POST
@login_required
def decline(request, pk: int):
    actor = actor_of(request)
    proposal = _proposal_or_404(actor, pk)
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
            if _refused(exc):
                raise PermissionDenied from None
            for field, _code, message in page_error_items(exc):
                form.add_error(field if field in ("reason", "note") else None, message)
        else:
            messages.success(
                request,
                _("You declined the proposal of %(brand)s.")
                % {"brand": _other_side(actor, proposal).display_name(_lang())},
            )
            return redirect("frontend:proposal", pk=pk)
    return _detail(request, _proposal_or_404(actor, pk), decline_form=form)


@require_POST
@login_required
def withdraw(request, pk: int):
    actor = actor_of(request)
    proposal = _proposal_or_404(actor, pk)
    try:
        services.proposal_withdraw(actor=actor, proposal=proposal)
    except ValidationError as exc:
        if _refused(exc):
            raise PermissionDenied from None
        _flash_errors(request, exc)
    else:
        messages.success(request, _("You withdrew the proposal."))
    return redirect("frontend:proposal", pk=pk)


@require_POST
@login_required
def message(request, pk: int):
    actor = actor_of(request)
    proposal = _proposal_or_404(actor, pk)
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            services.proposal_message_send(actor=actor, proposal=proposal, body=form.cleaned_data["body"])
        except ValidationError as exc:
            if _refused(exc):
                raise PermissionDenied from None
            for _field, _code, text in page_error_items(exc):
                form.add_error("body", text)
        else:
            return redirect(reverse("frontend:proposal", args=[pk]) + "#thread")
    return _detail(request, proposal, message_form=form)
