"""Base object type and connection field that scope every read to the caller.

Every ``DjangoObjectType`` of the API inherits ``ScopedObjectType`` and names a selector
(``scope``) answering "which rows may this actor see?". graphene-django routes lists,
connections, node lookups and foreign-key hops through ``get_queryset``, so an object the
caller may not see never comes back, however it is reached.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.db.models import QuerySet
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from graphene_django import DjangoConnectionField, DjangoObjectType
from graphql import GraphQLError
from graphql_relay import cursor_to_offset, offset_to_cursor

from api.core.errors import ApiError
from partners.actors import Actor


def actor_of(info) -> Actor:
    return Actor.from_request(info.context)


def request_language() -> str:
    """The language of the request being answered (Accept-Language; Chinese by default)."""
    return get_language() or "zh-hans"


class ScopedObjectType(DjangoObjectType):
    class Meta:
        abstract = True

    @classmethod
    def __init_subclass_with_meta__(cls, **options):
        # Explicit fields only: a new model column must never appear in the API by accident.
        if not options.get("abstract") and not options.get("fields"):
            raise TypeError(f"{cls.__name__} must list its `fields` explicitly")
        super().__init_subclass_with_meta__(**options)

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        """The rows ``actor`` may see (a selector call). Subclasses must define it."""
        raise NotImplementedError(f"{cls.__name__}.scope")

    @classmethod
    def get_queryset(cls, queryset, info):
        visible = cls.scope(actor_of(info))
        # Narrow whatever queryset graphene hands us (a relation, a resolver's result) to
        # what the selector allows, keeping its ordering and prefetches.
        return queryset.filter(pk__in=visible.values("pk"))


# What an `after` / `before` cursor of ours holds: "arrayconnection:<offset>", the offset in
# ASCII digits (graphql-relay's format; cursor_to_offset would also read "-5" or "٣").
_CURSOR_OFFSET = re.compile(r"0|[1-9][0-9]{0,18}")
MAX_OFFSET = 2**63 - 1


def _cursor_error(arg: str, message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": ApiError.INVALID_CURSOR.value, "field": arg})


def check_cursor(cursor, arg: str, field_name: str) -> None:
    """Refuse a cursor this API did not hand out (``invalid_cursor``): graphene-django would
    ignore a garbage one (silently serving the first page) and slice with a negative one (an
    AssertionError, masked as internal_error)."""
    if cursor is None:
        return
    offset = cursor_to_offset(cursor)
    expected = offset_to_cursor(offset) if offset is not None and offset >= 0 else None
    if expected != cursor or not _CURSOR_OFFSET.fullmatch(str(offset)) or offset > MAX_OFFSET:
        raise _cursor_error(
            arg,
            _("`%(arg)s` on `%(field)s` is not a cursor from this list; pass a cursor you received (edges.cursor).")
            % {"arg": arg, "field": field_name},
        )


class ScopedConnectionField(DjangoConnectionField):
    """A relay connection whose `first`/`last` are required and capped, and whose cursors and
    `offset` are checked.

    graphene-django enforces RELAY_CONNECTION_ENFORCE_FIRST_OR_LAST / MAX_LIMIT and
    "offset without before" with ``assert``, and trusts cursors; an AssertionError would be
    masked as an internal error, so the arguments are checked here first and reported as
    ordinary GraphQL errors (``pagination_required``, ``pagination_limit``, ``invalid_cursor``).
    """

    @classmethod
    def connection_resolver(
        cls,
        resolver,
        connection,
        default_manager,
        queryset_resolver,
        max_limit,
        enforce_first_or_last,
        root,
        info,
        **args,
    ):
        first, last = args.get("first"), args.get("last")
        limit = max_limit or settings.GRAPHENE.get("RELAY_CONNECTION_MAX_LIMIT", 100)
        if first is None and last is None:
            raise GraphQLError(
                _("Pass `first` or `last` (at most %(n)d) to page through `%(field)s`.")
                % {"n": limit, "field": info.field_name},
                extensions={"code": "pagination_required"},
            )
        for name, value in (("first", first), ("last", last)):
            if value is not None and not 0 < value <= limit:
                raise GraphQLError(
                    _("`%(arg)s` must be between 1 and %(n)d on `%(field)s` (got %(value)d).")
                    % {"arg": name, "n": limit, "field": info.field_name, "value": value},
                    extensions={"code": "pagination_limit"},
                )
        for arg in ("after", "before"):
            check_cursor(args.get(arg), arg, info.field_name)
        after, before = args.get("after"), args.get("before")
        if after is not None and before is not None and cursor_to_offset(before) <= cursor_to_offset(after):
            # No edge lies after `after` and before `before`: an empty page (Relay). graphql-relay
            # would slice the queryset with a negative bound (ValueError, internal_error); moving
            # `before` just past `after` gives it the empty window it can slice.
            args["before"] = offset_to_cursor(cursor_to_offset(after) + 1)
        offset = args.get("offset")
        if offset is not None:
            if offset < 0:
                raise _cursor_error(
                    "offset",
                    _("`offset` must be 0 or more on `%(field)s` (got %(value)d).")
                    % {"field": info.field_name, "value": offset},
                )
            if args.get("before") is not None:
                raise _cursor_error(
                    "offset", _("Pass `offset` or `before` on `%(field)s`, not both.") % {"field": info.field_name}
                )
        return super().connection_resolver(
            resolver,
            connection,
            default_manager,
            queryset_resolver,
            max_limit,
            enforce_first_or_last,
            root,
            info,
            **args,
        )
