"""Template filters for the exchange pages: money, placement formats, pricing units and
quantities, proposal and campaign states and decline reasons — always their labels, never raw codes."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext_lazy

from exchange.models import EventType, PlacementFormat, PricingUnit
from exchange.states import CampaignState, DeclineReason, ProposalState
from huiliu import formatting
from partners.models import ChannelType

register = template.Library()

# What one unit of a placement's quantity is, by pricing unit (the pricing labels themselves,
# "per 1,000 reach", are PricingUnit's).
QUANTITY_NOUNS = {
    PricingUnit.CPM: gettext_lazy("reach"),
    PricingUnit.MESSAGE: gettext_lazy("messages"),
    PricingUnit.PARCEL: gettext_lazy("parcels"),
    PricingUnit.STORE_DAY: gettext_lazy("store-days"),
}


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "")


@register.filter
def money(cents) -> str:
    """Integer cents as ¥ with thousands separators (``123456`` → ``¥1,234.56``)."""
    if cents is None or cents == "":
        return ""
    try:
        return formatting.money(int(cents))
    except (TypeError, ValueError):
        return ""


@register.filter
def as_shown(cents, kind):
    """A ledger amount as pages show it: negated for an account that is a credit by nature
    (``exchange.models.ledger.SHOWN_NEGATED``: value delivered reads positive)."""
    from exchange.models.ledger import SHOWN_NEGATED

    if isinstance(cents, int) and not isinstance(cents, bool) and kind in SHOWN_NEGATED:
        return -cents
    return cents


@register.filter
def negate(value):
    """``-value`` for an int (a balance shown as what is owed): anything else unchanged."""
    return -value if isinstance(value, int) and not isinstance(value, bool) else value


@register.filter
def yuan(cents) -> str:
    """Integer cents as a plain amount for an input field (``123456`` → ``1234.56``)."""
    try:
        units, minor = divmod(int(cents), 100)
    except (TypeError, ValueError):
        return ""
    return f"{units}.{minor:02d}" if minor else str(units)


@register.filter
def placement_format(value) -> str:
    return _label(PlacementFormat, value)


@register.filter
def pricing_unit(value) -> str:
    return _label(PricingUnit, value)


@register.filter
def quantity_noun(unit) -> str:
    try:
        return str(QUANTITY_NOUNS[PricingUnit(unit)])
    except (KeyError, ValueError):
        return ""


@register.filter
def quantity(value, unit) -> str:
    """``20000`` with unit ``cpm`` → ``20,000 reach``."""
    number = formatting.number(value)
    if not number:
        return ""
    noun = quantity_noun(unit)
    return f"{number} {noun}" if noun else number


@register.filter
def proposal_state(value) -> str:
    return _label(ProposalState, value)


@register.filter
def campaign_state(value) -> str:
    return _label(CampaignState, value)


@register.filter
def decline_reason(value) -> str:
    return _label(DeclineReason, value)


@register.filter
def event_type(value) -> str:
    return _label(EventType, value)


@register.filter
def channel_name(obj) -> str:
    """A placement's, suggestion's or channel option's channel: its label, else its type's."""
    label = getattr(obj, "channel_label", None) or getattr(obj, "label", None) or ""
    return label or _label(ChannelType, getattr(obj, "channel_type", ""))


@register.filter
def ledger_kind(value) -> str:
    """A ledger account kind in the page's language."""
    from exchange.models.ledger import AccountKind

    try:
        return str(AccountKind(value).label)
    except ValueError:
        return str(value)
