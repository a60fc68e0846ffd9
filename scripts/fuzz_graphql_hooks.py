"""Schemathesis hooks for ``scripts/fuzz_graphql.py`` (loaded through ``SCHEMATHESIS_HOOKS``).

- ``GenericScalar`` (the ``audience`` input) gets a strategy: JSON-like values, half the time
  keyed by the real audience dimensions so the fuzzer reaches the validators behind them.
- ``huiliu_no_server_error``: the check this run is about. A response is a failure when its
  status is 5xx, when it carries an ``internal_error`` (an exception the API did not expect,
  masked outside DEBUG), or when GraphQL itself reports a resolver that broke the schema
  ("Cannot return null for non-nullable field"). Schemathesis' own ``not_a_server_error``
  is not used: it counts every error with a ``path`` as a server error, which in this API
  includes the refusals it means to give (``not_found``, ``permission_denied``, ``invalid``…).
- Every response is tallied (operation, status, internal error or not) as one JSON line in
  ``$FUZZ_TALLY``, which the runner sums up.
"""

from __future__ import annotations

import json
import os
import threading

import schemathesis
from hypothesis import strategies as st
from schemathesis.graphql import nodes

INTERNAL_ERROR = "internal_error"
NON_NULL_BROKEN = "Cannot return null for non-nullable field"
AUDIENCE_KEYS = ["gender", "age", "city_tier", "regions"]

_lock = threading.Lock()


def _json_value_nodes():
    scalars = st.one_of(
        st.none().map(lambda _v: nodes.Null),
        st.booleans().map(nodes.Boolean),
        st.integers().map(nodes.Int),
        st.floats(allow_nan=False, allow_infinity=False).map(nodes.Float),
        st.text(max_size=30).map(nodes.String),
    )
    keys = st.one_of(st.sampled_from(AUDIENCE_KEYS), st.text(max_size=12))

    def containers(children):
        fields = st.lists(st.tuples(keys, children), max_size=5, unique_by=lambda kv: kv[0])
        return st.one_of(
            st.lists(children, max_size=5).map(nodes.List),
            fields.map(lambda kvs: nodes.Object([_field(k, v) for k, v in kvs])),
        )

    return st.recursive(scalars, containers, max_leaves=12)


def _field(name: str, value):
    import graphql

    return graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)


schemathesis.graphql.scalar("GenericScalar", _json_value_nodes())


def _payload(response):
    try:
        payload = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None


def _problem(response) -> str | None:
    if response.status_code >= 500:
        return f"HTTP {response.status_code}"
    payload = _payload(response)
    for error in (payload or {}).get("errors") or []:
        if not isinstance(error, dict):
            continue
        extensions = error.get("extensions") if isinstance(error.get("extensions"), dict) else {}
        if extensions.get("code") == INTERNAL_ERROR:
            return f"{INTERNAL_ERROR} at {error.get('path')}"
        if NON_NULL_BROKEN in str(error.get("message", "")):
            return str(error["message"])
    return None


@schemathesis.check
def huiliu_no_server_error(ctx, response, case):
    problem = _problem(response)
    if problem:
        raise AssertionError(problem)
    return True


@schemathesis.hook
def after_call(context, case, response):
    path = os.environ.get("FUZZ_TALLY")
    if not path:
        return
    payload = _payload(response) or {}
    codes = sorted(
        {
            str(e["extensions"].get("code"))
            for e in payload.get("errors") or []
            if isinstance(e, dict) and isinstance(e.get("extensions"), dict)
        }
    )
    # Codes a mutation reports in its payload (``{ errors { code } }``): how deep a case got.
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    refusals = sorted(
        {
            str(e.get("code"))
            for value in data.values()
            if isinstance(value, dict) and isinstance(value.get("errors"), list)
            for e in value["errors"]
            if isinstance(e, dict)
        }
    )
    query = case.body.get("query", "") if isinstance(case.body, dict) else case.body
    line = json.dumps(
        {
            "operation": case.operation.label,
            "status": response.status_code,
            "codes": codes,
            "refusals": refusals,
            "problem": _problem(response),
            "query": str(query)[:4000],
        }
    )  # ASCII: a raw U+2028 in a fuzzed string would split the line for str.splitlines()
    with _lock, open(path, "a", encoding="utf-8") as out:
        out.write(line + "\n")
