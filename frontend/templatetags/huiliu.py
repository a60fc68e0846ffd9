"""Template filters that show domain values in the active language."""

from django import template
from django.utils.translation import get_language

from huiliu import formatting
from partners.actors import Actor
from partners.models import AuditAction
from partners.reference import AUDIENCE_DIMENSIONS, CN_REGIONS, tone_label
from partners.selectors import audit_actor_name

register = template.Library()


def _lang() -> str:
    return get_language() or "zh-hans"


@register.filter
def category_name(category) -> str:
    return category.name(_lang()) if category is not None else ""


@register.filter
def brand_name(brand) -> str:
    return brand.display_name(_lang())


@register.filter
def tone(tag: str) -> str:
    return tone_label(tag, _lang())


@register.filter
def region(code: str) -> str:
    zh, en = CN_REGIONS.get(code, (code, code))
    return en if _lang().startswith("en") else zh


@register.filter
def percent(share) -> str:
    """0.256 → "26%"."""
    try:
        return f"{round(float(share) * 100):d}%"
    except (TypeError, ValueError):
        return ""


@register.filter
def fill_class(share) -> str:
    """The CSS class that fills a bar to a share (0.256 → "fill-26", huiliu.css): a class, not
    a style attribute, which the Content-Security-Policy would block."""
    try:
        return f"fill-{round(max(0.0, min(1.0, float(share))) * 100):d}"
    except (TypeError, ValueError):
        return "fill-0"


@register.filter
def get_item(mapping, key):
    if hasattr(mapping, "get"):
        return mapping.get(key)
    return None


@register.filter
def audit_action(action: str) -> str:
    """An audit event's action as people read it; an unknown code is shown as it is."""
    try:
        return str(AuditAction(action).label)
    except ValueError:
        return action


@register.simple_tag(takes_context=True)
def audit_actor(context, event) -> str:
    """Who did a history entry, as the viewer may see it (admins shown as "Huiliu team")."""
    return audit_actor_name(actor=Actor.from_request(context["request"]), event=event)


@register.filter
def transition_label(action: str) -> str:
    from partners.services import TRANSITION_LABELS

    return str(TRANSITION_LABELS.get(action, action))


@register.filter
def channel_type(value: str) -> str:
    from partners.models import ChannelType

    try:
        return ChannelType(value).label
    except ValueError:
        return value


@register.filter
def key_scopes(scopes) -> str:
    """An API key's scopes by their labels ("读取、写入" / "Read, Write"), never the codes."""
    from partners.models import ApiKeyScope

    separator = "、" if (get_language() or "").startswith("zh") else ", "
    return separator.join(_choice_label(ApiKeyScope, s) for s in scopes or [])


@register.filter
def matcher_feature(name: str) -> str:
    """A matcher feature by its label ("Scale fit"), never its column name ("scale_fit")."""
    from matching.ranker import FEATURE_LABELS

    return str(FEATURE_LABELS.get(name, name))


def _choice_label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


@register.filter
def audience_label(key: str, dimension: str) -> str:
    from frontend.forms import AUDIENCE_LABELS

    return str(AUDIENCE_LABELS.get(dimension, {}).get(key, key))


@register.filter
def dimension_label(dimension: str) -> str:
    from frontend.forms import DIMENSION_LABELS

    return str(DIMENSION_LABELS.get(dimension, dimension))


@register.filter
def price_symbols(value) -> str:
    """Price tier 1–5 as ¥ … ¥¥¥¥¥ (compact, language-neutral)."""
    try:
        return "¥" * max(1, min(5, int(value)))
    except (TypeError, ValueError):
        return ""


@register.filter
def price_tier(value) -> str:
    from frontend.forms import PRICE_TIERS

    return str(dict(PRICE_TIERS).get(str(value), value))


@register.filter
def audience_rows(audience) -> list:
    """The audience profile in a stable order (dimensions, then buckets, as the validators
    define them) — stored JSON does not keep key order on PostgreSQL."""
    audience = audience or {}
    rows = []
    for dim, keys in AUDIENCE_DIMENSIONS.items():
        shares = audience.get(dim) or {}
        if shares:
            rows.append((dim, [(k, shares[k]) for k in keys if k in shares]))
    if audience.get("regions"):
        rows.append(("regions", list(audience["regions"])))
    return rows


@register.filter
def num(value) -> str:
    """An exact count with thousands separators (120,000) in every language."""
    return formatting.number(value)


@register.filter
def headcount(value) -> str:
    """A count of people the way readers expect it: 5.8万 / 1.2亿 in Chinese, 58K / 2.6M in
    English (``huiliu.formatting.compact``, which the matcher's reasons use too)."""
    return formatting.compact(value, _lang())


@register.filter
def logo_version(name: str) -> str:
    """A stored logo's version token for its URL (``partners.logos.logo_version``)."""
    from partners.logos import logo_version as version

    return version(name)


@register.filter
def http_url(value) -> str:
    """The value if it is an http(s) URL, else "" — so a stored ``javascript:``/``data:`` value
    (from before the website was validated) is never rendered as a link."""
    from urllib.parse import urlsplit

    url = str(value or "").strip()
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return ""
    return url if scheme in ("http", "https") else ""
