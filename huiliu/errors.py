"""Errors shared by every surface: one way to read a ``ValidationError``.

Services raise ``ValidationError`` with a field and a code (see CONVENTIONS.md); GraphQL
payloads, web forms, the admin and management commands all show it through
``error_items``, so none of them walks ``error_dict`` / ``error_list`` on its own.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError

# Django's own code for a value that fails validation; used when an error carries none.
DEFAULT_CODE = "invalid"


def error_items(exc: ValidationError) -> list[tuple[str, str, str]]:
    """Flatten a ValidationError into (field, code, message) triples for any surface.

    A field-less error (raised with a message or a list) is reported on ``"__all__"``, as
    Django forms do; an error without a code gets ``"invalid"``.
    """
    items: list[tuple[str, str, str]] = []
    if hasattr(exc, "error_dict"):
        for field, errs in exc.error_dict.items():
            for err in errs:
                for message in err.messages:
                    items.append((field, str(err.code or DEFAULT_CODE), message))
    else:
        for err in exc.error_list:
            for message in err.messages:
                items.append(("__all__", str(err.code or DEFAULT_CODE), message))
    return items
