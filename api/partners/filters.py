"""Arguments of the brand list (marketplace search), shared by every query that lists brands."""

import graphene
from django.core.exceptions import ValidationError

from huiliu.text import clean_line

BRAND_LIST_ARGS = {
    "search": graphene.String(description="Part of the Chinese or English name, or the slug."),
    "category": graphene.String(description="A category code: a leaf, or a group to include its leaves."),
}
# A search longer than any name is no search; a category code is at most its column.
FILTER_LENGTHS = {"search": 200, "category": 80}


def checked_text(value, field: str, max_length: int | None = None) -> str:
    """A text argument of a query, stripped; ValidationError keyed by ``field`` for control
    characters (NUL would reach the database) or a value over ``max_length``."""
    try:
        return clean_line(value or "", field, max_length=max_length)
    except ValidationError as exc:
        raise ValidationError({field: exc}) from None


def brand_list_filters(kwargs: dict) -> dict:
    """The selector's filters from the query's arguments. Raises ValidationError."""
    return {key: checked_text(kwargs.get(key), key, limit) for key, limit in FILTER_LENGTHS.items()}
