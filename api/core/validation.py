"""Extra validation rules for incoming documents (the depth limit comes from graphene)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from graphql import GraphQLError, ValidationRule


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    """Refuse documents with more than ``limit`` aliased fields.

    Aliases let one small request ask for the same expensive field hundreds of times
    (``a1: brands(first: 100) … a500: brands(first: 100)``); the size and depth limits do not
    catch that.
    """

    class MaxAliases(ValidationRule):
        def __init__(self, context):
            super().__init__(context)
            self.count = 0

        def enter_field(self, node, *_args):
            if node.alias is not None:
                self.count += 1
                if self.count == limit + 1:
                    self.report_error(
                        GraphQLError(
                            _("Too many aliased fields (limit %(n)d).") % {"n": limit},
                            node,
                            extensions={"code": "too_many_aliases"},
                        )
                    )

    return MaxAliases
