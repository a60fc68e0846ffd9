"""A partner system can find out who it is (`viewer`: the key, its brand, scopes and prefix —
never the secret or the hash), and every coded value the API returns comes with its label in
the request's language (tone tags, channel types, statuses, scopes, roles, audit actions,
proposal states and placement formats)."""

from __future__ import annotations

import json

import pytest

from matching.services import recommendations_refresh_brand
from partners.actors import Actor
from partners.models import ApiKey, ApiKeyScope, Brand
from partners.services import api_key_create, api_key_revoke
from tests.api.conftest import gid, session, with_key
from tests.factories import BrandFactory, category

pytestmark = pytest.mark.django_db

VIEWER = """{ viewer {
  kind isAdmin roleLabel
  user { email }
  brand { slug name }
  apiKey { name prefix scopes scopeLabels createdAt lastUsedAt }
} }"""


def test_an_api_key_learns_who_it_is_without_its_secret(write_key, brand):
    key, raw = write_key
    response = with_key(raw).raw(VIEWER, HTTP_ACCEPT_LANGUAGE="zh-hans")
    viewer = response.json()["data"]["viewer"]
    assert viewer["kind"] == "API_KEY" and viewer["isAdmin"] is False
    assert viewer["user"] is None
    assert viewer["brand"] == {"slug": brand.slug, "name": brand.name}
    assert viewer["apiKey"]["prefix"] == key.prefix and viewer["apiKey"]["name"] == key.name
    assert viewer["apiKey"]["scopes"] == ["read", "write"]
    assert viewer["apiKey"]["scopeLabels"] == ["读取", "写入（资料、提案）"]
    assert viewer["roleLabel"] == "运营"  # a write key acts as a marketer
    text = response.content.decode()
    key.refresh_from_db()
    assert raw.split("_", 2)[2] not in text and key.key_hash not in text


def test_a_read_key_is_told_it_reads_only(read_key, brand):
    viewer = with_key(read_key[1])(VIEWER, HTTP_ACCEPT_LANGUAGE="en")["viewer"]
    assert viewer["apiKey"]["scopes"] == ["read"] and viewer["apiKey"]["scopeLabels"] == ["Read"]
    assert viewer["roleLabel"] == "Viewer"


def test_a_person_and_an_anonymous_caller_get_their_own_viewer(owner, admin_user, anon):
    person = session(owner)(VIEWER)["viewer"]
    assert person["kind"] == "PERSON" and person["user"] == {"email": owner.email}
    assert person["apiKey"] is None and person["brand"] is None and person["roleLabel"] is None
    assert session(admin_user)(VIEWER)["viewer"]["isAdmin"] is True
    nobody = anon(VIEWER)["viewer"]
    assert nobody == {
        "kind": "ANONYMOUS",
        "isAdmin": False,
        "roleLabel": None,
        "user": None,
        "brand": None,
        "apiKey": None,
    }


def test_a_revoked_key_has_no_viewer_but_a_401(write_key, owner):
    key, raw = write_key
    api_key_revoke(actor=Actor(user=owner), api_key=key)
    assert with_key(raw).raw(VIEWER).status_code == 401


def test_viewer_of_a_key_is_its_own_brand_even_if_that_brand_is_not_approved(owner, brand):
    from partners.services import api_key_create

    Brand.objects.filter(pk=brand.pk).update(status="pending")
    _key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=["read"])
    assert with_key(raw)(VIEWER)["viewer"]["brand"]["slug"] == brand.slug
    assert ApiKey.objects.count() == 1


# --- labels -------------------------------------------------------------------------------------
BRAND = """query($id: ID!) { brand(id: $id) {
  toneTags toneTagLabels channelTypes channelTypeLabels status statusLabel
  channels { type typeLabel verification verificationLabel }
  auditEvents { action actionLabel }
} }"""


@pytest.fixture
def toned(brand, owner):
    from partners.services import brand_channels_set, brand_update

    brand_update(actor=Actor(user=owner), brand=brand, data={"tone": ["young", "国潮", "moonlight"]})
    brand_channels_set(
        actor=Actor(user=owner), brand=brand, channels=[{"type": "wecom", "size": 1000, "active_rate": 0.5}]
    )
    return brand


def test_tone_tags_and_other_codes_come_with_labels_in_the_request_language(toned, owner):
    me = session(owner)
    variables = {"id": gid("Brand", toned.pk)}
    zh = me(BRAND, variables, HTTP_ACCEPT_LANGUAGE="zh-hans")["brand"]
    assert zh["toneTags"] == ["young", "national", "moonlight"]
    assert zh["toneTagLabels"] == ["年轻", "国潮", "moonlight"]  # a free tag is its own label
    assert (zh["channelTypes"], zh["channelTypeLabels"]) == (["wecom"], ["企业微信好友"])
    assert zh["statusLabel"] == "已通过"
    assert zh["channels"] == [
        {"type": "wecom", "typeLabel": "企业微信好友", "verification": "self_reported", "verificationLabel": "自报"}
    ]
    assert all(e["actionLabel"] and e["actionLabel"] != e["action"] for e in zh["auditEvents"])
    en = me(BRAND, variables, HTTP_ACCEPT_LANGUAGE="en")["brand"]
    assert en["toneTagLabels"] == ["young", "guochao", "moonlight"]
    assert en["channelTypeLabels"] == ["WeCom contacts"] and en["statusLabel"] == "Approved"


def test_the_private_status_label_is_null_for_others(toned, anon, other_owner):
    query = """query($id: ID!) { brand(id: $id) { toneTagLabels statusLabel } }"""
    for caller in (anon, session(other_owner)):
        found = caller(query, {"id": gid("Brand", toned.pk)})["brand"]
        assert found["statusLabel"] is None and found["toneTagLabels"]


def test_memberships_and_keys_label_their_role_and_scopes(owner, brand, write_key):
    data = session(owner)(
        "{ me { memberships { role roleLabel brand { apiKeys { scopes scopeLabels } } } } }",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    membership = data["me"]["memberships"][0]
    assert (membership["role"], membership["roleLabel"]) == ("owner", "所有者")
    assert membership["brand"]["apiKeys"][0]["scopeLabels"] == ["读取", "写入（资料、提案）"]


def test_recommended_partners_label_their_tone_tags(toned, owner):
    partner = BrandFactory(slug="cake", category=category("food.bakery"), tone_tags=["warm", "family"])
    partner.channels.create(type="wecom", size=10_000, active_rate=0.5)
    Brand.objects.filter(pk=partner.pk).update(active_audience=5000)
    recommendations_refresh_brand(brand_id=toned.pk)
    data = session(owner)(
        "{ recommendations(first: 5) { edges { node { partner { slug toneTagLabels channelTypeLabels } } } } }",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    partners = {e["node"]["partner"]["slug"]: e["node"]["partner"] for e in data["recommendations"]["edges"]}
    assert partners["cake"]["toneTagLabels"] == ["温暖", "家庭"]
    assert partners["cake"]["channelTypeLabels"] == ["企业微信好友"]


def test_exchange_codes_come_with_labels(coffee, toys, coffee_owner, coffee_wecom, toys_owner, window):
    from exchange import services as exchange_services

    proposal = exchange_services.proposal_create(
        actor=Actor(user=coffee_owner),
        brand=coffee,
        counterparty=toys,
        placements=[
            {
                "channel_id": coffee_wecom.pk,
                "format": "direct_message",
                "quantity": 1000,
                "starts_on": window[0],
                "ends_on": window[1],
            }
        ],
    )
    data = session(toys_owner)(
        """query($id: ID!) { proposal(id: $id) { state stateLabel
             currentRevision { placements { channelType channelTypeLabel format formatLabel unit unitLabel } } }
           channelRates { channelType channelTypeLabel format formatLabel unit unitLabel } }""",
        {"id": gid("Proposal", proposal.pk)},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert data["proposal"]["stateLabel"] == "已提议"
    (placement,) = data["proposal"]["currentRevision"]["placements"]
    assert placement["channelTypeLabel"] == "企业微信好友" and placement["formatLabel"] == "1 对 1 私信"
    assert placement["unitLabel"] and placement["unitLabel"] != placement["unit"]
    assert all(r["formatLabel"] and r["channelTypeLabel"] for r in data["channelRates"])
    assert "DIRECT_MESSAGE" not in json.dumps([r["formatLabel"] for r in data["channelRates"]])


def test_a_key_learns_its_rate_limit_and_its_owner_sees_its_usage(owner, brand, settings):
    settings.API_KEY_BURST = 50
    settings.API_KEY_RATE_PER_MINUTE = 300
    key, raw = api_key_create(actor=Actor(user=owner), brand=brand, name="CRM", scopes=[ApiKeyScope.READ])
    caller = with_key(raw)
    caller("{ categories { code } }")
    viewer = caller("{ viewer { rateLimit { perMinute burst raised remaining } } }")["viewer"]
    assert viewer["rateLimit"] == {"perMinute": 300, "burst": 50, "raised": False, "remaining": 48}
    assert session(owner)("{ viewer { rateLimit { perMinute } } }")["viewer"]["rateLimit"] is None
    data = session(owner)(
        "query($s: String) { brand(slug: $s) { apiKeys { name usage(days: 2) { day requests errors } } } }",
        {"s": brand.slug},
    )
    (listed,) = data["brand"]["apiKeys"]
    assert [d["requests"] for d in listed["usage"]] == [2, 0]
