"""Every executable example of docs/API.md runs against the real API, in document order, as the
caller the text describes — so the documentation cannot drift from the schema.

An example is a fenced block ```graphql example=NAME``` (optionally followed by
```json variables=NAME```); ``<PLACEHOLDER>``s are filled from the scenario below.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from partners.actors import Actor
from partners.models import ApiKeyScope
from partners.services import api_key_create
from tests.api.conftest import gid, session, with_key

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
BLOCK = re.compile(r"```(graphql|json) (example|variables)=(\w+)\n(.*?)```", re.S)


def examples() -> dict[str, dict]:
    found: dict[str, dict] = {}
    for _lang, kind, name, body in BLOCK.findall(DOC.read_text()):
        found.setdefault(name, {})["query" if kind == "example" else "variables"] = body
    return found


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"<{key}>", value)
    assert not re.search(r"<[A-Z_]+>", text), f"unfilled placeholder in {text}"
    return text


def test_the_exchange_examples_run_as_documented(coffee, toys, coffee_owner, toys_owner, coffee_wecom, toys_wecom):
    docs = examples()
    assert {"rates", "propose", "inbox", "preview", "counter", "accept"} <= set(docs)
    _key, raw = api_key_create(
        actor=Actor(user=coffee_owner), brand=coffee, name="CRM", scopes=[ApiKeyScope.READ, ApiKeyScope.WRITE]
    )
    initiator, partner = with_key(raw), session(toys_owner)  # a partner system, and a person
    start = timezone.localdate() + timedelta(days=3)
    values = {
        "START": start.isoformat(),
        "END": (start + timedelta(days=6)).isoformat(),
        "MY_BRAND": gid("Brand", coffee.pk),
        "PARTNER_BRAND": gid("Brand", toys.pk),
        "MY_CHANNEL": gid("Channel", coffee_wecom.pk),
        "PARTNER_CHANNEL": gid("Channel", toys_wecom.pk),
    }

    def run(name: str, caller):
        example = docs[name]
        variables = json.loads(fill(example.get("variables", "{}"), values))
        data = caller(fill(example["query"], values), variables)
        for field in data.values():
            if isinstance(field, dict) and "errors" in field:
                assert field["errors"] == [], (name, field["errors"])
        return data

    rates = run("rates", initiator)["channelRates"]
    assert any(r["format"] == "DIRECT_MESSAGE" and r["channelType"] == "WECOM" for r in rates)

    proposal = run("propose", initiator)["proposeSwap"]["proposal"]
    assert proposal["state"] == "PROPOSED" and proposal["turn"] == "COUNTERPARTY"
    values["PROPOSAL"] = proposal["id"]
    values["PLACEMENT"] = proposal["currentRevision"]["placements"][0]["id"]

    inbox = run("inbox", partner)
    assert [e["node"]["id"] for e in inbox["proposals"]["edges"]] == [proposal["id"]]

    preview = run("preview", partner)["previewSwap"]
    assert preview["balance"]["lighter"] == "COUNTERPARTY" and preview["suggestions"]

    countered = run("counter", partner)["counterProposal"]["proposal"]
    assert countered["revisionNumber"] == 2 and countered["balance"]["balanced"] is True

    accepted = run("accept", initiator)
    assert accepted["acceptProposal"]["proposal"]["state"] == "ACCEPTED"
    assert accepted["sendProposalMessage"]["message"]["side"] == "INITIATOR"


@pytest.mark.parametrize("name", ["propose", "counter", "preview", "accept"])
def test_every_example_with_variables_names_only_known_placeholders(name):
    known = {"START", "END", "MY_BRAND", "PARTNER_BRAND", "MY_CHANNEL", "PARTNER_CHANNEL", "PROPOSAL", "PLACEMENT"}
    example = examples()[name]
    used = set(re.findall(r"<([A-Z_]+)>", example["query"] + example.get("variables", "")))
    assert used <= known
