"""A small GraphQL fuzzer run with the suite: every root query and mutation, called with hostile
values (NUL, unpaired surrogates, invisible and bidi characters, huge text, forged IDs and
cursors, extreme numbers, deep JSON) — in every argument at once, by an admin, a brand's write
key and an anonymous caller; then in one argument (or input field) at a time, the others
plausible, so each check deep inside a service is reached too. No response may be a 5xx or
carry ``internal_error``, and nothing may be logged as an unexpected error.

It complements, not replaces, the schemathesis run recorded in docs/ (≥ 50 generated examples
per operation): this one is deterministic and walks the schema itself, so a new operation or
argument is covered the day it is added.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.test import Client
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    get_named_type,
)

from api.schema import schema
from partners.actors import Actor
from partners.services import api_key_create
from tests.api.conftest import gid
from tests.factories import valid_credit_code


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


# One value per profile for each kind of argument; a profile is applied to every argument of a
# call at once (the validators must report, not crash, whichever they look at first).
PROFILES: dict[str, dict[str, object]] = {
    "nul": {"String": "a\x00b", "ID": _b64("Brand:1\x00"), "Int": 0, "Float": 0.0, "BigInt": 0},
    "surrogate": {"String": "\ud800", "ID": "\udfff", "Int": -1, "Float": -1.0, "BigInt": -1},
    "invisible": {"String": "\u200b\u202e\u2066", "ID": _b64("Brand:٣"), "Int": 2**31 - 1, "Float": 1e308},
    "huge": {"String": "x" * 20_000, "ID": _b64("Brand:" + "9" * 40), "Int": -(2**31), "BigInt": 2**63 - 1},
    "forged": {"String": _b64("arrayconnection:-5"), "ID": _b64("Brand:-1"), "Int": -100, "BigInt": -(2**63)},
    "dates": {"String": "", "ID": "", "Date": "0001-01-01", "Int": 1},
}


def _nested(depth: int):
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


GENERIC = {
    "nul": {"\x00": "\x00"},
    "surrogate": {"gender": {"\ud800": 1}},
    "invisible": ["\u200b"],
    "huge": {"regions": ["CN-SH"] * 2000},
    "forged": {"gender": _nested(12)},
    "dates": _nested(40),  # deeper than the API's JSON nesting limit
}
DEFAULTS = {"String": "x", "ID": "", "Int": 1, "Float": 0.5, "BigInt": 1, "Boolean": True, "Date": "2030-01-01"}


def value_for(type_, profile: str, depth: int = 0):
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        return [value_for(nullable.of_type, profile, depth + 1)]
    if isinstance(nullable, GraphQLInputObjectType):
        if depth > 4:
            return {}
        return {name: value_for(field.type, profile, depth + 1) for name, field in nullable.fields.items()}
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    assert isinstance(nullable, GraphQLScalarType), nullable
    if nullable.name == "GenericScalar":
        return GENERIC[profile]
    return PROFILES[profile].get(nullable.name, DEFAULTS.get(nullable.name, "x"))


def selection(type_) -> str:
    named = get_named_type(type_)
    if not isinstance(named, GraphQLObjectType):
        return ""
    if "errors" in named.fields:
        return "{ __typename errors { field code message } }"
    return "{ __typename }"


def operations() -> list[tuple[str, str]]:
    found = []
    for kind, root in (("query", schema.graphql_schema.query_type), ("mutation", schema.graphql_schema.mutation_type)):
        for name in sorted(root.fields):
            found.append((kind, name))
    return found


def document(kind: str, name: str) -> tuple[str, dict]:
    root = schema.graphql_schema.query_type if kind == "query" else schema.graphql_schema.mutation_type
    field = root.fields[name]
    declared = ", ".join(f"${arg}: {spec.type}" for arg, spec in field.args.items())
    passed = ", ".join(f"{arg}: ${arg}" for arg in field.args)
    head = f"{kind}({declared})" if declared else kind
    call = f"{name}({passed})" if passed else name
    return f"{head} {{ {call} {selection(field.type)} }}", field.args


def test_the_walk_reaches_every_operation():
    names = {name for _kind, name in operations()}
    assert {"brands", "brand", "recommendations", "proposals", "registerBrand", "proposeSwap"} <= names
    assert len(names) >= 30


@pytest.fixture
def callers(db, brand, owner, admin_user):
    admin = Client(raise_request_exception=False)
    admin.force_login(admin_user)
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="fuzz", scopes=["read", "write"])
    return {
        "admin": (admin, {}),
        "write_key": (Client(raise_request_exception=False), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}),
        "anonymous": (Client(raise_request_exception=False), {}),
    }


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_hostile_arguments_never_cause_a_server_error(callers, brand, profile, caplog, settings):
    settings.DEBUG = False
    problems = []
    for kind, name in operations():
        query, args = document(kind, name)
        variables = {arg: value_for(spec.type, profile) for arg, spec in args.items()}
        for who, (client, headers) in callers.items():
            with caplog.at_level(logging.ERROR, logger="api.graphql"):
                response = client.post(
                    "/graphql/",
                    json.dumps({"query": query, "variables": variables}),
                    content_type="application/json",
                    **headers,
                )
            body = response.content.decode("utf-8", "replace")
            if response.status_code >= 500 or "internal_error" in body:
                problems.append((who, kind, name, response.status_code, body[:300]))
    assert not problems, problems
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:3000]


def test_valid_looking_ids_of_every_type_are_answered_cleanly(callers, brand):
    """The same walk with a real brand's ID in every ID argument (the type check then decides)."""
    problems = []
    for kind, name in operations():
        query, args = document(kind, name)
        variables = {arg: value_for(spec.type, "dates") for arg, spec in args.items()}
        for arg, spec in args.items():
            if get_named_type(spec.type).name == "ID":
                variables[arg] = (
                    gid("Brand", brand.pk) if not isinstance(variables[arg], list) else [gid("Brand", brand.pk)]
                )
        for who, (client, headers) in callers.items():
            response = client.post(
                "/graphql/",
                json.dumps({"query": query, "variables": variables}),
                content_type="application/json",
                **headers,
            )
            if response.status_code >= 500 or b"internal_error" in response.content:
                problems.append((who, kind, name, response.status_code, response.content[:300]))
    assert not problems, problems


# --- one argument at a time -------------------------------------------------------------------------
ONE_AT_A_TIME = {
    "String": ["a\x00b", "\ud800", "\u200b", "a\u202eb\nc", "x" * 20_000, _b64("arrayconnection:-5")],
    "ID": ["a\x00", "\ud800", _b64("Brand:٣"), _b64("Brand:-1"), _b64("Brand:" + "9" * 30), "x" * 20_000],
    "Int": [-1, 0, 2**31 - 1, -(2**31)],
    "BigInt": [-1, 0, 2**63 - 1, -(2**63)],
    "Float": [-1.0, 1e308, -1e308],
    "Date": ["0001-01-01", "9999-12-31"],
    "GenericScalar": [GENERIC[p] for p in sorted(GENERIC)],
}


def plausible(name: str, type_, world: dict, depth: int = 0):
    """A value a real client might send for the argument or input field ``name``."""
    nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(nullable, GraphQLList):
        return [plausible(name, nullable.of_type, world, depth + 1)]
    if isinstance(nullable, GraphQLInputObjectType):
        return {n: plausible(n, f.type, world, depth + 1) for n, f in nullable.fields.items()}
    if isinstance(nullable, GraphQLEnumType):
        return next(iter(nullable.values))
    kind = nullable.name
    if kind == "ID":
        return world["ids"].get(name, world["ids"]["brand"])
    if kind == "String":
        return world["strings"].get(name, "x")
    if kind == "GenericScalar":
        return {"gender": {"female": 0.5, "male": 0.5}}
    return {"Int": 1, "BigInt": 1000, "Float": 0.5, "Boolean": False, "Date": world["date"]}.get(kind, "x")


def leaf_paths(args: dict) -> list[tuple[tuple, str]]:
    """Every (path into the variables, scalar type name) of an operation's arguments."""
    out = []

    def walk(path, type_):
        nullable = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
        if isinstance(nullable, GraphQLList):
            walk((*path, 0), nullable.of_type)
        elif isinstance(nullable, GraphQLInputObjectType):
            for n, f in nullable.fields.items():
                walk((*path, n), f.type)
        elif isinstance(nullable, GraphQLScalarType):
            out.append((path, nullable.name))

    for arg, spec in args.items():
        walk((arg,), spec.type)
    return out


def put(variables: dict, path: tuple, value) -> dict:
    out = json.loads(json.dumps(variables))
    target = out
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return out


@pytest.fixture
def world(coffee, toys, coffee_owner, coffee_wecom, toys_wecom, coffee_actor, toys_actor, place, window, admin_user):
    from exchange import services as exchange_services

    proposal = exchange_services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )
    _key, raw = api_key_create(actor=coffee_actor, brand=coffee, name="fuzz", scopes=["read", "write"])
    # The counterparty's key: it is their turn, so counter / decline / accept reach their checks.
    _key, toys_raw = api_key_create(actor=toys_actor, brand=toys, name="fuzz", scopes=["read", "write"])
    admin = Client(raise_request_exception=False)
    admin.force_login(admin_user)
    return {
        "ids": {
            "brand": gid("Brand", coffee.pk),
            "counterparty": gid("Brand", toys.pk),
            "partner": gid("Brand", toys.pk),
            "proposal": gid("Proposal", proposal.pk),
            "channel": gid("Channel", coffee_wecom.pk),
            "basedOn": gid("Placement", proposal.revisions.get().placements.get().pk),
        },
        "strings": {
            "slug": "fuzz-brand",
            "name": "模糊测试",
            "category": "beverage.tea_drinks",
            "creditCode": valid_credit_code(99),
            "type": "wecom",
            "blockedSlug": toys.slug,
            "region": "CN-SH",
            "scopes": "read",
            "verification": "self_reported",
            "website": "https://example.com",
        },
        "date": window[0].isoformat(),
        "callers": {
            "write_key": (Client(raise_request_exception=False), {"HTTP_AUTHORIZATION": f"Bearer {raw}"}),
            "their_key": (Client(raise_request_exception=False), {"HTTP_AUTHORIZATION": f"Bearer {toys_raw}"}),
            "admin": (admin, {}),
        },
    }


@pytest.mark.parametrize("kind, name", operations(), ids=[f"{k}-{n}" for k, n in operations()])
def test_one_hostile_argument_at_a_time_never_causes_a_server_error(world, kind, name, caplog, settings):
    settings.DEBUG = False
    query, args = document(kind, name)
    base = {arg: plausible(arg, spec.type, world) for arg, spec in args.items()}
    problems = []
    for path, scalar in leaf_paths(args):
        for value in ONE_AT_A_TIME.get(scalar, []):
            variables = put(base, path, value)
            for who, (client, headers) in world["callers"].items():
                with caplog.at_level(logging.ERROR, logger="api.graphql"):
                    response = client.post(
                        "/graphql/",
                        json.dumps({"query": query, "variables": variables}),
                        content_type="application/json",
                        **headers,
                    )
                if response.status_code >= 500 or b"internal_error" in response.content:
                    problems.append((who, path, repr(value)[:40], response.status_code, response.content[:300]))
    assert not problems, problems
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[:3000]
