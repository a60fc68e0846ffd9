"""Structural rules of the schema that every future type and mutation must keep."""

from __future__ import annotations

import pytest
from graphene_django.registry import get_global_registry
from graphql import GraphQLObjectType

from api.core.mutations import BaseMutation, Permission
from api.core.types import ScopedObjectType
from api.schema import schema
from partners.models import BrandBlock


def test_every_django_type_is_scoped_and_lists_its_fields():
    types = set(get_global_registry()._registry.values())
    assert types, "no Django object types registered"
    for t in types:
        assert issubclass(t, ScopedObjectType), f"{t.__name__} is not scoped to the caller"
        assert "scope" in vars(t), f"{t.__name__} does not declare its scope"
        assert t._meta.fields, t.__name__


def test_a_type_without_explicit_fields_is_refused():
    with pytest.raises(TypeError, match="explicitly"):

        class Loose(ScopedObjectType):  # noqa: F841
            class Meta:
                model = BrandBlock


def test_every_mutation_uses_the_base_mutation_with_a_permission():
    for name, field in schema.mutation._meta.fields.items():
        cls = field.type
        assert issubclass(cls, BaseMutation), f"{name} bypasses BaseMutation (read-only keys, errors)"
        assert isinstance(cls.permission, Permission)
        payload = schema.graphql_schema.get_type(cls._meta.name)
        assert "errors" in payload.fields, name


def test_there_is_no_root_node_field():
    assert "node" not in schema.graphql_schema.query_type.fields
    assert "nodes" not in schema.graphql_schema.query_type.fields


def test_no_type_exposes_secrets_or_hashes():
    for name, t in schema.graphql_schema.type_map.items():
        if isinstance(t, GraphQLObjectType) and not name.startswith("__"):
            for field in t.fields:
                lowered = field.lower()
                assert "hash" not in lowered and "password" not in lowered, f"{name}.{field}"
    create_key = schema.graphql_schema.get_type("CreateApiKey")
    assert "key" in create_key.fields  # the one place the raw key is returned
