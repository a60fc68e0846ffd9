"""A query's estimated cost is checked before it runs: connections multiply what is under
them by the page they ask for."""

from __future__ import annotations

from graphql import parse

from api.core.validation import query_cost
from api.schema import schema

PAGE = "query($n: Int) { brands(first: $n) { edges { node { slug name } } } }"


def test_a_connection_multiplies_its_selection_by_its_page():
    gql = schema.graphql_schema
    small = query_cost(parse("{ brands(first: 10) { edges { node { slug name } } } }"), gql)
    large = query_cost(parse("{ brands(first: 50) { edges { node { slug name } } } }"), gql)
    assert small == 1 + 10 * 4
    assert large == 1 + 50 * 4
    assert query_cost(parse(PAGE), gql, variables={"n": 20}) == 1 + 20 * 4
    # No page or an unreadable one costs the cap: the estimate is an upper bound.
    assert query_cost(parse(PAGE), gql, variables={"n": "many"}) == 1 + 100 * 4


def test_fragments_count_where_they_are_spread():
    gql = schema.graphql_schema
    inline = query_cost(parse("{ brands(first: 10) { edges { node { slug name } } } }"), gql)
    spread = "fragment B on BrandNode { slug name } { brands(first: 10) { edges { node { ...B } } } }"
    assert query_cost(parse(spread), gql) == inline


def test_a_query_above_the_budget_is_refused_with_its_cost_before_it_runs(anon, settings, django_assert_num_queries):
    settings.GRAPHQL_MAX_COST = 100
    with django_assert_num_queries(0):
        response = anon.raw(PAGE, {"n": 50})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"] == {"code": "query_too_expensive", "cost": 201, "budget": 100}
    assert "201" in error["message"]
    assert anon.raw(PAGE, {"n": 10}).status_code == 200


def test_nested_fragment_spreads_are_costed_in_linear_time_and_refused_fast(anon):
    """Each fragment spreads the next twice: 30 levels expand to 2³⁰ fields. The estimate must
    not expand them (nor may the depth rule run on such a document)."""
    import time

    levels = 30
    parts = [f"fragment F{n} on Category {{ ...F{n + 1} ...F{n + 1} }}" for n in range(levels)]
    parts.append(f"fragment F{levels} on Category {{ code }}")
    document = "{ categories { ...F0 } } " + " ".join(parts)
    started = time.monotonic()
    assert query_cost(parse(document), schema.graphql_schema) > 2**levels
    response = anon.raw(document)
    elapsed = time.monotonic() - started
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "query_too_expensive"
    assert elapsed < 1.0, elapsed
