"""Input types of the exchange's mutations, and their conversion into service arguments."""

from __future__ import annotations

import graphene
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from api.core.ids import decode_id
from api.core.scalars import BigInt
from api.exchange.types import PlacementFormatEnum
from exchange.errors import ExchangeError
from exchange.services import PlacementSpec


class PlacementInput(graphene.InputObjectType):
    """One placement of a draft revision. Give ``channel`` (one of your own channels) or
    ``basedOn`` (a placement of the current revision — the only way to keep or change the
    other side's placements, whose channels are private to them)."""

    channel = graphene.ID(description="Your Channel ID.")
    based_on = graphene.ID(description="A Placement ID of the proposal's current revision.")
    format = PlacementFormatEnum(required=True)
    quantity = BigInt(required=True, description="Reach, messages, parcels or store-days.")
    starts_on = graphene.Date(required=True)
    ends_on = graphene.Date(required=True)
    notes = graphene.String()


class AskInput(graphene.InputObjectType):
    """Something you would like from the other side (they place it when they counter)."""

    format = PlacementFormatEnum(required=True)
    quantity = BigInt()
    note = graphene.String()


def _value(enum_value):
    return enum_value.value if hasattr(enum_value, "value") else enum_value


def placement_specs(placements) -> list[PlacementSpec]:
    specs = []
    for i, p in enumerate(placements or []):
        channel = decode_id(p.channel, "Channel", field=f"placements[{i}].channel") if p.get("channel") else None
        based_on = decode_id(p.based_on, "Placement", field=f"placements[{i}].based_on") if p.get("based_on") else None
        if channel is not None and based_on is not None:
            raise ValidationError(
                {
                    f"placements[{i}].channel": ValidationError(
                        _("Give channel or basedOn, not both."), code=ExchangeError.INVALID
                    )
                }
            )
        specs.append(
            PlacementSpec(
                format=_value(p.format),
                quantity=p.quantity,
                starts_on=p.starts_on,
                ends_on=p.ends_on,
                channel_id=channel,
                based_on_id=based_on,
                notes=p.get("notes") or "",
            )
        )
    return specs


def asks_list(asks) -> list[dict]:
    return [
        {"format": _value(a.format), "quantity": a.get("quantity"), "note": a.get("note") or ""} for a in asks or []
    ]
