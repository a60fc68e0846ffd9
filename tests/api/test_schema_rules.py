"""Structural rules of the schema that every future type and mutation must keep."""

from __future__ import annotations

import ast
import inspect
import sys
import textwrap

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


def _scoped_types() -> list[type[ScopedObjectType]]:
    found, todo = [], list(ScopedObjectType.__subclasses__())
    while todo:
        t = todo.pop()
        todo.extend(t.__subclasses__())
        if t.__module__.startswith("api."):
            found.append(t)
    return found


def test_every_scope_is_one_visible_selector_of_the_owning_app():
    """Scoping lives in selectors, once: ``scope`` is ``return selectors.<noun>_visible(actor=actor)``
    with ``selectors`` the selectors module of the domain the type belongs to (api.matching.types
    → matching.selectors)."""
    types = _scoped_types()
    assert len(types) >= 11, [t.__name__ for t in types]
    for t in types:
        name = f"{t.__name__}.scope"
        tree = ast.parse(textwrap.dedent(inspect.getsource(t.scope.__func__)))
        (body,) = tree.body[0].body
        call = body.value if isinstance(body, ast.Return) else None
        assert isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute), name
        assert isinstance(call.func.value, ast.Name) and call.func.attr.endswith("_visible"), name
        assert not call.args and [k.arg for k in call.keywords] == ["actor"], name
        module = vars(sys.modules[t.__module__])[call.func.value.id]
        domain = t.__module__.split(".")[1]
        assert module.__name__ == f"{domain}.selectors", f"{name} calls {module.__name__}"


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
