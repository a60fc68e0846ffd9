"""The platform admins' approval queue. Staff only: anonymous callers are sent to sign in,
signed-in non-staff get 403 (approval_queue refuses them)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.forms import QueueFilterForm
from frontend.labels import label_of, page_error_items
from frontend.views.common import actor_of, safe_next
from partners import selectors, services
from partners.models import BrandStatus
from partners.services import TRANSITIONS

QUEUE_PAGE_SIZE = 25
# Actions offered per status, and whether the form asks for a reason (the service decides
# whether it is required; the page only shows the field).
ACTIONS_BY_STATUS = {
    status: [
        (action, spec.reason_required)
        for action, spec in TRANSITIONS.items()
        if status in spec.sources and spec.admin_only
    ]
    for status in BrandStatus.values
}


@login_required
def queue(request):
    form = QueueFilterForm(request.GET or {"status": BrandStatus.PENDING})
    form.is_valid()
    status = form.cleaned_data.get("status", "")
    search = form.cleaned_data.get("q", "")
    brands = selectors.approval_queue(actor=actor_of(request), status=status, search=search)
    page = Paginator(brands, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    shared = selectors.brands_sharing_credit_code(actor=actor_of(request), brands=page)
    # What the reviewer should check again: legal-identity changes since the last decision.
    changes = selectors.kyb_changes_unreviewed(actor=actor_of(request), brand_ids=[b.pk for b in page])
    for brand in page:
        brand.queue_actions = ACTIONS_BY_STATUS.get(brand.status, [])
        brand.credit_code_shared_with = shared.get(brand.pk, [])
        brand.kyb_changes = [(label_of(field), old, new) for field, old, new in changes.get(brand.pk, [])]
    counts = {s: 0 for s in BrandStatus.values}
    all_brands = selectors.approval_queue(actor=actor_of(request), status="")
    counts.update(all_brands.order_by().values_list("status").annotate(n=Count("id")))
    return render(
        request,
        "frontend/review/queue.html",
        {
            "form": form,
            "page": page,
            "status": status,
            "search": search,
            "counts": counts,
            "statuses": BrandStatus.choices,
            "filter_query": urlencode({"status": status, "q": search}),
        },
    )


@require_POST
@login_required
def transition(request, pk: int, action: str):
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    brand = selectors.brand_get(actor=actor, pk=pk)
    if brand is None:
        raise Http404
    try:
        brand = services.brand_transition(
            actor=actor, brand=brand, action=action, reason=request.POST.get("reason", "")
        )
    except ValidationError as exc:
        for _field, _code, message in page_error_items(exc):
            messages.error(request, _("%(brand)s: %(message)s") % {"brand": brand.name, "message": message})
    else:
        messages.success(
            request, _("%(brand)s is now %(status)s.") % {"brand": brand.name, "status": brand.get_status_display()}
        )
    # Back to the same filter (only the known parameters are carried over), or to the page
    # the action was taken on (a brand's page: ``next``).
    back = QueryDict(request.POST.get("back", ""))
    query = urlencode({k: back.get(k, "")[:100] for k in ("status", "q") if back.get(k)})
    return redirect(safe_next(request, reverse("frontend:queue") + (f"?{query}" if query else "")))
