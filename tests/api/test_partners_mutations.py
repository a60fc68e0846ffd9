"""Partners mutations, each as the allowed role, as another brand, and anonymously; API-key
scopes; bad input changes nothing."""

from __future__ import annotations

import pytest

from partners.models import ApiKey, AuditEvent, Brand, BrandBlock, BrandStatus, Channel, Membership
from tests.api.conftest import gid
from tests.factories import BrandFactory, valid_credit_code


def counts() -> dict[str, int]:
    return {m.__name__: m.objects.count() for m in (Brand, Channel, Membership, ApiKey, AuditEvent, BrandBlock)}


def payload_errors(data: dict) -> list[tuple]:
    (result,) = data.values()
    return [(e["field"], e["code"]) for e in result["errors"]]


# --- registerBrand -------------------------------------------------------------------------------
REGISTER = """mutation($input: RegisterBrandInput!) { registerBrand(input: $input) {
  brand { slug status category { code } activeAudience channelTypes creditCode toneTags }
  errors { field code message } } }"""


def registration(**overrides) -> dict:
    data = {
        "slug": "heytea",
        "name": "喜茶",
        "nameEn": "HEYTEA",
        "category": "beverage.tea_drinks",
        "priceTier": 3,
        "tone": ["年轻", "Trendy"],
        "description": "新式茶饮",
        "creditCode": valid_credit_code(777),
        "stores": 3000,
        "audience": {"gender": {"female": 0.7, "male": 0.3}, "regions": ["CN-GD", "CN-SH"]},
        "channels": [
            {"type": "wecom", "size": 500000, "activeRate": 0.4},
            {"type": "miniprogram", "size": 1000000, "activeRate": 0.1},
        ],
    }
    data.update(overrides)
    return data


def test_register_brand_creates_a_pending_brand_i_own(as_other, other_owner):
    data = as_other(REGISTER, {"input": registration()})["registerBrand"]
    assert data["errors"] == []
    assert data["brand"] == {
        "slug": "heytea",
        "status": "pending",
        "category": {"code": "beverage.tea_drinks"},
        "activeAudience": 300000,
        "channelTypes": ["miniprogram", "wecom"],
        "creditCode": valid_credit_code(777),
        "toneTags": ["young", "trendy"],
    }
    assert Membership.objects.get(brand__slug="heytea").user == other_owner


def test_register_brand_anonymous_is_refused(anon, db):
    before = counts()
    data = anon(REGISTER, {"input": registration()})
    assert payload_errors(data) == [(None, "unauthenticated")]
    assert data["registerBrand"]["brand"] is None
    assert counts() == before


def test_register_brand_by_api_key_is_refused(as_write_key):
    before = counts()
    assert payload_errors(as_write_key(REGISTER, {"input": registration()})) == [(None, "permission_denied")]
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"creditCode": "91310000000000000X"}, ("creditCode", "invalid_credit_code")),
        ({"creditCode": ""}, ("creditCode", "required")),
        ({"category": "beverage"}, ("category", "not_a_leaf")),
        ({"category": "space.rockets"}, ("category", "unknown_category")),
        ({"priceTier": 9}, ("priceTier", "out_of_range")),
        ({"slug": "Not A Slug"}, ("slug", "invalid")),
        ({"audience": {"gender": {"female": 0.9, "male": 0.3}}}, ("audience.gender", "invalid_distribution")),
        ({"audience": {"regions": ["US-CA"]}}, ("audience.regions", "invalid_region")),
        ({"channels": [{"type": "fax", "size": 1, "activeRate": 0.1}]}, ("channels[0].type", "unknown_channel_type")),
        ({"channels": [{"type": "wecom", "size": 10, "activeRate": 1.5}]}, ("channels[0].activeRate", "out_of_range")),
        ({"channels": [{"type": "wecom", "size": -1, "activeRate": 0.5}]}, ("channels[0].size", "out_of_range")),
    ],
)
def test_register_brand_bad_input_reports_the_field_and_writes_nothing(as_owner, overrides, expected):
    before = counts()
    data = as_owner(REGISTER, {"input": registration(**overrides)})
    assert expected in payload_errors(data)
    assert data["registerBrand"]["brand"] is None
    assert counts() == before


def test_register_brand_with_a_taken_slug_is_refused(as_owner, other_brand):
    before = counts()
    assert payload_errors(as_owner(REGISTER, {"input": registration(slug="pop-mart")})) == [("slug", "slug_taken")]
    assert counts() == before


def test_error_messages_follow_the_request_language(as_owner):
    data = as_owner(REGISTER, {"input": registration(priceTier=9)}, HTTP_ACCEPT_LANGUAGE="en")
    assert "price tier" in data["registerBrand"]["errors"][0]["message"]


# --- updateBrandProfile ----------------------------------------------------------------------------
UPDATE = """mutation($b: ID!, $input: UpdateBrandProfileInput!) { updateBrandProfile(brand: $b, input: $input) {
  brand { slug description priceTier } errors { field code message } } }"""


def test_update_profile_by_owner(as_owner, brand):
    data = as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "新描述", "priceTier": 2}})
    assert data["updateBrandProfile"] == {
        "brand": {"slug": "luckin-coffee", "description": "新描述", "priceTier": 2},
        "errors": [],
    }
    brand.refresh_from_db()
    assert (brand.description, brand.price_tier, brand.name) == ("新描述", 2, "瑞幸咖啡")  # partial


def test_update_profile_of_another_brand_is_refused(as_other, brand):
    before = counts()
    data = as_other(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "hacked"}})
    assert payload_errors(data) == [(None, "permission_denied")]
    brand.refresh_from_db()
    assert brand.description != "hacked" and counts() == before


def test_update_profile_anonymous_is_refused(anon, brand):
    data = anon(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "x"}})
    assert payload_errors(data) == [(None, "unauthenticated")]


def test_update_profile_of_a_hidden_brand_says_not_found(as_other, brand):
    Brand.objects.filter(pk=brand.pk).update(status=BrandStatus.PENDING)
    data = as_other(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "x"}})
    assert payload_errors(data) == [("brand", "not_found")]


def test_update_profile_bad_input_changes_nothing(as_owner, brand):
    before = counts()
    data = as_owner(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "ok", "priceTier": 0}})
    assert payload_errors(data) == [("priceTier", "out_of_range")]
    brand.refresh_from_db()
    assert brand.description == "" and counts() == before


# --- setBrandChannels ---------------------------------------------------------------------------------
CHANNELS = """mutation($b: ID!, $c: [ChannelInput!]!) { setBrandChannels(brand: $b, channels: $c) {
  brand { activeAudience } channels { type size } errors { field code } } }"""
TWO = [{"type": "wecom", "size": 1000, "activeRate": 0.5}, {"type": "app", "size": 100, "activeRate": 1}]


def test_set_channels_by_owner_recomputes_scale(as_owner, brand):
    data = as_owner(CHANNELS, {"b": gid("Brand", brand.pk), "c": TWO})["setBrandChannels"]
    assert data["errors"] == [] and data["brand"]["activeAudience"] == 600
    assert sorted(brand.channels.values_list("type", flat=True)) == ["app", "wecom"]


def test_set_channels_of_another_brand_is_refused(as_other, brand):
    assert payload_errors(as_other(CHANNELS, {"b": gid("Brand", brand.pk), "c": TWO})) == [(None, "permission_denied")]
    assert brand.channels.count() == 0


def test_set_channels_anonymous_is_refused(anon, brand):
    assert payload_errors(anon(CHANNELS, {"b": gid("Brand", brand.pk), "c": TWO})) == [(None, "unauthenticated")]


def test_set_channels_bad_input_keeps_the_old_channels(as_owner, brand):
    as_owner(CHANNELS, {"b": gid("Brand", brand.pk), "c": TWO})
    before = counts()
    bad = [{"type": "wecom", "size": 5, "activeRate": 0.5}, {"type": "wecom", "size": 5, "activeRate": 0.5}]
    data = as_owner(CHANNELS, {"b": gid("Brand", brand.pk), "c": bad})
    assert payload_errors(data) == [("channels[1].type", "duplicate")]
    assert counts() == before
    brand.refresh_from_db()
    assert brand.active_audience == 600


def test_set_channels_by_a_write_key_cannot_self_declare_verification(as_write_key, brand):
    audited = [{"type": "wecom", "size": 10**9, "activeRate": 1, "verification": "audited"}]
    data = as_write_key(CHANNELS, {"b": gid("Brand", brand.pk), "c": audited})
    assert payload_errors(data) == [("channels[0].verification", "permission_denied")]
    assert brand.channels.count() == 0


def test_set_channels_keeps_the_verification_of_an_unchanged_channel(as_owner, brand):
    Channel.objects.create(brand=brand, type="wecom", size=1000, active_rate=0.5, verification="audited")
    data = as_owner(CHANNELS, {"b": gid("Brand", brand.pk), "c": TWO})["setBrandChannels"]
    assert data["errors"] == []
    assert dict(brand.channels.values_list("type", "verification")) == {"wecom": "audited", "app": "self_reported"}


# --- API keys -----------------------------------------------------------------------------------------
CREATE_KEY = """mutation($b: ID!, $name: String!, $scopes: [String!]!) {
  createApiKey(brand: $b, name: $name, scopes: $scopes) { key apiKey { id name prefix scopes isActive } errors { field code } } }"""
REVOKE_KEY = "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { isActive revokedAt } errors { field code } } }"


def test_create_api_key_by_owner_shows_the_secret_once(as_owner, brand):
    data = as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "CRM", "scopes": ["read"]})["createApiKey"]
    assert data["errors"] == []
    key = ApiKey.objects.get(brand=brand)
    assert data["key"].startswith(f"hl_{key.prefix}_")
    assert data["apiKey"]["scopes"] == ["read"] and data["apiKey"]["isActive"] is True
    listed = as_owner('{ brand(slug: "luckin-coffee") { apiKeys { name prefix } } }')["brand"]["apiKeys"]
    assert listed == [{"name": "CRM", "prefix": key.prefix}]
    assert data["key"].split("_", 2)[2] not in str(listed)


def test_create_api_key_by_a_marketer_is_refused(brand, owner):
    from partners.models import Role
    from tests.api.conftest import session
    from tests.factories import MembershipFactory, UserFactory

    marketer = MembershipFactory(brand=brand, role=Role.MARKETER, user=UserFactory(username="m@example.com")).user
    data = session(marketer)(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "x", "scopes": ["read"]})
    assert payload_errors(data) == [(None, "permission_denied")] and ApiKey.objects.count() == 0


def test_create_api_key_for_another_brand_is_refused(as_other, brand):
    data = as_other(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "x", "scopes": ["read"]})
    assert payload_errors(data) == [(None, "permission_denied")] and ApiKey.objects.count() == 0


def test_create_api_key_anonymous_is_refused(anon, brand):
    data = anon(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "x", "scopes": ["read"]})
    assert payload_errors(data) == [(None, "unauthenticated")] and ApiKey.objects.count() == 0


def test_create_api_key_with_an_unknown_scope_is_refused(as_owner, brand):
    data = as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "x", "scopes": ["admin"]})
    assert payload_errors(data) == [("scopes", "invalid_scope")] and ApiKey.objects.count() == 0


def test_a_key_cannot_create_keys(as_write_key, brand):
    data = as_write_key(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "x", "scopes": ["write"]})
    assert payload_errors(data) == [(None, "permission_denied")] and ApiKey.objects.count() == 1


def test_revoke_api_key_by_owner(as_owner, read_key):
    data = as_owner(REVOKE_KEY, {"id": gid("ApiKey", read_key[0].pk)})["revokeApiKey"]
    assert data["errors"] == [] and data["apiKey"]["isActive"] is False
    again = as_owner(REVOKE_KEY, {"id": gid("ApiKey", read_key[0].pk)})
    assert payload_errors(again) == [("id", "already_revoked")]


def test_revoke_api_key_of_another_brand_is_not_found(as_other, read_key):
    data = as_other(REVOKE_KEY, {"id": gid("ApiKey", read_key[0].pk)})
    assert payload_errors(data) == [("id", "not_found")]
    read_key[0].refresh_from_db()
    assert read_key[0].revoked_at is None


def test_revoke_api_key_anonymous_is_refused(anon, read_key):
    assert payload_errors(anon(REVOKE_KEY, {"id": gid("ApiKey", read_key[0].pk)})) == [(None, "unauthenticated")]


# --- approval workflow --------------------------------------------------------------------------------
def transition(name: str, with_reason: bool = True) -> str:
    reason = ", reason: $reason" if with_reason else ""
    decl = ", $reason: String!" if with_reason else ""
    return f"mutation($b: ID!{decl}) {{ {name}(brand: $b{reason}) {{ brand {{ status statusReason }} errors {{ field code }} }} }}"


@pytest.fixture
def pending(other_owner):
    brand = BrandFactory(slug="new-tea", status=BrandStatus.PENDING)
    from tests.factories import MembershipFactory

    MembershipFactory(brand=brand, user=other_owner)
    return brand


@pytest.mark.parametrize(
    ("mutation", "start", "end", "reason"),
    [
        ("approveBrand", BrandStatus.PENDING, BrandStatus.APPROVED, None),
        ("rejectBrand", BrandStatus.PENDING, BrandStatus.REJECTED, "证照不清晰"),
        ("suspendBrand", BrandStatus.APPROVED, BrandStatus.SUSPENDED, "投诉"),
        ("reinstateBrand", BrandStatus.SUSPENDED, BrandStatus.APPROVED, None),
    ],
)
def test_admin_transitions(as_admin, as_other, anon, pending, mutation, start, end, reason):
    Brand.objects.filter(pk=pending.pk).update(status=start)
    query = transition(mutation, with_reason=reason is not None)
    variables = {"b": gid("Brand", pending.pk), **({"reason": reason} if reason else {})}
    before = counts()
    # the brand's own owner and anonymous callers are refused, changing nothing
    assert payload_errors(as_other(query, variables)) == [(None, "permission_denied")]
    assert payload_errors(anon(query, variables)) == [(None, "unauthenticated")]
    assert counts() == before and Brand.objects.get(pk=pending.pk).status == start
    data = as_admin(query, variables)[mutation]
    assert data["errors"] == [] and data["brand"]["status"] == end
    assert AuditEvent.objects.filter(brand=pending, action__startswith="brand.").count() == 1


@pytest.mark.parametrize("mutation", ["rejectBrand", "suspendBrand"])
def test_reason_is_required_and_blank_is_refused(as_admin, pending, mutation):
    Brand.objects.filter(pk=pending.pk).update(status=BrandStatus.APPROVED if mutation == "suspendBrand" else "pending")
    data = as_admin(transition(mutation), {"b": gid("Brand", pending.pk), "reason": "  "})
    assert payload_errors(data) == [("reason", "reason_required")]
    assert not AuditEvent.objects.filter(brand=pending).exists()


def test_invalid_transition_is_refused(as_admin, brand):
    data = as_admin(transition("approveBrand", with_reason=False), {"b": gid("Brand", brand.pk)})
    assert payload_errors(data) == [("status", "invalid_transition")]


def test_resubmit_by_member_of_a_rejected_brand(as_other, as_owner, anon, pending):
    Brand.objects.filter(pk=pending.pk).update(status=BrandStatus.REJECTED)
    query = transition("resubmitBrand", with_reason=False)
    variables = {"b": gid("Brand", pending.pk)}
    # another brand cannot even see a rejected brand
    assert payload_errors(as_owner(query, variables)) == [("brand", "not_found")]
    assert payload_errors(anon(query, variables)) == [(None, "unauthenticated")]
    assert as_other(query, variables)["resubmitBrand"]["brand"]["status"] == "pending"


# --- blocklist ------------------------------------------------------------------------------------------
BLOCK = "mutation($b: ID!, $s: String!) { %s(brand: $b, blockedSlug: $s) { brand { slug } errors { field code } } }"


def test_block_and_unblock_by_owner(as_owner, brand, other_brand):
    assert as_owner(BLOCK % "blockBrand", {"b": gid("Brand", brand.pk), "s": "pop-mart"})["blockBrand"]["errors"] == []
    assert BrandBlock.objects.filter(brand=brand, blocked=other_brand).exists()
    assert (
        as_owner(BLOCK % "unblockBrand", {"b": gid("Brand", brand.pk), "s": "pop-mart"})["unblockBrand"]["errors"] == []
    )
    assert not BrandBlock.objects.exists()


def test_block_for_another_brand_is_refused(as_other, anon, brand, other_brand):
    variables = {"b": gid("Brand", brand.pk), "s": "pop-mart"}
    assert payload_errors(as_other(BLOCK % "blockBrand", variables)) == [(None, "permission_denied")]
    assert payload_errors(anon(BLOCK % "blockBrand", variables)) == [(None, "unauthenticated")]
    assert not BrandBlock.objects.exists()


def test_unblock_for_another_brand_is_refused(as_owner, as_other, brand, other_brand):
    as_owner(BLOCK % "blockBrand", {"b": gid("Brand", brand.pk), "s": "pop-mart"})
    assert payload_errors(as_other(BLOCK % "unblockBrand", {"b": gid("Brand", brand.pk), "s": "pop-mart"})) == [
        (None, "permission_denied")
    ]
    assert BrandBlock.objects.count() == 1


def test_block_self_and_unknown_are_refused(as_owner, brand):
    assert payload_errors(as_owner(BLOCK % "blockBrand", {"b": gid("Brand", brand.pk), "s": "luckin-coffee"})) == [
        ("blocked", "self_block")
    ]
    assert payload_errors(as_owner(BLOCK % "blockBrand", {"b": gid("Brand", brand.pk), "s": "nobody"})) == [
        ("blocked", "unknown_brand")
    ]


# --- API key scopes -------------------------------------------------------------------------------
EVERY_MUTATION = {
    "registerBrand": (REGISTER, lambda b: {"input": registration()}),
    "updateBrandProfile": (UPDATE, lambda b: {"b": gid("Brand", b.pk), "input": {"description": "k"}}),
    "setBrandChannels": (CHANNELS, lambda b: {"b": gid("Brand", b.pk), "c": TWO}),
    "createApiKey": (CREATE_KEY, lambda b: {"b": gid("Brand", b.pk), "name": "x", "scopes": ["read"]}),
    "revokeApiKey": (REVOKE_KEY, lambda b: {"id": gid("ApiKey", b.api_keys.first().pk)}),
    "approveBrand": (transition("approveBrand", False), lambda b: {"b": gid("Brand", b.pk)}),
    "rejectBrand": (transition("rejectBrand"), lambda b: {"b": gid("Brand", b.pk), "reason": "r"}),
    "suspendBrand": (transition("suspendBrand"), lambda b: {"b": gid("Brand", b.pk), "reason": "r"}),
    "reinstateBrand": (transition("reinstateBrand", False), lambda b: {"b": gid("Brand", b.pk)}),
    "resubmitBrand": (transition("resubmitBrand", False), lambda b: {"b": gid("Brand", b.pk)}),
    "blockBrand": (BLOCK % "blockBrand", lambda b: {"b": gid("Brand", b.pk), "s": "pop-mart"}),
    "unblockBrand": (BLOCK % "unblockBrand", lambda b: {"b": gid("Brand", b.pk), "s": "pop-mart"}),
    # matching (their own role tests: tests/api/test_matching_mutations.py, test_matching_admin.py)
    "dismissRecommendation": (
        "mutation($b: ID!, $p: ID!) { dismissRecommendation(brand: $b, partner: $p) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk), "p": gid("Brand", Brand.objects.get(slug="pop-mart").pk)},
    ),
    "undismissRecommendation": (
        "mutation($b: ID!, $p: ID!) { undismissRecommendation(brand: $b, partner: $p) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk), "p": gid("Brand", Brand.objects.get(slug="pop-mart").pk)},
    ),
    "retrainMatcher": ("mutation { retrainMatcher(force: true) { errors { field code } } }", lambda b: {}),
    # exchange (their own role tests: tests/api/test_exchange_api.py)
    "proposeSwap": (
        "mutation($b: ID!, $c: ID!) { proposeSwap(brand: $b, counterparty: $c, placements: []) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk), "c": gid("Brand", Brand.objects.get(slug="pop-mart").pk)},
    ),
    "counterProposal": (
        "mutation($p: ID!) { counterProposal(proposal: $p, revision: 1, placements: []) { errors { field code } } }",
        lambda b: {"p": gid("Proposal", 1)},
    ),
    "acceptProposal": (
        "mutation($p: ID!) { acceptProposal(proposal: $p, revision: 1) { errors { field code } } }",
        lambda b: {"p": gid("Proposal", 1)},
    ),
    "declineProposal": (
        "mutation($p: ID!) { declineProposal(proposal: $p, revision: 1, reason: TIMING) { errors { field code } } }",
        lambda b: {"p": gid("Proposal", 1)},
    ),
    "withdrawProposal": (
        "mutation($p: ID!) { withdrawProposal(proposal: $p) { errors { field code } } }",
        lambda b: {"p": gid("Proposal", 1)},
    ),
    "sendProposalMessage": (
        'mutation($p: ID!) { sendProposalMessage(proposal: $p, body: "hi") { errors { field code } } }',
        lambda b: {"p": gid("Proposal", 1)},
    ),
    "markNotificationsRead": ("mutation { markNotificationsRead { errors { field code } } }", lambda b: {}),
    "setChannelRate": (
        "mutation { setChannelRate(channelType: SMS, format: SMS, rateCents: 1) { errors { field code } } }",
        lambda b: {},
    ),
    # delivery reports (their own role tests: tests/api/test_delivery_api.py)
    "reportDelivery": (
        'mutation($p: ID!) { reportDelivery(placement: $p, reach: 1, deliveredAt: "2030-01-01T00:00:00+08:00",'
        ' proofUrl: "https://x.cn/p") { errors { field code } } }',
        lambda b: {"p": gid("CampaignPlacement", 1)},
    ),
    "confirmDelivery": (
        "mutation($r: ID!) { confirmDelivery(report: $r) { errors { field code } } }",
        lambda b: {"r": gid("DeliveryReport", 1)},
    ),
    "disputeDelivery": (
        "mutation($r: ID!) { disputeDelivery(report: $r, reason: LATE) { errors { field code } } }",
        lambda b: {"r": gid("DeliveryReport", 1)},
    ),
    # disputes (their own role tests: tests/api/test_disputes_api.py)
    "openDispute": (
        'mutation($c: ID!) { openDispute(campaign: $c, reason: OTHER, statement: "x") { errors { field code } } }',
        lambda b: {"c": gid("Campaign", 1)},
    ),
    "answerDispute": (
        'mutation($d: ID!) { answerDispute(dispute: $d, answer: "x") { errors { field code } } }',
        lambda b: {"d": gid("Dispute", 1)},
    ),
    "addDisputeEvidence": (
        'mutation($d: ID!) { addDisputeEvidence(dispute: $d, evidence: [{url: "https://e.example/"}])'
        " { errors { field code } } }",
        lambda b: {"d": gid("Dispute", 1)},
    ),
    "withdrawDispute": (
        "mutation($d: ID!) { withdrawDispute(dispute: $d) { errors { field code } } }",
        lambda b: {"d": gid("Dispute", 1)},
    ),
    "resolveDispute": (
        'mutation($d: ID!) { resolveDispute(dispute: $d, outcome: REJECTED, decision: "x") { errors { field code } } }',
        lambda b: {"d": gid("Dispute", 1)},
    ),
    # settlements (their own role tests: tests/api/test_ledger_api.py)
    "chooseSettlement": (
        "mutation($s: ID!) { chooseSettlement(settlement: $s, choice: CREDIT) { errors { field code } } }",
        lambda b: {"s": gid("Settlement", 1)},
    ),
    "paySettlement": (
        "mutation($s: ID!) { paySettlement(settlement: $s) { errors { field code } } }",
        lambda b: {"s": gid("Settlement", 1)},
    ),
    # coupons and reported events (their own role tests: tests/api/test_reported_api.py)
    "reportConversions": (
        "mutation($b: ID!) { reportConversions(brand: $b, rows: []) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk)},
    ),
    "reportNewMembers": (
        "mutation($b: ID!) { reportNewMembers(brand: $b, rows: []) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk)},
    ),
    "reverseReportedEvent": (
        "mutation($e: ID!) { reverseReportedEvent(event: $e, reason: REFUND) { errors { field code } } }",
        lambda b: {"e": gid("ReportedEvent", 1)},
    ),
    "generateCoupons": (
        "mutation($p: ID!) { generateCoupons(placement: $p, size: 10) { errors { field code } } }",
        lambda b: {"p": gid("CampaignPlacement", 1)},
    ),
    # webhooks (their own role tests: tests/api/test_webhooks_api.py)
    "createWebhookEndpoint": (
        'mutation($b: ID!) { createWebhookEndpoint(brand: $b, url: "https://crm.example/h", '
        "eventTypes: [PROPOSAL_CREATED]) { errors { field code } } }",
        lambda b: {"b": gid("Brand", b.pk)},
    ),
    "updateWebhookEndpoint": (
        "mutation($e: ID!) { updateWebhookEndpoint(endpoint: $e, enabled: false) { errors { field code } } }",
        lambda b: {"e": gid("WebhookEndpoint", 1)},
    ),
    "rotateWebhookSecret": (
        "mutation($e: ID!) { rotateWebhookSecret(endpoint: $e) { errors { field code } } }",
        lambda b: {"e": gid("WebhookEndpoint", 1)},
    ),
    "deleteWebhookEndpoint": (
        "mutation($e: ID!) { deleteWebhookEndpoint(endpoint: $e) { errors { field code } } }",
        lambda b: {"e": gid("WebhookEndpoint", 1)},
    ),
    "replayWebhookDelivery": (
        "mutation($d: ID!) { replayWebhookDelivery(delivery: $d) { errors { field code } } }",
        lambda b: {"d": gid("WebhookDelivery", 1)},
    ),
    "replayFailedWebhookDeliveries": (
        "mutation($e: ID!) { replayFailedWebhookDeliveries(endpoint: $e) { errors { field code } } }",
        lambda b: {"e": gid("WebhookEndpoint", 1)},
    ),
}


def test_every_mutation_is_listed_here():
    from api.schema import schema

    assert set(schema.graphql_schema.mutation_type.fields) == set(EVERY_MUTATION)


@pytest.mark.parametrize("name", sorted(EVERY_MUTATION))
def test_read_only_key_is_refused_on_every_mutation(as_read_key, brand, other_brand, name):
    query, variables = EVERY_MUTATION[name]
    before = counts()
    assert payload_errors(as_read_key(query, variables(brand))) == [(None, "read_only_key")]
    assert counts() == before


def test_write_key_updates_its_own_brand(as_write_key, brand):
    data = as_write_key(UPDATE, {"b": gid("Brand", brand.pk), "input": {"description": "来自CRM"}})
    assert data["updateBrandProfile"]["errors"] == []
    event = AuditEvent.objects.filter(brand=brand, action="brand.updated").get()
    assert event.actor is None and event.actor_api_key is not None


def test_write_key_cannot_update_another_brand(as_write_key, other_brand):
    data = as_write_key(UPDATE, {"b": gid("Brand", other_brand.pk), "input": {"description": "x"}})
    assert payload_errors(data) == [(None, "permission_denied")]
    other_brand.refresh_from_db()
    assert other_brand.description == ""


def test_write_key_cannot_approve(as_write_key, brand):
    Brand.objects.filter(pk=brand.pk).update(status=BrandStatus.PENDING)
    data = as_write_key(transition("approveBrand", False), {"b": gid("Brand", brand.pk)})
    assert payload_errors(data) == [(None, "permission_denied")]


def test_a_refused_mutation_does_not_undo_an_earlier_one_in_the_same_request(as_owner, brand):
    data = as_owner(
        """mutation($b: ID!) {
          ok: updateBrandProfile(brand: $b, input: {description: "kept"}) { errors { code } }
          bad: updateBrandProfile(brand: $b, input: {priceTier: 42}) { errors { field code } }
        }""",
        {"b": gid("Brand", brand.pk)},
    )
    assert data == {"ok": {"errors": []}, "bad": {"errors": [{"field": "priceTier", "code": "out_of_range"}]}}
    brand.refresh_from_db()
    assert (brand.description, brand.price_tier) == ("kept", 3)


def test_revoke_api_key_by_platform_admin(as_admin, read_key):
    data = as_admin(REVOKE_KEY, {"id": gid("ApiKey", read_key[0].pk)})["revokeApiKey"]
    assert data["errors"] == [] and data["apiKey"]["isActive"] is False


def test_block_of_a_hidden_brand_is_unknown_brand(as_owner, brand):
    BrandFactory(slug="still-pending", status=BrandStatus.PENDING)
    data = as_owner(BLOCK % "blockBrand", {"b": gid("Brand", brand.pk), "s": "still-pending"})
    assert payload_errors(data) == [("blocked", "unknown_brand")]
    assert not BrandBlock.objects.exists()


def test_create_api_key_with_write_lists_read_too(as_owner, brand):
    data = as_owner(CREATE_KEY, {"b": gid("Brand", brand.pk), "name": "CRM", "scopes": ["write"]})["createApiKey"]
    assert data["errors"] == [] and data["apiKey"]["scopes"] == ["read", "write"]
