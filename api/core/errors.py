"""The `Error` type every mutation payload carries, and the conversions from the domain's
``ValidationError`` (field + code + message): into mutation ``errors``, or into a GraphQL
error for queries (which have no payload to carry them)."""

from __future__ import annotations

import re
from enum import StrEnum

import graphene
from django.core.exceptions import ValidationError
from graphql import GraphQLError

from huiliu.errors import error_items


class ApiError(StrEnum):
    """Codes the API layer adds to the domain's own (``partners.errors`` …)."""

    NOT_FOUND = "not_found"
    INVALID_ID = "invalid_id"
    INVALID_CURSOR = "invalid_cursor"
    PERMISSION_DENIED = "permission_denied"
    UNAUTHENTICATED = "unauthenticated"
    READ_ONLY_KEY = "read_only_key"  # a key with no write scope at all
    INSUFFICIENT_SCOPE = "insufficient_scope"  # a key without the scope this mutation declares
    INTERNAL_ERROR = "internal_error"
    REQUEST_TOO_LARGE = "request_too_large"
    CSRF_FAILED = "csrf_failed"
    RATE_LIMITED = "rate_limited"  # HTTP 429; extensions.retryAfter seconds, as the Retry-After header


class Error(graphene.ObjectType):
    """One problem with a mutation's input. ``field`` is the input path in the API's own
    spelling (``creditCode``, ``channels[1].activeRate``), or null for the whole request."""

    field = graphene.String()
    code = graphene.String(required=True)
    message = graphene.String(required=True)


def _camel(segment: str) -> str:
    # "active_rate" → "activeRate"; keeps list indexes ("channels[0]") intact.
    return re.sub(r"_([a-z0-9])", lambda m: m.group(1).upper(), segment)


def api_field_name(field: str | None) -> str | None:
    if not field or field == "__all__":
        return None
    return ".".join(_camel(part) for part in field.split("."))


def errors_from_validation(exc: ValidationError) -> list[Error]:
    return [Error(field=api_field_name(f), code=c, message=m) for f, c, m in error_items(exc)]


def error(code: str, message: str, field: str | None = None) -> Error:
    return Error(field=field, code=str(code), message=str(message))


def graphql_error_from(exc: ValidationError) -> GraphQLError:
    """A query's bad input (a wrong ID type, a bad filter) as a GraphQL error carrying the
    first problem's ``code`` and ``field`` in its extensions."""
    field, code, message = error_items(exc)[0]
    return GraphQLError(message, extensions={"code": code, "field": field})
