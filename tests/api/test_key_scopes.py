"""Least-privilege API keys: every mutation declares the scope it needs, and the walk below
calls every mutation of the schema with a key holding each scope."""

from __future__ import annotations

import pytest
from graphene.utils.str_converters import to_camel_case
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLScalarType,
    Undefined,
)

from api.core.mutations import BaseMutation, Permission
from api.schema import Mutation, schema
from partners.actors import Actor
from partners.models import ApiKey, ApiKeyScope
from partners.services import api_key_create
from tests.api.conftest import with_key

REFUSALS = {"read_only_key", "insufficient_scope", "permission_denied"}


def _literal(type_) -> str:
    """A syntactically valid value of ``type_`` (the call must reach the permission check)."""
    if isinstance(type_, GraphQLNonNull):
        return _literal(type_.of_type)
    if isinstance(type_, GraphQLList):
        return "[]"
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        required = [
            f"{name}: {_literal(field.type)}"
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        ]
        return "{" + ", ".join(required) + "}"
    assert isinstance(type_, GraphQLScalarType)
    times = {"DateTime": '"2030-01-01T00:00:00+08:00"', "Date": '"2030-01-01"'}
    return {"Int": "1", "Float": "1", "Boolean": "false", "BigInt": "1", **times}.get(type_.name, '"x"')


def _call(name: str) -> str:
    field = schema.graphql_schema.mutation_type.fields[name]
    args = [
        f"{arg}: {_literal(value.type)}" for arg, value in field.args.items() if isinstance(value.type, GraphQLNonNull)
    ]
    arguments = f"({', '.join(args)})" if args else ""
    return f"mutation {{ {name}{arguments} {{ errors {{ code }} }} }}"


def _mutations() -> dict[str, type[BaseMutation]]:
    out = {}
    for name, field in Mutation._meta.fields.items():
        cls = field.type
        assert issubclass(cls, BaseMutation), f"{name} is not a BaseMutation: it declares no scope"
        out[to_camel_case(name)] = cls
    return out


def test_every_mutation_declares_a_known_scope():
    mutations = _mutations()
    assert mutations
    assert {cls.scope for cls in mutations.values()} <= set(ApiKeyScope)
    assert all(cls.scope != ApiKeyScope.READ for cls in mutations.values())


@pytest.mark.parametrize(
    "scopes",
    [[ApiKeyScope.READ], [ApiKeyScope.WRITE], [ApiKeyScope.EVENTS_WRITE], [ApiKeyScope.WEBHOOKS_MANAGE]],
    ids=lambda s: "+".join(s),
)
def test_every_mutation_with_a_key_of_each_scope(owner, brand, scopes):
    key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="walk", scopes=scopes)
    caller = with_key(raw)
    held = set(ApiKey.objects.get(pk=key.pk).scopes)
    for name, cls in _mutations().items():
        response = caller.raw(_call(name))
        assert response.status_code == 200, (name, response.content)
        body = response.json()
        assert "errors" not in body, (name, body)
        codes = {e["code"] for e in body["data"][name]["errors"]}
        people_only = cls.permission in (Permission.USER, Permission.ADMIN)
        if cls.scope in held and not people_only:
            assert not codes & {"read_only_key", "insufficient_scope"}, (name, scopes, codes)
        else:
            assert codes & REFUSALS, (name, scopes, codes)


def test_a_write_key_made_before_the_split_keeps_its_meaning(owner, brand):
    from importlib import import_module

    from django.apps import apps as live_apps

    key, _raw = api_key_create(actor=Actor(user=owner), brand=brand, name="old", scopes=[ApiKeyScope.WRITE])
    ApiKey.objects.filter(pk=key.pk).update(scopes=["read", "write"])  # as stored before the migration
    migration = import_module("partners.migrations.0012_api_key_event_scope")
    migration.forwards(live_apps, None)
    assert ApiKey.objects.get(pk=key.pk).scopes == ["events:write", "read", "write"]


@pytest.mark.parametrize(
    ("scopes", "reads"),
    [
        ([ApiKeyScope.READ], True),
        ([ApiKeyScope.WRITE], True),
        ([ApiKeyScope.EVENTS_WRITE], False),
        ([ApiKeyScope.WEBHOOKS_MANAGE], False),
    ],
    ids=lambda v: "+".join(v) if isinstance(v, list) else str(v),
)
def test_reading_the_brand_needs_the_read_scope(owner, brand, scopes, reads):
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="walk", scopes=scopes)
    caller = with_key(raw)
    body = caller.raw("{ proposals(first: 5) { edges { node { id } } } }").json()
    if reads:
        assert "errors" not in body, body
    else:
        assert body["errors"][0]["extensions"]["code"] == "insufficient_scope"
        assert body.get("data") is None
    # Every key may always ask who it is.
    assert caller("{ viewer { kind } }")["viewer"]["kind"] == "API_KEY"


def test_a_webhooks_key_reads_its_endpoints_and_nothing_else(owner, brand):
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="hooks", scopes=[ApiKeyScope.WEBHOOKS_MANAGE])
    caller = with_key(raw)
    assert caller("{ webhookEndpoints(first: 5) { edges { node { id } } } }")["webhookEndpoints"]["edges"] == []
    mixed = caller.raw(
        "{ webhookEndpoints(first: 5) { edges { node { id } } } campaigns(first: 5) { edges { node { id } } } }"
    )
    assert mixed.json()["errors"][0]["extensions"]["code"] == "insufficient_scope"
