"""Labels of coded values, in the request's language.

The API returns codes (``wecom``, ``approved``, ``young``) that clients match on, and beside
each a ``…Label`` field a person can read, so a partner system never keeps its own copy of
the platform's vocabulary. A code the vocabulary does not know (a free tone tag, a value
written by a newer version) is its own label.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Choices

from api.core.types import request_language
from partners.reference import tone_label


def choice_label(choices: type[Choices], value: str | None) -> str | None:
    if value is None or value == "":
        return None
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value)


def choice_labels(choices: type[Choices], values: Iterable[str]) -> list[str]:
    return [choice_label(choices, v) or "" for v in values]


def tone_labels(tags: Iterable[str]) -> list[str]:
    language = request_language()
    return [tone_label(tag, language) for tag in tags]
