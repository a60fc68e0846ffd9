"""Helpers for API tests: post JSON to /graphql/ as a given caller."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from graphql_relay import to_global_id

from partners.actors import Actor
from partners.models import ApiKeyScope
from partners.services import api_key_create


class Gql:
    """A caller of /graphql/: a session user, an API key, or nobody."""

    def __init__(self, client: Client, headers: dict | None = None):
        self.client = client
        self.headers = headers or {}

    def raw(self, query: str, variables: dict | None = None, **extra):
        body = json.dumps({"query": query, "variables": variables or {}})
        return self.client.post("/graphql/", body, content_type="application/json", **{**self.headers, **extra})

    def __call__(self, query: str, variables: dict | None = None, **extra) -> dict:
        response = self.raw(query, variables, **extra)
        assert response.status_code == 200, response.content
        payload = response.json()
        assert "errors" not in payload, payload["errors"]
        return payload["data"]

    def errors(self, query: str, variables: dict | None = None) -> list[dict]:
        response = self.raw(query, variables)
        return response.json()["errors"]


def gid(type_name: str, pk: int) -> str:
    return to_global_id(type_name, pk)


def session(user) -> Gql:
    client = Client()
    client.force_login(user)
    return Gql(client)


def with_key(raw_key: str) -> Gql:
    return Gql(Client(), {"HTTP_AUTHORIZATION": f"Bearer {raw_key}"})


@pytest.fixture
def anon(db) -> Gql:
    return Gql(Client())


@pytest.fixture
def as_owner(owner) -> Gql:
    return session(owner)


@pytest.fixture
def as_other(other_owner) -> Gql:
    return session(other_owner)


@pytest.fixture
def as_admin(admin_user) -> Gql:
    return session(admin_user)


def _key(brand, owner, scopes):
    key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name=f"{'+'.join(scopes)} key", scopes=scopes)
    return key, raw


@pytest.fixture
def read_key(brand, owner):
    return _key(brand, owner, [ApiKeyScope.READ])


@pytest.fixture
def write_key(brand, owner):
    return _key(brand, owner, [ApiKeyScope.READ, ApiKeyScope.WRITE])


@pytest.fixture
def as_read_key(read_key) -> Gql:
    return with_key(read_key[1])


@pytest.fixture
def as_write_key(write_key) -> Gql:
    return with_key(write_key[1])
