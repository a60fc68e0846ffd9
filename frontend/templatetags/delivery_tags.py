"""Template tags of the delivery panel (``frontend/campaigns/_delivery.html``), so any page can
include it with just ``campaign`` and ``viewer_brand``."""

from __future__ import annotations

from django import template

from exchange.proofs import proof_version
from exchange.states import DeliveryState, DisputeReason

register = template.Library()


@register.simple_tag(takes_context=True)
def delivery_panel(context, campaign, viewer_brand=None):
    """The panel's legs and rows for the request's caller (see ``frontend.views.delivery``);
    a form refused on this request comes back from ``delivery_bound`` with its errors."""
    from frontend.views.delivery import delivery_panel as build

    return build(context["request"], campaign, viewer_brand, context.get("delivery_bound"))


@register.filter
def delivery_state(value) -> str:
    try:
        return str(DeliveryState(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def dispute_reason(value) -> str:
    try:
        return str(DisputeReason(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def proof_token(name: str) -> str:
    return proof_version(name)


@register.simple_tag
def delivery_confirm_days() -> int:
    from exchange import conf

    return conf.delivery_confirm_days()
