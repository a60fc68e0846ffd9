"""Helpers shared by the views: the caller, the brand it may act on, safe redirects."""

from __future__ import annotations

from django.http import Http404
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from partners import selectors
from partners.actors import Actor
from partners.models import Brand


def actor_of(request) -> Actor:
    return Actor.from_request(request)


def brand_for(request, slug: str, *, need: str = "view") -> Brand:
    """The brand ``slug`` if the caller may ``view`` its private side, ``edit`` it or manage
    its ``keys``; otherwise 404, so a brand's existence is never revealed to outsiders."""
    actor = actor_of(request)
    brand = selectors.brand_get(actor=actor, slug=slug)
    allowed = {
        "view": lambda b: actor.can_view_private(b.pk),
        "edit": lambda b: actor.can_edit(b.pk),
        "keys": lambda b: actor.can_manage_keys(b.pk),
    }[need]
    if brand is None or not allowed(brand):
        raise Http404
    return brand


def landing_url(user) -> str:
    """Where a signed-in person starts: platform admins at the review queue, everyone else
    at their brands."""
    return reverse("frontend:queue") if user.is_active and user.is_staff else reverse("frontend:dashboard")


def safe_next(request, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
