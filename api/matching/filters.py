"""Arguments of the recommendation list and their checks (bad input is a clear error, not an
empty list)."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from api.core.scalars import BigInt
from matching.errors import MatchingError
from partners import selectors as partner_selectors
from partners.errors import PartnersError
from partners.reference import CN_REGIONS

RECOMMENDATION_ARGS = {
    "brand": graphene.ID(
        description="Your brand (a Brand ID). Optional if you belong to exactly one brand; admins may name any brand."
    ),
    "min_score": graphene.Float(description="Only recommendations scoring at least this (0–1)."),
    "category": graphene.String(description="The partner's category code: a leaf, or a group to include its leaves."),
    "scale_min": BigInt(description="The partner's active audience at least this."),
    "scale_max": BigInt(description="The partner's active audience at most this."),
    "region": graphene.String(description="A region the partner's audience covers (ISO 3166-2:CN, e.g. CN-SH)."),
}


def _invalid(field: str, message: str, code: str = MatchingError.INVALID) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def recommendation_filters(kwargs: dict) -> dict:
    """The selector's filter arguments from the query's, checked. Raises ValidationError."""
    min_score = kwargs.get("min_score")
    if min_score is not None and not 0.0 <= min_score <= 1.0:
        raise _invalid("minScore", _("minScore must be between 0 and 1 (got %(v)s).") % {"v": min_score})
    scale_min, scale_max = kwargs.get("scale_min"), kwargs.get("scale_max")
    for name, value in (("scaleMin", scale_min), ("scaleMax", scale_max)):
        if value is not None and value < 0:
            raise _invalid(name, _("%(field)s must be 0 or more (got %(v)s).") % {"field": name, "v": value})
    if scale_min is not None and scale_max is not None and scale_min > scale_max:
        raise _invalid("scaleMax", _("scaleMax must not be below scaleMin."))
    category = (kwargs.get("category") or "").strip()
    if category and category not in partner_selectors.category_lookup():
        raise _invalid(
            "category", _("Unknown category %(code)s.") % {"code": category}, code=PartnersError.UNKNOWN_CATEGORY
        )
    region = (kwargs.get("region") or "").strip().upper()
    if region and region not in CN_REGIONS:
        raise _invalid(
            "region",
            _("Unknown region %(code)s (use ISO 3166-2:CN, e.g. CN-SH).") % {"code": region},
            code=PartnersError.INVALID_REGION,
        )
    return {
        "min_score": min_score,
        "category": category,
        "scale_min": scale_min,
        "scale_max": scale_max,
        "region": region,
    }
