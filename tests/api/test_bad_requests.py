"""Malformed requests to /graphql/ are answered 400 ``bad_request`` as JSON — never an HTTP
500, never an ``internal_error`` (and nothing logged as an unexpected error): JSON nested
deeper than the recursion limit or than any input of the schema needs, a ``query``,
``variables`` or ``operationName`` of the wrong type, a body that is not UTF-8."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def post(caplog):
    """POST a raw body; the response must be a 400 bad_request, and no unexpected error logged."""
    client = Client(raise_request_exception=False)

    def send(body, content_type="application/json", expected="bad_request"):
        with caplog.at_level(logging.ERROR):
            response = client.post("/graphql/", body, content_type=content_type, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 400, (response.status_code, response.content[:300])
        assert response["Content-Type"] == "application/json"
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == expected, error
        assert "internal" not in error["message"]
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
        return error["message"]

    return send


def test_a_body_of_a_thousand_nested_brackets_is_a_bad_request(post):
    assert "nested" in post("[" * 1000)


def test_a_closed_body_nested_below_the_recursion_limit_is_a_bad_request_too(post):
    post('{"query": "{ __typename }", "extra": ' + "[" * 500 + "]" * 500 + "}")


def test_deeply_nested_variables_are_a_bad_request(post):
    deep = "[" * 1000 + "]" * 1000
    assert "nested" in post('{"query": "{ __typename }", "variables": {"x": ' + deep + "}}")
    moderate = json.loads("[" * 200 + "]" * 200)
    query = "mutation($a: GenericScalar) { __typename }"
    assert "nested" in post(json.dumps({"query": query, "variables": {"a": moderate}}))


def test_deeply_nested_variables_in_a_query_string_are_a_bad_request(caplog):
    client = Client(raise_request_exception=False)
    for depth in (200, 1000):
        response = client.get(
            "/graphql/", {"query": "{ __typename }", "variables": '{"x": ' + "[" * depth + "]" * depth + "}"}
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["extensions"]["code"] == "bad_request"


@pytest.mark.parametrize("query", [5, ["{ __typename }"], {"a": 1}, True])
def test_a_query_that_is_not_a_string_is_a_bad_request(post, query):
    assert "query" in post(json.dumps({"query": query}))


@pytest.mark.parametrize("variables", [[1], 5, True])
def test_variables_that_are_not_an_object_are_a_bad_request(post, variables):
    assert "variables" in post(json.dumps({"query": "{ __typename }", "variables": variables}))


@pytest.mark.parametrize("name", [5, ["a"], {"a": 1}])
def test_an_operation_name_that_is_not_a_string_is_a_bad_request(post, name):
    assert "operationName" in post(json.dumps({"query": "query a { __typename }", "operationName": name}))


def test_a_graphql_body_that_is_not_utf8_is_a_bad_request(post):
    post(b"{ \xff }", content_type="application/graphql")
    post(b'{"query": "\xff"}')


def test_sensible_requests_still_work():
    client = Client()
    response = client.post(
        "/graphql/",
        json.dumps(
            {
                "query": "query q($s: String) { brands(first: 1, search: $s) { edges { cursor } } }",
                "variables": {"s": "x"},
                "operationName": "q",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 200 and "errors" not in response.json()
