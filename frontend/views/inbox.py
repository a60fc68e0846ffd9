"""The proposals inbox (needs my action / waiting for them / closed) and the notifications."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from exchange import selectors, services
from exchange.models import Proposal, Revision
from exchange.notices import notice_line
from exchange.selectors import Box
from frontend.views.common import actor_of, safe_next
from frontend.views.proposal_common import ui_language
from partners.actors import Actor
from partners.models import Brand

INBOX_PAGE_SIZE = 20
NOTIFICATIONS_SHOWN = 20
TABS = (
    (Box.NEEDS_ACTION, gettext_lazy("Needs my action")),
    (Box.WAITING, gettext_lazy("Waiting for them")),
    (Box.CLOSED, gettext_lazy("Closed")),
)


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

    # My inbox: proposals my brands are party to (a platform admin sees every proposal in the
    # admin list, not here).
    counts = {b: selectors.proposal_list(actor=actor, box=b, parties_only=True).count() for b, _label in TABS}
    proposals = selectors.with_revisions(selectors.proposal_list(actor=actor, box=box, parties_only=True))
    page = Paginator(proposals, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [_inbox_row(actor, p) for p in page]
    notifications = list(selectors.notification_list(actor=actor)[:NOTIFICATIONS_SHOWN])
    lang = ui_language()
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
