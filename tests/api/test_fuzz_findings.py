"""Bugs the GraphQL fuzzer found (scripts/fuzz_graphql.py, docs/API.md "Fuzzing"), each
pinned by the smallest request that showed it, and the class it belongs to."""

from __future__ import annotations

import logging

import graphene
import pytest
from graphql_relay import offset_to_cursor

from api.core.errors import ApiError, error
from api.schema import schema
from tests.factories import BrandFactory

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


WINDOW = "query($a: String, $b: String) { brands(first: 3, after: $a, before: $b) { edges { node { slug } } } }"


@pytest.mark.parametrize(
    "after, before",
    [(1, 0), (3, 3), (4, 1), (10, 2)],  # `before` at or ahead of `after`, also past the end
)
def test_a_cursor_window_that_is_empty_answers_an_empty_page(anon, db, caplog, after, before):
    """``brands(after: <cursor 1>, before: <cursor 0>)`` made graphql-relay slice the queryset
    with a negative bound (ValueError → internal_error). The edges after ``after`` and before
    ``before`` are none: an empty page, as the Relay specification has it."""
    for i in range(5):
        BrandFactory(slug=f"brand-{i}", active_audience=1000 - i)
    with caplog.at_level(logging.ERROR, logger="api.graphql"):
        data = anon(WINDOW, {"a": offset_to_cursor(after), "b": offset_to_cursor(before)})
    assert data["brands"]["edges"] == []
    assert not caplog.records


def test_a_cursor_window_still_pages_between_its_cursors(anon, db):
    for i in range(5):
        BrandFactory(slug=f"brand-{i}", active_audience=1000 - i)
    data = anon(WINDOW, {"a": offset_to_cursor(0), "b": offset_to_cursor(3)})
    assert [e["node"]["slug"] for e in data["brands"]["edges"]] == ["brand-1", "brand-2"]
