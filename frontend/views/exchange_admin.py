"""The platform admins' side of the exchange: the channel-rate table (each change through
``channel_rate_set``, which validates and audits it) and a read-only list of every proposal.

Staff only: anonymous callers are sent to sign in, signed-in non-staff get 403.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import groupby

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from exchange import selectors, services
from exchange.states import ProposalState
from frontend.exchange_forms import RateForm
from frontend.forms import apply_errors
from frontend.views.common import actor_of
from partners import selectors as partner_selectors
from partners.models import AuditAction, ChannelType

PROPOSALS_PAGE_SIZE = 25
RATE_HISTORY = 20


def _admin(request):
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    return actor


@login_required
def rates(request):
    actor = _admin(request)
    rows = list(selectors.channel_rate_list(actor=actor).select_related("updated_by"))
    order = {value: i for i, value in enumerate(ChannelType.values)}
    rows.sort(key=lambda r: (order.get(r.channel_type, len(order)), r.format))
    groups = [(t, list(items)) for t, items in groupby(rows, key=lambda r: r.channel_type)]
    return render(request, "frontend/exchange_admin/rates.html", {"groups": groups, "section": "rates"})


@login_required
def rate_edit(request, pk: int):
    actor = _admin(request)
    rate = selectors.channel_rate_list(actor=actor).select_related("updated_by").filter(pk=pk).first()
    if rate is None:
        raise Http404
    if request.method == "POST":
        form = RateForm(request.POST)
        if form.is_valid():
            try:
                services.channel_rate_set(
                    actor=actor,
                    channel_type=rate.channel_type,
                    format=rate.format,
                    rate_cents=form.rate_cents(),
                    source=form.cleaned_data["source"],
                )
            except ValidationError as exc:
                apply_errors(form, exc, prefix_map={"rate_cents": "rate"})
            else:
                messages.success(request, _("The rate was saved. Proposals already written keep their rates."))
                return redirect("frontend:rates")
    else:
        form = RateForm(initial={"rate": Decimal(rate.rate_cents) / 100, "source": rate.source})
    form.fields["rate"].help_text = _("In yuan, %(unit)s.") % {"unit": rate.get_unit_display()}
    history = (
        partner_selectors.audit_event_visible(actor=actor)
        .filter(action=AuditAction.CHANNEL_RATE_SET, object_type="channelrate", object_id=str(rate.pk))
        .select_related("actor")[:RATE_HISTORY]
    )
    return render(
        request,
        "frontend/exchange_admin/rate_edit.html",
        {"rate": rate, "form": form, "history": history, "section": "rates"},
    )


@login_required
def proposals(request):
    actor = _admin(request)
    state = request.GET.get("state", "")
    if state not in ProposalState.values:
        state = ""
    qs = selectors.proposal_list(actor=actor, state=state or None).select_related("turn")
    counts = dict(
        selectors.proposal_list(actor=actor)
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    page = Paginator(qs, PROPOSALS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "frontend/exchange_admin/proposals.html",
        {
            "page": page,
            "state": state,
            "states": [(value, label, counts.get(value, 0)) for value, label in ProposalState.choices],
            "total": sum(counts.values()),
            "page_extra": f"&state={state}" if state else "",
            "section": "proposals",
        },
    )
