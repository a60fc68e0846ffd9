"""The /graphql/ endpoint itself: authentication, CSRF, limits, GraphiQL, error masking."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client
from django.utils import timezone

from api.partners.queries import PartnersQuery
from partners.models import ApiKey
from tests.api.conftest import Gql, gid, session, with_key

ME = "{ me { email } myBrands { slug } }"


# --- API keys ---------------------------------------------------------------------------------
def test_read_key_reads_its_own_brand_privately(as_read_key, brand):
    data = as_read_key("query($id: ID!) { brand(id: $id) { slug status creditCode } }", {"id": gid("Brand", brand.pk)})
    assert data["brand"] == {"slug": "luckin-coffee", "status": "approved", "creditCode": brand.credit_code}


def test_key_is_its_brand_not_a_person(as_write_key):
    assert as_write_key(ME) == {"me": None, "myBrands": [{"slug": "luckin-coffee"}]}


def test_key_use_records_last_used_time(as_read_key, read_key):
    as_read_key(ME)
    read_key[0].refresh_from_db()
    assert read_key[0].last_used_at is not None


def test_unknown_key_is_401_not_anonymous(db):
    response = with_key("hl_000000000000_not-a-real-secret").raw(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["extensions"]["code"] == "unauthenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_wrong_secret_for_a_real_prefix_is_401(read_key):
    key, raw = read_key
    assert with_key(f"hl_{key.prefix}_wrong-secret").raw(ME).status_code == 401


def test_revoked_key_is_401(read_key):
    key, raw = read_key
    ApiKey.objects.filter(pk=key.pk).update(revoked_at=timezone.now())
    assert with_key(raw).raw(ME).status_code == 401


def test_non_bearer_authorization_header_is_401(db):
    response = Gql(Client(), {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}).raw(ME)
    assert response.status_code == 401


def test_key_ignores_a_session_cookie_sent_with_it(owner, other_brand, other_owner):
    # A key of other_brand sent from a browser where `owner` is signed in acts as the key only.
    from partners.actors import Actor
    from partners.services import api_key_create

    _key, raw = api_key_create(actor=Actor(user=other_owner), brand=other_brand, name="k", scopes=["read"])
    client = Client()
    client.force_login(owner)
    data = Gql(client, {"HTTP_AUTHORIZATION": f"Bearer {raw}"})(ME)
    assert data == {"me": None, "myBrands": [{"slug": "pop-mart"}]}


# --- CSRF ----------------------------------------------------------------------------------------
def test_session_post_without_csrf_token_is_refused(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = Gql(client).raw(ME)
    assert response.status_code == 403
    assert response.json()["errors"][0]["extensions"]["code"] == "csrf_failed"


def test_session_post_with_csrf_token_is_accepted(owner):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    client.get("/graphql/", {"query": "{ categories { code } }"})  # sets the csrftoken cookie
    token = client.cookies["csrftoken"].value
    data = Gql(client, {"HTTP_X_CSRFTOKEN": token})(ME)
    assert data["me"] == {"email": "owner@example.com"}


def test_bearer_post_needs_no_csrf_token(read_key):
    client = Client(enforce_csrf_checks=True)
    data = Gql(client, {"HTTP_AUTHORIZATION": f"Bearer {read_key[1]}"})(ME)
    assert data["myBrands"] == [{"slug": "luckin-coffee"}]


def test_mutation_over_get_is_refused(as_owner, brand):
    mutation = 'mutation { resubmitBrand(brand: "' + gid("Brand", brand.pk) + '") { errors { code } } }'
    response = as_owner.client.get("/graphql/", {"query": mutation})
    assert response.status_code == 405


# --- limits ------------------------------------------------------------------------------------------
def test_request_over_size_limit_is_413(anon, settings):
    settings.GRAPHQL_MAX_REQUEST_BYTES = 200
    response = anon.raw("{ categories { code } }" + " " * 300)
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "request_too_large"


def test_request_under_size_limit_passes(anon, settings):
    settings.GRAPHQL_MAX_REQUEST_BYTES = 200
    assert anon("{ categories(leavesOnly: true) { code } }")["categories"]


def test_query_deeper_than_limit_is_refused(as_owner, settings):
    settings.GRAPHQL_MAX_DEPTH = 3
    deep = "{ me { memberships { brand { category { code } } } } }"  # depth 4
    response = as_owner.raw(deep)
    assert response.status_code == 400
    assert "exceeds maximum operation depth" in response.json()["errors"][0]["message"]
    assert as_owner.raw("{ me { memberships { role } } }").status_code == 200


def test_default_depth_limit_refuses_a_cyclic_nesting(as_owner):
    nested = "brand { " * 12
    query = "{ me { memberships { " + nested + "slug" + " }" * 12 + " } } }"
    response = as_owner.raw(query)
    assert response.status_code == 400
    assert "depth" in response.json()["errors"][0]["message"]


# --- GraphiQL ------------------------------------------------------------------------------------
def test_graphiql_is_not_served_when_disabled(anon, settings):
    settings.GRAPHIQL_ENABLED = False
    response = anon.client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert b"graphiql" not in response.content.lower()
    assert response["Content-Type"] == "application/json"


def test_graphiql_is_served_when_enabled(anon, settings):
    settings.GRAPHIQL_ENABLED = True
    response = anon.client.get("/graphql/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"graphiql" in response.content.lower()


# --- error masking ---------------------------------------------------------------------------------
@pytest.fixture
def broken_categories(monkeypatch):
    def boom(root, info, leaves_only=False):
        raise RuntimeError("secret connection string postgres://admin:hunter2@db")

    monkeypatch.setattr(PartnersQuery, "resolve_categories", staticmethod(boom))
    # graphene binds resolvers when the schema is built; patch the bound field too.
    from api.schema import schema

    field = schema.graphql_schema.query_type.fields["categories"]
    original = field.resolve
    field.resolve = lambda root, info, **kw: boom(root, info, **kw)
    yield
    field.resolve = original


def test_unexpected_error_is_masked_and_logged_outside_debug(anon, broken_categories, settings, caplog):
    settings.DEBUG = False
    with caplog.at_level(logging.ERROR, logger="api.graphql"):
        response = anon.raw("{ categories { code } }", HTTP_ACCEPT_LANGUAGE="en")
    body = json.dumps(response.json(), ensure_ascii=False)
    assert "hunter2" not in body
    error = response.json()["errors"][0]
    assert error["message"] == "internal error"
    assert error["extensions"]["code"] == "internal_error"
    assert error["path"] == ["categories"]
    assert "hunter2" in caplog.text  # operators still see what happened


def test_unexpected_error_is_shown_in_debug(anon, broken_categories, settings):
    settings.DEBUG = True
    response = anon.raw("{ categories { code } }")
    assert "hunter2" in response.json()["errors"][0]["message"]


def test_expected_graphql_errors_pass_through_outside_debug(anon, settings):
    settings.DEBUG = False
    errors = anon.errors("{ brands { edges { node { slug } } } }")
    assert "first" in errors[0]["message"]
    errors = anon.errors("{ nosuchfield }")
    assert "nosuchfield" in errors[0]["message"]


def test_language_follows_accept_language(anon, brand):
    query = '{ brand(slug: "luckin-coffee") { name category { name } } }'
    assert anon(query, HTTP_ACCEPT_LANGUAGE="en")["brand"]["name"] == "Luckin Coffee"
    assert anon(query, HTTP_ACCEPT_LANGUAGE="zh-hans")["brand"]["name"] == "瑞幸咖啡"


def test_session_helper_logs_in(owner):
    assert session(owner)(ME)["me"]["email"] == "owner@example.com"


def test_introspection_still_works_under_the_depth_limit(anon):
    from graphql import get_introspection_query

    response = anon.raw(get_introspection_query())
    assert response.status_code == 200
    assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"


def test_alias_amplification_is_refused(anon, settings):
    settings.GRAPHQL_MAX_ALIASES = 5
    many = " ".join(f"a{i}: brands(first: 100) {{ edges {{ node {{ slug }} }} }}" for i in range(6))
    response = anon.raw("{ " + many + " }")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "too_many_aliases"
    few = " ".join(f"a{i}: categories {{ code }}" for i in range(5))
    assert anon.raw("{ " + few + " }").status_code == 200


def test_long_get_query_string_is_413(anon, settings):
    settings.GRAPHQL_MAX_REQUEST_BYTES = 100
    response = anon.client.get("/graphql/", {"query": "{ categories { code } }" + " " * 200})
    assert response.status_code == 413


def test_malformed_requests_get_a_clear_400_not_internal_error(anon, settings):
    settings.DEBUG = False
    response = anon.client.post("/graphql/", "{}", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["message"] == "Must provide query string."
    response = anon.client.get("/graphql/", {"query": "{ categories { code } }", "variables": "{not json"})
    assert response.status_code == 400
    assert "Variables are invalid JSON" in response.json()["errors"][0]["message"]
