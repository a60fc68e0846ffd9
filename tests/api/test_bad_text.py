"""Text a client sends through GraphQL — query arguments, mutation inputs — is checked before it
is searched for or stored: NUL (PostgreSQL cannot hold it), other control characters and lone
surrogates are a field error (``invalid``); names, labels and tags also refuse line breaks,
zero-width and bidi-control characters, and invisible-only names do not count as given
(``required``). Text over its column's length is refused with the limit in the message, never
cut silently. Never an ``internal_error``; nothing changes."""

from __future__ import annotations

import logging

import pytest

from exchange.models import ChannelRate, Proposal, ProposalMessage
from partners.models import ApiKey, AuditEvent, Brand, BrandBlock, BrandStatus, Channel
from tests.api.conftest import gid
from tests.factories import BrandFactory, ChannelFactory, valid_credit_code

# Refused in every text field.
BAD_TEXT = {
    "nul": "a\x00b",
    "control": "a\x07b",
    "escape": "a\x1b[31mb",
    "lone_surrogate": "a\ud800b",
}
# Refused in names, labels and tags as well.
BAD_NAMES = {
    **BAD_TEXT,
    "newline": "Luckin\nBcc: victim@example.com",
    "tab": "a\tb",
    "zero_width_space": "Luck\u200bin",
    "zero_width_only": "\u200b\u200b",
    "word_joiner": "a\u2060b",
    "bom": "\ufeffLuckin",
    "rtl_override": "Luckin\u202egpj.exe",
    "bidi_isolate": "a\u2066b\u2069",
    "line_separator": "a\u2028b",
}


@pytest.fixture(autouse=True)
def _no_unexpected_errors(caplog):
    with caplog.at_level(logging.ERROR, logger="api.graphql"):
        yield
    assert not caplog.records, caplog.text


def snapshot() -> dict:
    """Every row a refused call could have changed."""
    return {
        "brands": sorted(
            Brand.objects.values_list(
                "pk", "name", "name_en", "legal_name", "description", "tone_tags", "status", "status_reason"
            )
        ),
        "channels": sorted(Channel.objects.values_list("pk", "label")),
        "keys": ApiKey.objects.count(),
        "blocks": BrandBlock.objects.count(),
        "audit": AuditEvent.objects.count(),
        "proposals": sorted(Proposal.objects.values_list("pk", "state", "decline_note")),
        "messages": ProposalMessage.objects.count(),
        "rates": sorted(ChannelRate.objects.values_list("pk", "rate_cents", "source")),
    }


def refused(data: dict, field: str, codes=("invalid",)) -> list[dict]:
    (result,) = data.values()
    errors = result["errors"]
    assert any(e["field"] == field and e["code"] in codes for e in errors), errors
    return errors


# --- queries --------------------------------------------------------------------------------------
QUERIES = [
    ("query($v: String) { brands(first: 5, search: $v) { edges { node { slug } } } }", "search"),
    ("query($v: String) { brands(first: 5, category: $v) { edges { node { slug } } } }", "category"),
    ("query($v: String) { brand(slug: $v) { slug } }", "slug"),
]


@pytest.mark.parametrize("query, field", QUERIES)
@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_query_arguments_with_control_characters_are_invalid(anon, brand, query, field, value):
    errors = anon.errors(query, {"v": value})
    assert errors[0]["extensions"] == {"code": "invalid", "field": field}, errors
    assert "U+" in errors[0]["message"]


def test_ordinary_searches_still_work(anon, brand):
    data = anon("query($v: String) { brands(first: 5, search: $v) { edges { node { slug } } } }", {"v": " 瑞幸 "})
    assert [e["node"]["slug"] for e in data["brands"]["edges"]] == ["luckin-coffee"]
    assert anon('{ brand(slug: "luckin-coffee") { slug } }')["brand"] == {"slug": "luckin-coffee"}


# --- brands -----------------------------------------------------------------------------------------
REGISTER = """mutation($input: RegisterBrandInput!) { registerBrand(input: $input) {
  brand { slug name } errors { field code message } } }"""
UPDATE = """mutation($b: ID!, $input: UpdateBrandProfileInput!) { updateBrandProfile(brand: $b, input: $input) {
  brand { name nameEn legalName description toneTags } errors { field code message } } }"""


def registration(**overrides) -> dict:
    return {
        "slug": "heytea",
        "name": "喜茶",
        "category": "beverage.tea_drinks",
        "creditCode": valid_credit_code(777),
        **overrides,
    }


@pytest.mark.parametrize("field", ["name", "nameEn", "legalName"])
@pytest.mark.parametrize("value", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_brand_names_refuse_control_invisible_and_bidi_characters(as_other, as_owner, brand, field, value):
    before = snapshot()
    refused(as_other(REGISTER, {"input": registration(**{field: value})}), field, ("invalid", "required"))
    refused(as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {field: value}}), field, ("invalid", "required"))
    assert snapshot() == before


def test_an_invisible_only_name_is_not_a_name(as_owner, brand):
    for blank in ("\u200b", "\u3000\u200d", "\ufeff ", "\u3164"):
        errors = refused(
            as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"name": blank}}, HTTP_ACCEPT_LANGUAGE="en"),
            "name",
            ("required",),
        )
        assert errors[0]["message"] == "name is required."
    brand.refresh_from_db()
    assert brand.name == "瑞幸咖啡"


def test_the_message_names_the_refused_character(as_owner, brand):
    (error,) = as_owner(
        UPDATE, {"b": gid("Brand", brand.pk), "input": {"name": "Luckin\u202egpj"}}, HTTP_ACCEPT_LANGUAGE="en"
    )["updateBrandProfile"]["errors"]
    assert error == {
        "field": "name",
        "code": "invalid",
        "message": "name contains a text-direction control character (U+202E), which is not allowed.",
    }


def test_names_are_normalised_nfkc_only_where_safe(as_owner, brand):
    data = as_owner(
        UPDATE,
        {
            "b": gid("Brand", brand.pk),
            "input": {
                "name": "\u3000瑞幸咖啡（中国）\u3000",
                "nameEn": "ＬＵＣＫＩＮ\u00a0Coffee",
                "legalName": "瑞幸咖啡（中国）有限公司",
                "tone": ["Ｙｏｕｎｇ"],
            },
        },
    )
    assert data["updateBrandProfile"]["errors"] == []
    # Full-width punctuation is Chinese typography (and the registered legal name): kept.
    assert data["updateBrandProfile"]["brand"]["name"] == "瑞幸咖啡（中国）"
    assert data["updateBrandProfile"]["brand"]["legalName"] == "瑞幸咖啡（中国）有限公司"
    # A full-width Latin name or tag is folded (NFKC).
    assert data["updateBrandProfile"]["brand"]["nameEn"] == "LUCKIN Coffee"
    assert data["updateBrandProfile"]["brand"]["toneTags"] == ["young"]


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_a_description_refuses_control_characters_but_keeps_line_breaks(as_owner, brand, value):
    before = snapshot()
    refused(as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": value}}), "description")
    assert snapshot() == before
    data = as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "第一行\n第二行\r\n\t缩进"}})
    assert data["updateBrandProfile"]["brand"]["description"] == "第一行\n第二行\r\n\t缩进"


@pytest.mark.parametrize("value", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_tone_tags_refuse_control_invisible_and_bidi_characters(as_owner, brand, value):
    before = snapshot()
    refused(
        as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"tone": ["young", value]}}),
        "tone",
        ("invalid", "required"),
    )
    assert snapshot() == before


# --- channels -------------------------------------------------------------------------------------
SET_CHANNELS = """mutation($b: ID!, $channels: [ChannelInput!]!) { setBrandChannels(brand: $b, channels: $channels) {
  channels { label } errors { field code message } } }"""


def channel(**overrides) -> dict:
    return {"type": "wecom", "label": "会员企微", "size": 1000, "activeRate": 0.5, **overrides}


@pytest.mark.parametrize("value", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_channel_labels_refuse_control_invisible_and_bidi_characters(as_owner, brand, value):
    ChannelFactory(brand=brand, label="老渠道")
    before = snapshot()
    data = as_owner(SET_CHANNELS, {"b": gid("Brand", brand.pk), "channels": [channel(label=value)]})
    refused(data, "channels[0].label")
    assert snapshot() == before


@pytest.mark.parametrize("field", ["type", "verification"])
@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_channel_type_and_verification_with_control_characters_are_refused(as_owner, brand, field, value):
    before = snapshot()
    data = as_owner(SET_CHANNELS, {"b": gid("Brand", brand.pk), "channels": [channel(**{field: value})]})
    (result,) = data.values()
    assert result["errors"] and all(e["field"].startswith("channels[0].") for e in result["errors"])
    assert snapshot() == before


def test_a_channel_label_over_80_characters_is_refused_not_truncated(as_owner, brand):
    before = snapshot()
    errors = refused(
        as_owner(SET_CHANNELS, {"b": gid("Brand", brand.pk), "channels": [channel(label="渠" * 81)]}),
        "channels[0].label",
    )
    assert "80" in errors[0]["message"]
    assert snapshot() == before
    data = as_owner(SET_CHANNELS, {"b": gid("Brand", brand.pk), "channels": [channel(label="渠" * 80)]})
    assert data["setBrandChannels"]["channels"] == [{"label": "渠" * 80}]


def test_a_registration_with_a_bad_channel_label_creates_nothing(as_other):
    before = snapshot()
    data = as_other(REGISTER, {"input": registration(channels=[channel(label="x" * 81)])})
    refused(data, "channels[0].label")
    assert snapshot() == before


# --- API keys, blocks, reviews -----------------------------------------------------------------------
CREATE_KEY = """mutation($b: ID!, $name: String!) { createApiKey(brand: $b, name: $name, scopes: ["read"]) {
  apiKey { name } errors { field code message } } }"""


@pytest.mark.parametrize("value", BAD_NAMES.values(), ids=BAD_NAMES.keys())
def test_api_key_names_refuse_control_invisible_and_bidi_characters(as_owner, brand, value):
    before = snapshot()
    refused(as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": value}), "name", ("invalid", "required"))
    assert snapshot() == before


def test_an_api_key_name_over_80_characters_is_refused_not_truncated(as_owner, brand):
    errors = refused(as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "k" * 81}), "name")
    assert "80" in errors[0]["message"]
    assert not ApiKey.objects.exists()
    assert (
        as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "k" * 80})["createApiKey"]["apiKey"]["name"]
        == "k" * 80
    )


@pytest.mark.parametrize("mutation", ["blockBrand", "unblockBrand"])
@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_block_slugs_with_control_characters_are_refused(as_owner, brand, mutation, value):
    before = snapshot()
    data = as_owner(
        f"mutation($b: ID!, $s: String!) {{ {mutation}(brand: $b, blockedSlug: $s) {{ errors {{ field code message }} }} }}",
        {"b": gid("Brand", brand.pk), "s": value},
    )
    refused(data, "blocked")
    assert snapshot() == before


@pytest.mark.parametrize("mutation", ["rejectBrand", "suspendBrand"])
@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_review_reasons_with_control_characters_are_refused(as_admin, mutation, value):
    status = BrandStatus.PENDING if mutation == "rejectBrand" else BrandStatus.APPROVED
    target = BrandFactory(status=status)
    before = snapshot()
    data = as_admin(
        f"mutation($b: ID!, $r: String!) {{ {mutation}(brand: $b, reason: $r) {{ errors {{ field code message }} }} }}",
        {"b": gid("Brand", target.pk), "r": value},
    )
    refused(data, "reason")
    assert snapshot() == before


def test_a_multi_line_review_reason_is_fine(as_admin):
    target = BrandFactory(status=BrandStatus.PENDING)
    data = as_admin(
        'mutation($b: ID!) { rejectBrand(brand: $b, reason: "1. 营业执照不清晰\\n2. 请补充官网") { errors { code } } }',
        {"b": gid("Brand", target.pk)},
    )
    assert data["rejectBrand"]["errors"] == []
    target.refresh_from_db()
    assert target.status_reason == "1. 营业执照不清晰\n2. 请补充官网"


# --- the exchange ---------------------------------------------------------------------------------------
PROPOSE = """mutation($b: ID!, $c: ID!, $placements: [PlacementInput!]!, $asks: [AskInput!], $message: String) {
  proposeSwap(brand: $b, counterparty: $c, placements: $placements, asks: $asks, message: $message) {
    proposal { id } errors { field code message } } }"""


@pytest.fixture
def as_coffee(coffee_owner):
    from tests.api.conftest import session

    return session(coffee_owner)


@pytest.fixture
def as_toys(toys_owner):
    from tests.api.conftest import session

    return session(toys_owner)


def proposal_args(coffee, toys, coffee_wecom, window, *, notes="", note="", message=""):
    return {
        "b": gid("Brand", coffee.pk),
        "c": gid("Brand", toys.pk),
        "placements": [
            {
                "channel": gid("Channel", coffee_wecom.pk),
                "format": "DIRECT_MESSAGE",
                "quantity": 1000,
                "startsOn": window[0].isoformat(),
                "endsOn": window[1].isoformat(),
                "notes": notes,
            }
        ],
        "asks": [{"format": "DIRECT_MESSAGE", "note": note}],
        "message": message,
    }


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
@pytest.mark.parametrize(
    "where, field", [("message", "message"), ("notes", "placements[0].notes"), ("note", "asks[0].note")]
)
def test_proposal_texts_refuse_control_characters(as_coffee, coffee, toys, coffee_wecom, window, where, field, value):
    before = snapshot()
    data = as_coffee(PROPOSE, proposal_args(coffee, toys, coffee_wecom, window, **{where: value}))
    refused(data, field)
    assert snapshot() == before


def test_an_ask_note_over_200_characters_is_refused_not_truncated(as_coffee, coffee, toys, coffee_wecom, window):
    errors = refused(
        as_coffee(PROPOSE, proposal_args(coffee, toys, coffee_wecom, window, note="n" * 201)), "asks[0].note"
    )
    assert "200" in errors[0]["message"]
    assert not Proposal.objects.exists()
    data = as_coffee(
        PROPOSE, proposal_args(coffee, toys, coffee_wecom, window, note="n" * 200, message="第一行\n第二行")
    )
    assert data["proposeSwap"]["errors"] == []


@pytest.fixture
def open_proposal(coffee, toys, coffee_actor, coffee_wecom, place):
    from exchange import services

    return services.proposal_create(
        actor=coffee_actor, brand=coffee, counterparty=toys, placements=[place(coffee_wecom, 1000)]
    )


@pytest.mark.parametrize("value", BAD_TEXT.values(), ids=BAD_TEXT.keys())
def test_messages_and_decline_notes_refuse_control_characters(as_toys, open_proposal, value):
    before = snapshot()
    data = as_toys(
        "mutation($p: ID!, $body: String!) { sendProposalMessage(proposal: $p, body: $body) { errors { field code message } } }",
        {"p": gid("Proposal", open_proposal.pk), "body": value},
    )
    refused(data, "body")
    data = as_toys(
        "mutation($p: ID!, $note: String) { declineProposal(proposal: $p, revision: 1, reason: OTHER, note: $note) {"
        " errors { field code message } } }",
        {"p": gid("Proposal", open_proposal.pk), "note": value},
    )
    refused(data, "note")
    assert snapshot() == before


def test_an_invisible_only_message_is_not_a_message(as_toys, open_proposal):
    data = as_toys(
        "mutation($p: ID!, $body: String!) { sendProposalMessage(proposal: $p, body: $body) { errors { field code } } }",
        {"p": gid("Proposal", open_proposal.pk), "body": "\u200b \u200b"},
    )
    assert data["sendProposalMessage"]["errors"] == [{"field": "body", "code": "required"}]
    assert not ProposalMessage.objects.exists()


SET_RATE = """mutation($s: String) { setChannelRate(channelType: WECOM, format: DIRECT_MESSAGE, rateCents: 500, source: $s) {
  errors { field code message } } }"""


@pytest.mark.parametrize("value", [*BAD_TEXT.values(), "s" * 201], ids=[*BAD_TEXT.keys(), "too_long"])
def test_a_rate_source_with_control_characters_or_too_long_is_refused(as_admin, value):
    before = snapshot()
    errors = refused(as_admin(SET_RATE, {"s": value}), "source")
    if len(value) > 200:
        assert "200" in errors[0]["message"]
    assert snapshot() == before
