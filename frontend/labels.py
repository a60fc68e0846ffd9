"""Errors as pages show them: the label of a field or a channel type where the shared
validators name its code.

The validators (``partners.validation``) are shared with the bulk import and the API, whose
readers type the codes (``name``, ``wecom``), so their messages name the codes — passed in the
error's ``params``. A page's reader sees the form's labels instead: ``page_error_items`` puts
the label in place of a code before the message is formatted (``"name is required."`` →
``"Brand name (Chinese) is required."``, ``"channel wecom is listed twice"`` → ``"channel
WeCom contacts is listed twice"``).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from huiliu.errors import DEFAULT_CODE
from partners.models import ApiKeyScope, ChannelType

# Payload field names (the validators' ``name`` param) → the label the forms show.
FIELD_LABELS: dict[str, Any] = {
    "slug": gettext_lazy("Brand ID (slug)"),
    "name": gettext_lazy("Brand name (Chinese)"),
    "name_en": gettext_lazy("Brand name (English)"),
    "legal_name": gettext_lazy("Legal entity"),
    "credit_code": gettext_lazy("Unified social credit code"),
    "category": gettext_lazy("Category"),
    "price_tier": gettext_lazy("Price tier"),
    "tone": gettext_lazy("Tone tags"),
    "description": gettext_lazy("Description"),
    "stores": gettext_lazy("Stores"),
    "website": gettext_lazy("Website"),
    "size": gettext_lazy("Audience size (people)"),
    "active_rate": gettext_lazy("Active rate (%)"),
    "label": gettext_lazy("Label"),
    # free text of the exchange, accounts and reviews
    "notes": gettext_lazy("Notes"),
    "note": gettext_lazy("Note"),
    "body": gettext_lazy("Message"),
    "message": gettext_lazy("Message"),
    "email": gettext_lazy("E-mail"),
    "display_name": gettext_lazy("Your name"),
    "source": gettext_lazy("Source"),
    "reason": gettext_lazy("Reason"),
}
CODE_LABELS: dict[str, Any] = {**dict(ChannelType.choices), **dict(ApiKeyScope.choices)}


def label_of(value: Any, overrides: dict[str, Any] | None = None) -> Any:
    """The label of a field name or a code (or of a ", "-separated list of codes); any other
    value as it is. ``overrides`` (a form's own field labels) win over the shared ones."""
    if not isinstance(value, str):
        return value
    if overrides and value in overrides:
        return str(overrides[value])
    if value in FIELD_LABELS:
        return str(FIELD_LABELS[value])
    if value in CODE_LABELS:
        return str(CODE_LABELS[value])
    parts = value.split(", ")
    if len(parts) > 1 and all(p in CODE_LABELS for p in parts):
        return ", ".join(str(CODE_LABELS[p]) for p in parts)
    return value


def page_message(error: ValidationError, overrides: dict[str, Any] | None = None) -> str:
    """One leaf error's message with labels in place of the codes in its params."""
    message = str(error.message)
    if error.params:
        message %= {key: label_of(value, overrides) for key, value in error.params.items()}
    return message


def page_error_items(exc: ValidationError, labels: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """``huiliu.errors.error_items`` for pages: (field, code, message) with labels — a form's
    own (``labels``: field name → label) before the shared ones."""
    items: list[tuple[str, str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            for error in errors:
                for leaf in error.error_list:
                    items.append((field, str(leaf.code or DEFAULT_CODE), page_message(leaf, labels)))
    else:
        for leaf in exc.error_list:
            items.append(("__all__", str(leaf.code or DEFAULT_CODE), page_message(leaf, labels)))
    return items
