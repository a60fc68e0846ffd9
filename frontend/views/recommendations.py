"""A brand's recommended partners: scored, explained cards with filters, and dismissal.

Members of the brand (and admins) see the page; everyone else gets 404 (``brand_for``).
Only editors (owners, marketers) may dismiss — the rule lives in
``matching.services.recommendation_dismiss``; a refusal from it becomes a 403 here.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.forms import RecommendationFilterForm
from frontend.labels import page_error_items
from frontend.views.common import actor_of, brand_for
from matching import selectors, services
from matching.errors import MatchingError
from partners import selectors as partner_selectors
from partners.actors import EDIT_ROLES
from partners.models import BrandStatus

PAGE_SIZE = 10
FILTER_KEYS = ("category", "scale_min", "scale_max", "region")
# The score components a Recommendation stores, in display order. "learned" is only set
# once a trained model serves (None on the heuristic); the template skips missing ones.
COMPONENTS = (
    ("scale", gettext_lazy("Scale fit")),
    ("positioning", gettext_lazy("Positioning fit")),
    ("audience", gettext_lazy("Audience fit")),
    ("category", gettext_lazy("Category fit")),
    ("learned", gettext_lazy("Past swap outcomes")),
)


@login_required
def pick_brand(request):
    """The nav's "Recommended partners": straight to the page of a user's only brand,
    otherwise a choice of their brands."""
    brands = list(partner_selectors.brand_mine(actor=actor_of(request)))
    if len(brands) == 1:
        return redirect("frontend:recommendations", slug=brands[0].slug)
    return render(request, "frontend/recommendations/pick.html", {"brands": brands})


def _filter_query(params: QueryDict, keys: tuple[str, ...] = FILTER_KEYS) -> str:
    """The filters of ``params`` as a query string, for links and redirects."""
    return urlencode({k: params.get(k, "")[:100] for k in keys if params.get(k)})


@login_required
def partner_list(request, slug: str):
    actor = actor_of(request)
    brand = brand_for(request, slug, need="view")
    form = RecommendationFilterForm(
        {k: request.GET.get(k, "") for k in FILTER_KEYS}, categories=partner_selectors.category_list()
    )
    filters = form.filters()
    recommendations = selectors.recommendation_list(actor=actor, brand=brand, **filters)
    page = Paginator(recommendations, PAGE_SIZE).get_page(request.GET.get("page"))
    language = get_language() or "zh-hans"
    for rec in page:
        rec.shown_reasons = rec.reasons(language)
        rec.bars = [
            (key, label, rec.components[key]) for key, label in COMPONENTS if rec.components.get(key) is not None
        ]
        rec.regions = list((rec.partner.audience or {}).get("regions") or [])
    filter_query = _filter_query(request.GET)
    return render(
        request,
        "frontend/recommendations/list.html",
        {
            "brand": brand,
            "approved": brand.status == BrandStatus.APPROVED,
            "can_dismiss": actor.can_edit(brand.pk),
            # Negotiating is a brand member's act (owner, marketer): platform admins only read.
            "can_propose": brand.status == BrandStatus.APPROVED and actor.role_in(brand.pk) in EDIT_ROLES,
            "form": form,
            "filtered": bool(filter_query),
            "page": page,
            "filter_query": filter_query,
            # Where a dismissal returns to: the same filters and page.
            "back_query": _filter_query(request.GET, (*FILTER_KEYS, "page")),
            "page_extra": f"&{filter_query}" if filter_query else "",
            # Partners this brand dismissed: never recommended again, unless undone here.
            "dismissed": selectors.dismissal_list(actor=actor, brand=brand),
        },
    )


def _change_dismissal(request, brand, partner, change, success: str):
    """Run a dismissal service and go back to the same filters and page: a refusal by rights is
    a 403, any other problem a message; only the known filter parameters are carried over."""
    actor = actor_of(request)
    try:
        change(actor=actor, brand=brand, partner=partner)
    except ValidationError as exc:
        problems = page_error_items(exc)
        if any(code == MatchingError.PERMISSION_DENIED for _field, code, _message in problems):
            raise PermissionDenied from None
        for _field, _code, message in problems:
            messages.error(request, message)
    else:
        language = get_language() or "zh-hans"
        messages.success(
            request, success % {"partner": partner.display_name(language), "brand": brand.display_name(language)}
        )
    query = _filter_query(QueryDict(request.POST.get("back", "")), (*FILTER_KEYS, "page"))
    return redirect(reverse("frontend:recommendations", args=[brand.slug]) + (f"?{query}" if query else ""))


@require_POST
@login_required
def dismiss(request, slug: str, partner_id: int):
    brand = brand_for(request, slug, need="view")
    partner = partner_selectors.brand_get(actor=actor_of(request), pk=partner_id)
    if partner is None:
        raise Http404
    return _change_dismissal(
        request,
        brand,
        partner,
        services.recommendation_dismiss,
        _("%(partner)s will not be recommended to %(brand)s again."),
    )


@require_POST
@login_required
def undismiss(request, slug: str, partner_id: int):
    """Undo a dismissal (editors; the rule is ``matching.services.recommendation_undismiss``)."""
    brand = brand_for(request, slug, need="view")
    dismissal = selectors.dismissal_list(actor=actor_of(request), brand=brand).filter(partner_id=partner_id).first()
    if dismissal is None:
        raise Http404
    return _change_dismissal(
        request,
        brand,
        dismissal.partner,
        services.recommendation_undismiss,
        _("%(partner)s can be recommended to %(brand)s again; the list updates within a few minutes."),
    )
