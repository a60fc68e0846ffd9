"""Pages anyone may see: the landing page, the marketplace and public brand profiles."""

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Sum
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from frontend.views.common import actor_of
from huiliu.text import clean_line
from partners import selectors
from partners.actors import EDIT_ROLES
from partners.models import BrandStatus

MARKETPLACE_PAGE_SIZE = 12


def home(request):
    brands = selectors.brand_marketplace(actor=actor_of(request))
    stats = brands.aggregate(
        brands=Count("id"), audience=Sum("active_audience"), categories=Count("category", distinct=True)
    )
    return render(request, "frontend/home.html", {"stats": stats, "featured": brands[:8]})


def marketplace(request):
    search = request.GET.get("q", "")[:100]
    category = request.GET.get("category", "")[:80]
    actor = actor_of(request)
    try:
        # A control character (NUL above all: PostgreSQL refuses it) is never searched for.
        clean_line(search, "q")
        clean_line(category, "category")
    except ValidationError:
        search = category = ""
        error = _("The search contains a control character; type it again without it.")
        brands = selectors.brand_marketplace(actor=actor).none()
    else:
        error = ""
        brands = selectors.brand_marketplace(actor=actor, search=search, category=category)
    page = Paginator(brands, MARKETPLACE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "frontend/market/list.html",
        {
            "page": page,
            "search": search,
            "category": category,
            "categories": selectors.category_list(),
            "search_error": error,
        },
        status=400 if error else 200,
    )


def brand_public(request, slug: str):
    # Only approved brands have a public profile; the template shows no private fields
    # (credit code, legal entity, channel list, status reason, history).
    actor = actor_of(request)
    brand = selectors.brand_marketplace(actor=actor).filter(slug=slug).first()
    if brand is None:
        raise Http404
    # The caller's approved brands that may propose a swap to this one (owners, marketers).
    proposers = [
        b
        for b in selectors.brand_mine(actor=actor)
        if b.pk != brand.pk and b.status == BrandStatus.APPROVED and actor.role_in(b.pk) in EDIT_ROLES
    ]
    return render(request, "frontend/market/brand.html", {"brand": brand, "proposers": proposers})
