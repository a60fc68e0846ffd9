"""Global IDs (relay ``base64("Type:pk")``) decoded with a type check, so a ``Brand`` id
can never be used where a ``Channel`` or an ``ApiKey`` is expected; and ``brand_for``, the
brand an argument names, as every domain's mutations look it up."""

from __future__ import annotations

import binascii

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from graphql_relay import from_global_id, to_global_id

from api.core.errors import ApiError
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand


def encode_id(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def decode_id(global_id: str, expected: str, *, field: str = "id") -> int:
    """The primary key inside ``global_id`` if it names an ``expected`` object.

    Raises ``ValidationError({field: …}, code=invalid_id)`` naming the expected type, so a
    mutation reports it in its ``errors`` and a query turns it into a GraphQL error.
    """
    try:
        type_name, raw_pk = from_global_id(str(global_id or ""))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        type_name, raw_pk = "", ""
    if type_name != expected or not raw_pk.isdigit():
        if type_name and raw_pk:
            message = _("Expected the ID of a %(expected)s, got the ID of a %(got)s.") % {
                "expected": expected,
                "got": type_name,
            }
        else:
            message = _("%(value)s is not a valid %(expected)s ID.") % {"value": global_id, "expected": expected}
        raise ValidationError({field: ValidationError(message, code=ApiError.INVALID_ID)})
    return int(raw_pk)


def brand_for(actor: Actor, global_id: str, field: str = "brand") -> Brand:
    """The brand named by ``global_id`` if the caller may see it; otherwise not_found (the
    same answer whether it does not exist or is hidden)."""
    pk = decode_id(global_id, "Brand", field=field)
    brand = partner_selectors.brand_get(actor=actor, pk=pk)
    if brand is None:
        raise ValidationError({field: ValidationError(_("No such brand."), code=ApiError.NOT_FOUND)})
    return brand
