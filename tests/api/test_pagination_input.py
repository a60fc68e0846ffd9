"""Every connection refuses forged cursors and a negative ``offset`` with ``invalid_cursor``
(never ``internal_error``, never a silently different page); cursors it handed out still
page as before."""

from __future__ import annotations

import base64
import logging

import pytest
from graphql import GraphQLObjectType, get_named_type

from api.schema import schema
from tests.api.conftest import gid
from tests.factories import BrandFactory


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def connection_fields() -> list[str]:
    query = schema.graphql_schema.query_type
    return sorted(
        name
        for name, field in query.fields.items()
        if isinstance(get_named_type(field.type), GraphQLObjectType)
        and get_named_type(field.type).name.endswith("Connection")
    )


def test_the_walk_finds_every_connection():
    assert {"brands", "recommendations", "proposals", "notifications", "matcherModels", "trainingRuns"} <= set(
        connection_fields()
    )


FORGED = [
    ("first: 2, after: $c", "garbage"),
    ("first: 2, after: $c", "\x00"),
    ("first: 2, after: $c", _b64("arrayconnection:-5")),
    ("first: 2, after: $c", _b64("arrayconnection:²")),
    ("first: 2, after: $c", _b64("arrayconnection:x")),
    ("first: 2, after: $c", _b64("arrayconnection:99999999999999999999999999")),
    ("first: 2, after: $c", _b64("Brand:1")),
    ("last: 2, before: $c", "garbage"),
    ("last: 2, before: $c", _b64("arrayconnection:-1")),
]


def _query(field: str, args: str) -> str:
    """A query of ``field`` with ``args``; $b (a brand) where the connection needs one."""
    variables = ["$c: String"] if "$c" in args else []
    if field == "recommendations":
        args, variables = args + ", brand: $b", [*variables, "$b: ID"]
    declared = f"({', '.join(variables)})" if variables else ""
    return f"query{declared} {{ {field}({args}) {{ edges {{ cursor }} }} }}"


def _variables(query: str, brand, cursor) -> dict:
    out = {}
    if "$c:" in query:
        out["c"] = cursor
    if "$b:" in query:
        out["b"] = gid("Brand", brand.pk)
    return out


@pytest.mark.parametrize("field", connection_fields())
@pytest.mark.parametrize("args, cursor", FORGED)
def test_a_forged_cursor_is_invalid_cursor_on_every_connection(as_admin, brand, field, args, cursor, caplog):
    query = _query(field, args)
    with caplog.at_level(logging.ERROR, logger="api.graphql"):
        errors = as_admin.errors(query, _variables(query, brand, cursor))
    assert errors[0]["extensions"]["code"] == "invalid_cursor", errors
    assert errors[0]["extensions"].get("field") in ("after", "before")
    assert not caplog.records


@pytest.mark.parametrize("field", connection_fields())
@pytest.mark.parametrize(
    "args", ["first: 2, offset: -1", "first: 2, offset: -100000", "last: 2, offset: 1, before: $c"]
)
def test_a_negative_offset_or_offset_with_before_is_refused(as_admin, brand, field, args):
    query = _query(field, args)
    errors = as_admin.errors(query, _variables(query, brand, _b64("arrayconnection:3")))
    assert errors[0]["extensions"]["code"] == "invalid_cursor", errors
    assert "offset" in errors[0]["message"]


def test_cursors_handed_out_still_page_through_the_list(anon, db):
    for i in range(5):
        BrandFactory(slug=f"brand-{i}", active_audience=1000 - i)
    query = "query($c: String) { brands(first: 2, after: $c) { edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }"
    seen, cursor = [], None
    while True:
        page = anon(query, {"c": cursor})["brands"]
        seen += [e["node"]["slug"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        cursor = page["pageInfo"]["endCursor"]
    assert seen == [f"brand-{i}" for i in range(5)]
    assert [
        e["node"]["slug"]
        for e in anon("{ brands(first: 2, offset: 2) { edges { node { slug } } } }")["brands"]["edges"]
    ] == ["brand-2", "brand-3"]
    last = anon(
        "query($c: String) { brands(last: 2, before: $c) { edges { node { slug } } } }",
        {"c": _b64("arrayconnection:4")},
    )["brands"]["edges"]
    assert [e["node"]["slug"] for e in last] == ["brand-2", "brand-3"]
