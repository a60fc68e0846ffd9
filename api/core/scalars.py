"""GraphQL scalars for counts and money.

``graphene.Int`` is 32-bit (audience sizes pass 2^31), and ``graphene.Float`` sends a count
as ``2810000.0``. ``BigInt`` carries any 64-bit signed whole number as a JSON integer, and
``Money`` is an amount in integer cents with its currency. Every count and amount in the
schema uses them.

Parse errors are reported by graphql-core inside its own English sentence ("Variable '$n'
got invalid value 1.5; Expected type 'BigInt'. …"), so the details added here are English
too rather than half a translated sentence.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

import graphene
from graphql import GraphQLError
from graphql.language import IntValueNode, ValueNode, print_ast

from huiliu.formatting import money

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


def _whole(value: Any) -> int:
    """``value`` as an int if it is a whole number in the int64 range; else GraphQLError."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise GraphQLError(f"BigInt cannot represent a non-integer value: {value!r}.")
    if isinstance(value, float | Decimal):
        if not math.isfinite(value) or value != int(value):
            raise GraphQLError(f"BigInt cannot represent a non-integer value: {value!r}.")
        value = int(value)
    if not INT64_MIN <= value <= INT64_MAX:
        raise GraphQLError(f"BigInt cannot represent {value}: it is outside −2^63 … 2^63−1.")
    return value


class BigInt(graphene.Scalar):
    """A whole number from −2^63 to 2^63−1 (counts, sizes, amounts in cents), sent as a JSON
    integer. Input must be an integer literal, or a JSON number with no fractional part in
    variables; strings, fractions and values out of range are refused. JavaScript numbers are
    exact only up to 2^53 − 1."""

    @staticmethod
    def serialize(value: Any) -> int:
        return _whole(value)

    @staticmethod
    def parse_value(value: Any) -> int:
        return _whole(value)

    @staticmethod
    def parse_literal(node: ValueNode, _variables: dict[str, Any] | None = None) -> int:
        if not isinstance(node, IntValueNode):
            raise GraphQLError(f"BigInt cannot represent a non-integer value: {print_ast(node)}.")
        return _whole(int(node.value))


class Money(graphene.ObjectType):
    """An amount of money: integer cents and an ISO 4217 currency code, never a float."""

    amount_cents = BigInt(required=True, description="The amount in the currency's minor unit (fen for CNY).")
    currency = graphene.String(required=True, description="ISO 4217 code, e.g. CNY.")
    formatted = graphene.String(required=True, description="For display, e.g. ¥1,234,567.89.")

    @classmethod
    def of(cls, amount_cents: int, currency: str = "CNY") -> Money:
        """The Money value a resolver returns for ``amount_cents`` in ``currency``. Integer
        cents only: ``money()`` raises TypeError for a float."""
        code = currency.upper()
        return cls(amount_cents=amount_cents, currency=code, formatted=money(amount_cents, code))
