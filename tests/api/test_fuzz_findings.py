"""Bugs the GraphQL fuzzer found (scripts/fuzz_graphql.py, docs/API.md "Fuzzing"), each
pinned by the smallest request that showed it, and the class it belongs to."""

from __future__ import annotations

import graphene

from api.core.errors import ApiError, error
from api.schema import schema

MARK_READ = "mutation { markNotificationsRead(ids: []) { count errors { code } } }"


def test_a_refused_mark_notifications_read_answers_its_error_not_internal_error(as_write_key, anon):
    """A key (not a person) and nobody are refused; ``count: Int!`` must still have a value
    (0: nothing changed), or GraphQL nulls the payload and the caller sees internal_error."""
    assert as_write_key(MARK_READ)["markNotificationsRead"] == {
        "count": 0,
        "errors": [{"code": ApiError.PERMISSION_DENIED.value}],
    }
    assert anon(MARK_READ)["markNotificationsRead"] == {
        "count": 0,
        "errors": [{"code": ApiError.UNAUTHENTICATED.value}],
    }


def test_every_refused_mutation_fills_its_required_payload_fields():
    """The class: a refusal (``BaseMutation.failed``) must give every non-null payload field a
    value, whatever the mutation."""
    refused = [error(ApiError.PERMISSION_DENIED, "no")]
    for name, field in schema.graphql_schema.mutation_type.fields.items():
        mutation = field.type.graphene_type
        payload = mutation.failed(None, refused)
        for attr, payload_field in mutation._meta.fields.items():
            if isinstance(payload_field.type, graphene.NonNull):
                assert getattr(payload, attr, None) is not None, f"{name}.{attr} is null when refused"
