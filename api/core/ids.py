"""Global IDs (relay ``base64("Type:pk")``) decoded with a type check, so a ``Brand`` id
can never be used where a ``Channel`` or an ``ApiKey`` is expected; and ``brand_for``, the
brand an argument names, as every domain's mutations look it up."""

from __future__ import annotations

import binascii
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from graphql_relay import from_global_id, to_global_id

from api.core.errors import ApiError
from huiliu.text import excerpt
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand


def encode_id(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


# Primary keys are positive bigints, written in ASCII digits without a sign or leading zeros:
# int() also reads "٣", "３", "+3", " 3" and "03", which would make aliases of Brand:3.
MAX_PK = 2**63 - 1
_PK = re.compile(r"[1-9][0-9]{0,18}")


def decode_id(global_id: str, expected: str, *, field: str = "id") -> int:
    """The primary key inside ``global_id`` if it names an ``expected`` object.

    Raises ``ValidationError({field: …}, code=invalid_id)`` naming the expected type, so a
    mutation reports it in its ``errors`` and a query turns it into a GraphQL error.
    """
    try:
        type_name, raw_pk = from_global_id(str(global_id or ""))
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError):
        type_name, raw_pk = "", ""
    if type_name and raw_pk and type_name != expected:
        message = _("Expected the ID of a %(expected)s, got the ID of a %(got)s.") % {
            "expected": expected,
            "got": excerpt(type_name),
        }
    elif type_name and raw_pk:
        if _PK.fullmatch(raw_pk) and int(raw_pk) <= MAX_PK:
            return int(raw_pk)
        message = _(
            "%(value)s is not a valid %(expected)s ID: its number must be a whole number from 1 to %(max)s."
        ) % {
            "value": excerpt(global_id),
            "expected": expected,
            "max": MAX_PK,
        }
    else:
        message = _("%(value)s is not a valid %(expected)s ID.") % {"value": excerpt(global_id), "expected": expected}
    raise ValidationError({field: ValidationError(message, code=ApiError.INVALID_ID)})


def brand_for(actor: Actor, global_id: str, field: str = "brand") -> Brand:
    """The brand named by ``global_id`` if the caller may see it; otherwise not_found (the
    same answer whether it does not exist or is hidden)."""
    pk = decode_id(global_id, "Brand", field=field)
    brand = partner_selectors.brand_get(actor=actor, pk=pk)
    if brand is None:
        raise ValidationError({field: ValidationError(_("No such brand."), code=ApiError.NOT_FOUND)})
    return brand
