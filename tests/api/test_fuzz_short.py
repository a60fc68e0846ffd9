"""A short pass of the GraphQL fuzz run (scripts/fuzz_graphql.py, docs/API.md "Fuzzing") in
the test suite, so a regression shows in `make test`, not only when someone runs the fuzzer.

The same generator (schemathesis, with the run's hooks and dictionaries of the market's real
IDs), the same market (the demo brands and proposals) and the same caller (a key with every scope
of luckin-coffee); but a few examples per operation, in process through Django's test
client instead of a server, on the test database. Deterministic: Hypothesis derandomised.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck, given, settings

from api.schema import schema as graphql_schema
from exchange.demo import demo_swaps_load
from partners.actors import Actor
from partners.demo import demo_load
from partners.models import ApiKeyScope, Brand, User
from partners.services import api_key_create

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
EXAMPLES = 5  # per operation and generation mode


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_short_fuzz_of_every_operation_finds_no_server_error(fresh_matching_state):
    run = _load("fuzz_graphql")
    hooks = _load("fuzz_graphql_hooks")  # registers the GenericScalar strategy
    demo_load(generated=0)
    demo_swaps_load()
    brand = Brand.objects.get(slug=run.KEY_BRAND)
    owner = User.objects.get(username=run.KEY_OWNER)
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="fuzz", scopes=list(ApiKeyScope.values))
    config = schemathesis.Config.from_dict(run.schemathesis_config(run.market_dictionaries(brand)))
    schema = schemathesis.graphql.from_dict(graphql_schema.introspect(), config=config)
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(graphql_schema.graphql_schema.query_type.fields) + len(
        graphql_schema.graphql_schema.mutation_type.fields
    )
    problems, sent = [], []
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(operation.as_strategy(generation_mode=mode), client, hooks._problem, problems, sent)
    assert len(sent) >= len(operations) * 2
    assert problems == []


def _fuzz(strategy, client, problem_of, problems: list, sent: list) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case):
        sent.append(case.operation.label)
        body = json.dumps({"query": case.body})
        problem = problem_of(client.post("/graphql/", body, content_type="application/json"))
        if problem:
            problems.append(f"{case.operation.label}: {problem}\n{case.body}")

    send()
