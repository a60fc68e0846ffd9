"""Every example of docs/API.md runs against the real API, in document order, as the caller the
text describes — so the documentation cannot drift from the schema.

The document's fenced blocks, by info string:

* ```graphql example=NAME``` (optionally followed by ```json variables=NAME```): run through
  /graphql/ by the caller ``SCENARIO`` names for it;
* ```sh example=NAME```: a ``curl`` call, run with its own headers (``$KEY`` is a real write
  key) and body; or a ``manage.py`` command, run with ``call_command``;
* ```json response=NAME```: the documented answer of example NAME; the real answer must have
  every key it shows, the same enum values and the same error fields and codes;
* ```graphql schema```: a schema excerpt, checked against the schema;
* ```sh setup``` (the ``$API``/``$KEY`` variables) and ```text``` (not code).

Any other block fails ``test_every_block_is_executed_or_marked_as_something_else``: a new
example cannot be added without being run. ``<PLACEHOLDER>``s are filled from the scenario.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from graphql import parse
from graphql.language import ObjectTypeDefinitionNode, print_ast

from api.schema import schema
from exchange import services as exchange_services
from matching.services import recommendations_refresh_brand
from partners.actors import Actor
from partners.models import ApiKeyScope, Brand, ChannelType, Role
from partners.services import api_key_create
from tests.api.conftest import Gql, gid, session, with_key
from tests.factories import AdminFactory, MembershipFactory, UserFactory, make_brand

DOC = Path(__file__).resolve().parents[2] / "docs" / "API.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```[ \t]*$", re.S | re.M)
ENUM_VALUE = re.compile(r"^[A-Z][A-Z0-9_]+$")


@dataclass
class Block:
    lang: str
    kind: str  # example | variables | response | schema | setup | "" (plain)
    name: str
    body: str
    line: int


@dataclass
class Example:
    name: str
    lang: str  # graphql | sh
    body: str
    variables: str = ""
    response: str = ""


def blocks() -> list[Block]:
    text = DOC.read_text(encoding="utf-8")
    found = []
    for match in FENCE.finditer(text):
        info = match.group(1).split()
        lang = info[0] if info else ""
        kind, name = "", ""
        for word in info[1:]:
            key, _, value = word.partition("=")
            kind, name = key, value
        found.append(Block(lang, kind, name, match.group(2), text.count("\n", 0, match.start()) + 1))
    return found


def examples() -> dict[str, Example]:
    """The examples in document order, each with its variables and documented answer."""
    out: dict[str, Example] = {}
    for b in blocks():
        if b.kind == "example":
            assert b.name not in out, f"line {b.line}: example {b.name} twice"
            out[b.name] = Example(b.name, b.lang, b.body)
    for b in blocks():
        if b.kind in ("variables", "response"):
            assert b.name in out, f"line {b.line}: {b.kind}={b.name} names no example"
            setattr(out[b.name], b.kind, b.body)
    return out


def fill(text: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        text = text.replace(f"<{key}>", value)
    assert not re.search(r"<[A-Z_]+>", text), f"unfilled placeholder in {text}"
    return text


# --- the shape of a documented answer -----------------------------------------------------------
def assert_same_shape(doc: Any, real: Any, path: str = "", in_errors: bool = False) -> None:
    """Every key the documentation shows is in the real answer (``"..."`` stands for more);
    lists are compared by their first item; enum values, and the fields and codes of errors,
    are compared exactly. Other values are illustrations."""
    if isinstance(doc, dict):
        assert isinstance(real, dict), f"{path}: documented an object, got {real!r}"
        for key, value in doc.items():
            if key == "...":
                continue
            assert key in real, f"{path}.{key}: documented but not in the answer {sorted(real)}"
            if real[key] is not None:
                assert_same_shape(value, real[key], f"{path}.{key}", in_errors=key == "errors")
    elif isinstance(doc, list):
        assert isinstance(real, list), f"{path}: documented a list, got {real!r}"
        if in_errors:
            documented = [(e.get("field"), e.get("code")) for e in doc]
            assert [(e.get("field"), e.get("code")) for e in real] == documented, path
        elif doc:
            assert real, f"{path}: documented items, the answer has none"
            assert_same_shape(doc[0], real[0], f"{path}[0]")
    elif isinstance(doc, str) and ENUM_VALUE.match(doc):
        assert real == doc, f"{path}: documented {doc}, got {real}"


def _find_fragment(doc: dict, real: Any) -> Any:
    """A documented answer may be a fragment (one edge): the first object holding all its keys."""
    wanted = {k for k in doc if k != "..."}
    todo = [real]
    while todo:
        node = todo.pop(0)
        if isinstance(node, dict):
            if wanted <= set(node):
                return node
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    raise AssertionError(f"no part of the answer has the documented keys {sorted(wanted)}")


def check_response(example: Example, answer: dict) -> None:
    if not example.response:
        return
    doc = json.loads(example.response)
    real = answer if "data" in doc else _find_fragment(doc, answer.get("data"))
    assert_same_shape(doc, real, example.name)


# --- running a curl block -----------------------------------------------------------------------
HEADERS = {"authorization": "HTTP_AUTHORIZATION", "accept-language": "HTTP_ACCEPT_LANGUAGE"}


def setup_variables() -> dict[str, str]:
    (setup,) = [b for b in blocks() if b.kind == "setup"]
    pairs = dict(re.findall(r"^(\w+)=(\S+)", setup.body, flags=re.M))
    assert set(pairs) == {"API", "KEY"}, pairs
    return pairs


def run_curl(body: str, values: dict[str, str], raw_key: str) -> tuple[str, dict]:
    """(caller, answer) of a ``curl`` example, sent through the test client as written."""
    api = setup_variables()["API"]
    text = body.replace("$API", api).replace("$KEY", "__KEY__")
    words = shlex.split(text)
    assert words[:2] == ["curl", "-s"], words[:2]
    url, headers, data = None, {}, None
    i = 2
    while i < len(words):
        if words[i] == "-H":
            name, _, value = words[i + 1].partition(":")
            headers[name.strip().lower()] = value.strip()
            i += 2
        elif words[i] == "-d":
            data = words[i + 1]
            i += 2
        else:
            url = words[i]
            i += 1
    assert url == api and headers.pop("content-type") == "application/json", (url, headers)
    extra = {HEADERS[name]: value for name, value in headers.items()}
    caller = "anonymous"
    if "HTTP_AUTHORIZATION" in extra:
        assert extra["HTTP_AUTHORIZATION"] == "Bearer __KEY__"
        extra["HTTP_AUTHORIZATION"] = f"Bearer {raw_key}"
        caller = "key"
    payload = json.loads(fill(data, values))
    response = Client().post("/graphql/", json.dumps(payload), content_type="application/json", **extra)
    assert response.status_code == 200, response.content
    answer = response.json()
    assert "errors" not in answer, answer["errors"]
    return caller, answer


def run_command(body: str, tmp_path: Path) -> Path:
    """A ``manage.py`` example, with its ``--out`` file written under ``tmp_path``."""
    words = shlex.split(body.strip())
    assert words[0].endswith("python") and words[1] == "manage.py", words
    args = words[2:]
    out = tmp_path / args[args.index("--out") + 1]
    args[args.index("--out") + 1] = str(out)
    call_command(*args)
    return out


# --- the scenario -------------------------------------------------------------------------------
@dataclass
class Scene:
    callers: dict[str, Gql]
    raw_key: str
    me: Brand
    partner: Brand
    values: dict[str, str]
    tmp_path: Path
    ran: list[str] = field(default_factory=list)


@pytest.fixture
def scene(db, fresh_matching_state, tmp_path) -> Scene:
    me = make_brand("luckin-coffee", "beverage.coffee", scale=2_000_000, tier=2)
    Brand.objects.filter(pk=me.pk).update(name="瑞幸咖啡", name_en="Luckin Coffee", store_count=3000)
    owner = MembershipFactory(brand=me, role=Role.OWNER, user=UserFactory(username="owner@luckin.example")).user
    partner = make_brand("pop-mart", "toys.collectibles", scale=30_000)
    partner_channel = partner.channels.get()
    partner_owner = MembershipFactory(brand=partner, role=Role.OWNER, user=UserFactory(username="bo@pop.example")).user
    make_brand("panda-bakery", "food.bakery", scale=2_000_000, tier=2)  # the recommended partner
    _key, raw = api_key_create(
        actor=Actor(user=owner), brand=me, name="CRM", scopes=[ApiKeyScope.READ, ApiKeyScope.WRITE]
    )
    start = timezone.localdate() + timedelta(days=3)
    callers = {
        "key": with_key(raw),
        "person": session(owner),
        "partner": session(partner_owner),
        "newcomer": session(UserFactory(username="new@heytea.example")),
        "admin": session(AdminFactory(username="ops@huiliu.example")),
        "anonymous": Gql(Client()),
    }
    values = {
        "START": start.isoformat(),
        "END": (start + timedelta(days=6)).isoformat(),
        "MY_BRAND": gid("Brand", me.pk),
        "PARTNER_BRAND": gid("Brand", partner.pk),
        "PARTNER_CHANNEL": gid("Channel", partner_channel.pk),
    }
    return Scene(callers, raw, me, partner, values, tmp_path)


def _open_proposal(scene: Scene) -> None:
    """A fresh proposal from my brand to the partner (the decline and withdraw examples need one)."""
    wecom = scene.me.channels.get(type=ChannelType.WECOM)
    start = timezone.localdate() + timedelta(days=3)
    proposal = exchange_services.proposal_create(
        actor=Actor(user=scene.me.memberships.get().user),
        brand=scene.me,
        counterparty=scene.partner,
        placements=[
            {"channel_id": wecom.pk, "format": "direct_message", "quantity": 1000, "starts_on": start, "ends_on": start}
        ],
    )
    scene.values["OPEN_PROPOSAL"] = gid("Proposal", proposal.pk)


def _no_payload_errors(data: dict) -> None:
    for name, value in data.items():
        if isinstance(value, dict) and "errors" in value:
            assert value["errors"] == [], (name, value["errors"])


def _after_channels(scene: Scene, data: dict) -> None:
    payload = data["setBrandChannels"]
    assert payload["brand"]["activeAudience"] == 2_420_000
    (wecom,) = [c for c in payload["channels"] if c["type"] == "wecom"]
    scene.values["MY_CHANNEL"] = wecom["id"]
    recommendations_refresh_brand(brand_id=scene.me.pk)  # what the refresh after commit does


def _train(scene: Scene) -> None:
    """The worker's part: the run ``retrainMatcher`` queued (after commit) is executed."""
    from graphql_relay import from_global_id

    from matching.tasks import matcher_train_task

    matcher_train_task(int(from_global_id(scene.values["TRAINING_RUN"])[1]))


def _dispatch(scene: Scene) -> None:
    """The worker's part: the outbox events become inbox notifications."""
    from exchange.models import DomainEvent
    from exchange.services.notifications import event_dispatch

    for event_id in DomainEvent.objects.filter(dispatched_at__isnull=True).values_list("pk", flat=True):
        event_dispatch(event_id=event_id)


def _after_recommendations(scene: Scene, data: dict) -> None:
    edges = data["recommendations"]["edges"]
    assert [e["node"]["partner"]["slug"] for e in edges] == ["panda-bakery"]
    scene.values["RECOMMENDED_BRAND"] = edges[0]["node"]["partner"]["id"]


def _after_propose(scene: Scene, data: dict) -> None:
    proposal = data["proposeSwap"]["proposal"]
    assert proposal["state"] == "PROPOSED" and proposal["turn"] == "COUNTERPARTY"
    scene.values["PROPOSAL"] = proposal["id"]
    scene.values["PLACEMENT"] = proposal["currentRevision"]["placements"][0]["id"]


@dataclass
class Step:
    caller: str
    check: Callable[[Scene, dict], None] | None = None
    before: Callable[[Scene], None] | None = None


# Who runs each example, what is checked beyond "no errors", and what must exist before it.
SCENARIO: dict[str, Step] = {
    "print_schema": Step("operator"),
    "viewer": Step(
        "key", lambda s, d: d["viewer"]["brand"]["slug"] == "luckin-coffee" and d["viewer"]["kind"] == "API_KEY"
    ),
    "search": Step("anonymous", lambda s, d: [e["node"]["slug"] for e in d["brands"]["edges"]] == ["luckin-coffee"]),
    "my_brand": Step("key", lambda s, d: d["myBrands"][0]["statusLabel"] == "已通过"),
    "lookups": Step(
        "person",
        lambda s, d: (
            d["me"]["email"] == "owner@luckin.example"
            and d["bySlug"]["id"] == s.values["MY_BRAND"]
            and d["byId"]["slug"] == "luckin-coffee"
            and len(d["channels"]) == 1
        ),
    ),
    "update_profile": Step("key", lambda s, d: d["updateBrandProfile"]["brand"]["toneTags"] == ["young", "urban"]),
    "channels": Step("key", _after_channels),
    "register": Step("newcomer", lambda s, d: d["registerBrand"]["brand"]["status"] == "pending"),
    "recommendations": Step("key", _after_recommendations),
    "dismiss": Step(
        "key",
        lambda s, d: d["dismissRecommendation"]["dismissedPartnerId"] == s.values["RECOMMENDED_BRAND"],
    ),
    "matcher_models": Step("admin"),
    "retrain": Step(
        "admin", lambda s, d: s.values.update(TRAINING_RUN=d["retrainMatcher"]["trainingRun"]["id"]) is None
    ),
    "training_run": Step(
        "admin",
        lambda s, d: (
            d["trainingRun"]["state"] == "failed"  # too few outcomes, said in messageCode
            and d["trainingRun"]["messageCode"] == "not_enough_outcomes"
        ),
        _train,
    ),
    "rates": Step(
        "key",
        lambda s, d: any(r["format"] == "DIRECT_MESSAGE" and r["channelType"] == "WECOM" for r in d["channelRates"]),
    ),
    "propose": Step("key", _after_propose),
    "inbox": Step("partner", lambda s, d: [e["node"]["id"] for e in d["proposals"]["edges"]] == [s.values["PROPOSAL"]]),
    "preview": Step(
        "partner",
        lambda s, d: d["previewSwap"]["balance"]["lighter"] == "COUNTERPARTY" and bool(d["previewSwap"]["suggestions"]),
    ),
    "counter": Step(
        "partner",
        lambda s, d: (
            d["counterProposal"]["proposal"]["revisionNumber"] == 2
            and d["counterProposal"]["proposal"]["balance"]["balanced"] is True
        ),
    ),
    "accept": Step(
        "key",
        lambda s, d: (
            d["acceptProposal"]["proposal"]["state"] == "ACCEPTED"
            and d["sendProposalMessage"]["message"]["side"] == "INITIATOR"
        ),
    ),
    "decline": Step("partner", lambda s, d: d["declineProposal"]["proposal"]["state"] == "DECLINED", _open_proposal),
    "withdraw": Step("key", lambda s, d: d["withdrawProposal"]["proposal"]["state"] == "WITHDRAWN", _open_proposal),
    "mark_read": Step("partner", lambda s, d: d["markNotificationsRead"]["count"] >= 1, _dispatch),
    "numbers": Step("key", lambda s, d: d["myBrands"][0]["activeAudience"] == 2_420_000),
    "register_invalid": Step("newcomer"),
}


def run_example(scene: Scene, example: Example, step: Step) -> None:
    if step.before:
        step.before(scene)
    if example.lang == "sh" and example.body.lstrip().startswith("curl"):
        caller, answer = run_curl(example.body, scene.values, scene.raw_key)
        assert caller == step.caller, f"{example.name}: the curl call is made as {caller}, not {step.caller}"
        data = answer["data"]
    elif example.lang == "sh":
        assert step.caller == "operator"
        out = run_command(example.body, scene.tmp_path)
        text = out.read_text(encoding="utf-8")
        assert "type Query" in text and "viewer: Viewer!" in text
        scene.ran.append(example.name)
        return
    else:
        assert example.lang == "graphql", example.name
        variables = json.loads(fill(example.variables or "{}", scene.values))
        caller = scene.callers[step.caller]
        response = caller.raw(fill(example.body, scene.values), variables)
        assert response.status_code == 200, (example.name, response.content)
        answer = response.json()
        assert "errors" not in answer, (example.name, answer["errors"])
        data = answer["data"]
    if example.name != "register_invalid":
        _no_payload_errors(data)
    check_response(example, answer)
    if step.check is not None:
        outcome = step.check(scene, data)
        assert outcome is None or outcome is True, f"{example.name}: {json.dumps(data, ensure_ascii=False)[:600]}"
    scene.ran.append(example.name)


def test_every_example_runs_as_documented(scene):
    docs = examples()
    assert list(docs) == list(SCENARIO), "docs/API.md examples and SCENARIO differ (names or order)"
    for name, example in docs.items():
        run_example(scene, example, SCENARIO[name])
    assert scene.ran == list(docs)


def test_every_block_is_executed_or_marked_as_something_else():
    allowed = {
        ("graphql", "example"),
        ("graphql", "schema"),
        ("sh", "example"),
        ("sh", "setup"),
        ("json", "variables"),
        ("json", "response"),
        ("text", ""),
    }
    for b in blocks():
        where = f"docs/API.md line {b.line}: ```{b.lang} {b.kind}{'=' + b.name if b.name else ''}```"
        assert (b.lang, b.kind) in allowed, (
            f"{where} is neither an executed example (example=NAME) nor marked (schema, setup, text)"
        )
        if b.lang == "sh" and b.kind == "example":
            first = b.body.lstrip().split()[0]
            assert first == "curl" or first.endswith("python"), f"{where}: only curl and manage.py are run"
    assert set(SCENARIO) == set(examples())


def test_the_schema_excerpts_match_the_schema():
    excerpts = [b for b in blocks() if b.kind == "schema"]
    assert excerpts
    for block in excerpts:
        for definition in parse(block.body).definitions:
            assert isinstance(definition, ObjectTypeDefinitionNode), definition
            real = schema.graphql_schema.get_type(definition.name.value)
            assert real is not None, definition.name.value
            documented = {f.name.value: print_ast(f.type) for f in definition.fields}
            assert {name: str(real.fields[name].type) for name in documented if name in real.fields} == documented


def test_a_drifted_answer_is_caught():
    """The shape check itself: a renamed key, another enum value or error code is a failure."""
    real = {"node": {"state": "PROPOSED", "errors": [{"field": "creditCode", "code": "invalid_credit_code"}]}}
    assert_same_shape(
        {"node": {"state": "PROPOSED", "errors": [{"field": "creditCode", "code": "invalid_credit_code"}]}}, real
    )
    for drifted in (
        {"node": {"status": "PROPOSED"}},
        {"node": {"state": "ACCEPTED"}},
        {"node": {"errors": [{"field": "creditCode", "code": "required"}]}},
    ):
        with pytest.raises(AssertionError):
            assert_same_shape(drifted, real)


def test_a_graphql_block_that_is_not_run_fails_the_check(monkeypatch, tmp_path):
    doc = tmp_path / "API.md"
    doc.write_text("# x\n\n```graphql\n{ viewer { kind } }\n```\n", encoding="utf-8")
    monkeypatch.setitem(globals(), "DOC", doc)
    with pytest.raises(AssertionError, match="neither an executed example"):
        test_every_block_is_executed_or_marked_as_something_else()
