"""recommendations(...) as the brand's members and keys, another brand, admins and anonymously;
reasons by request language; filters; hard constraints re-applied at read time; query count."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching import services as matching_services
from matching.market import reset_cache
from matching.models import Dismissal, Recommendation
from partners.actors import Actor
from partners.models import BrandBlock, BrandStatus, Role
from partners.services import competition_rule_create
from tests.api.conftest import gid, session, with_key
from tests.factories import (
    BrandFactory,
    ChannelFactory,
    MembershipFactory,
    UserFactory,
    category,
    make_partners,
    recommend,
)

RECS = """query($b: ID, $first: Int, $after: String, $min: Float, $cat: String) {
  recommendations(brand: $b, first: $first, after: $after, minScore: $min, category: $cat) {
    edges { cursor node {
      id rank score modelVersion createdAt reasons
      components { scale positioning audience category learned }
      partner { id slug name nameZh nameEn priceTier toneTags activeAudience channelTypes category { code name } }
    } }
    pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.fixture
def partners(brand):
    return make_partners(5)


@pytest.fixture
def recs(brand, partners):
    return recommend(brand, partners)


def _slugs(data) -> list[str]:
    return [e["node"]["partner"]["slug"] for e in data["recommendations"]["edges"]]


def _has_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _code(errors) -> str:
    return errors[0]["extensions"]["code"]


# --- who sees what ---------------------------------------------------------------------------------
def test_owner_sees_own_recommendations_best_first_with_every_field(as_owner, brand, recs):
    data = as_owner(RECS, {"b": gid("Brand", brand.pk), "first": 10})
    edges = data["recommendations"]["edges"]
    assert [e["node"]["rank"] for e in edges] == [1, 2, 3, 4, 5]
    first = edges[0]["node"]
    assert first["id"] == gid("Recommendation", recs[0].pk)
    assert first["score"] == pytest.approx(0.94)
    assert first["modelVersion"] == 0
    assert first["createdAt"]
    assert first["components"] == {
        "scale": 0.9,
        "positioning": 0.8,
        "audience": 0.7,
        "category": 0.6,
        "learned": None,
    }
    partner = first["partner"]
    assert partner["id"] == gid("Brand", recs[0].partner_id)
    assert partner["slug"] == "partner-0" and partner["category"]["code"] == "food.bakery"
    assert partner["channelTypes"] == ["wecom"]
    assert partner["activeAudience"] == 1000


def test_brand_defaults_to_the_callers_only_brand(as_owner, recs):
    assert _slugs(as_owner(RECS, {"first": 10})) == [f"partner-{i}" for i in range(5)]


def test_member_of_two_brands_must_name_the_brand(owner, brand, recs):
    MembershipFactory(user=owner, brand=BrandFactory(slug="second"), role=Role.VIEWER)
    errors = session(owner).errors(RECS, {"first": 10})
    assert _code(errors) == "brand_required"
    assert "2 个品牌" in errors[0]["message"]  # Chinese by default
    english = session(owner).raw(RECS, {"first": 10}, HTTP_ACCEPT_LANGUAGE="en").json()["errors"]
    assert "You belong to 2 brands" in english[0]["message"]
    assert len(_slugs(session(owner)(RECS, {"b": gid("Brand", brand.pk), "first": 10}))) == 5


def test_any_member_role_may_read_recommendations(brand, recs):
    viewer = MembershipFactory(brand=brand, role=Role.VIEWER, user=UserFactory()).user
    assert len(_slugs(session(viewer)(RECS, {"first": 10}))) == 5


def test_read_key_sees_its_brands_recommendations(as_read_key, recs):
    assert len(_slugs(as_read_key(RECS, {"first": 10}))) == 5


def test_write_key_sees_its_brands_recommendations(as_write_key, recs):
    assert len(_slugs(as_write_key(RECS, {"first": 10}))) == 5


def test_another_brands_owner_sees_nothing_of_mine(as_other, brand, other_brand, recs):
    assert as_other(RECS, {"b": gid("Brand", brand.pk), "first": 10})["recommendations"]["edges"] == []
    # … and their own default is their own brand, not mine.
    recommend(other_brand, make_partners(1, prefix="theirs"))
    assert _slugs(as_other(RECS, {"first": 10})) == ["theirs-0"]


def test_another_brands_key_sees_nothing_of_mine(other_brand, other_owner, brand, recs):
    from partners.services import api_key_create

    _key, raw = api_key_create(actor=Actor(user=other_owner), brand=other_brand, name="k", scopes=["read", "write"])
    assert with_key(raw)(RECS, {"b": gid("Brand", brand.pk), "first": 10})["recommendations"]["edges"] == []


def test_anonymous_sees_nothing_and_is_asked_to_sign_in(anon, brand, recs):
    assert anon(RECS, {"b": gid("Brand", brand.pk), "first": 10})["recommendations"]["edges"] == []
    assert _code(anon.errors(RECS, {"first": 10})) == "unauthenticated"


def test_admin_may_ask_for_any_brand_but_must_name_it(as_admin, brand, recs):
    assert len(_slugs(as_admin(RECS, {"b": gid("Brand", brand.pk), "first": 10}))) == 5
    assert _code(as_admin.errors(RECS, {"first": 10})) == "brand_required"


def test_unknown_brand_is_an_empty_list_and_a_wrong_id_type_an_error(as_owner, brand, recs):
    assert as_owner(RECS, {"b": gid("Brand", 999_999), "first": 10})["recommendations"]["edges"] == []
    errors = as_owner.errors(RECS, {"b": gid("Channel", brand.pk), "first": 10})
    assert _code(errors) == "invalid_id" and "Brand" in errors[0]["message"]


def test_partner_is_a_public_profile_without_private_fields(as_owner, as_admin, brand, recs):
    from api.schema import schema

    fields = set(schema.graphql_schema.get_type("PartnerProfile").fields)
    assert fields.isdisjoint(
        {"status", "statusReason", "legalName", "creditCode", "channels", "apiKeys", "auditEvents"}
    )
    # Even for an admin the partner's private values never come back through a recommendation.
    text = json.dumps(as_admin(RECS, {"b": gid("Brand", brand.pk), "first": 10}), ensure_ascii=False)
    assert "SECRET-" not in text and recs[0].partner.credit_code not in text


# --- language -----------------------------------------------------------------------------------------------
def test_reasons_follow_accept_language(as_owner, recs):
    zh = as_owner(RECS, {"first": 1})["recommendations"]["edges"][0]["node"]
    en = as_owner(RECS, {"first": 1}, HTTP_ACCEPT_LANGUAGE="en")["recommendations"]["edges"][0]["node"]
    assert zh["reasons"] == ["规模相当：伙伴partner0", "品类不冲突，无直接竞争"]
    assert en["reasons"] == ["Comparable scale: Partner partner 0", "No direct competition"]
    assert zh["partner"]["name"] == "伙伴partner0" and en["partner"]["name"] == "Partner partner 0"
    assert en["partner"]["category"]["name"] == "Bakery"


def test_reasons_default_to_chinese_and_follow_the_language_cookie(as_owner, recs):
    zh = as_owner(RECS, {"first": 1}, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")["recommendations"]["edges"][0]
    assert zh["node"]["reasons"][0].startswith("规模相当")
    as_owner.client.cookies["django_language"] = "en"
    assert as_owner(RECS, {"first": 1})["recommendations"]["edges"][0]["node"]["reasons"][0].startswith("Comparable")


def test_reasons_of_a_real_refresh_in_both_languages(as_owner, brand, db):
    # Through the engine rather than hand-written rows: the refresh's reasons reach the API.
    for i, code in enumerate(["food.bakery", "beauty.skincare", "apparel.sportswear"]):
        p = BrandFactory(slug=f"real-{i}", category=category(code), active_audience=40_000 + 5_000 * i)
        ChannelFactory(brand=p, size=100_000 + 10_000 * i, active_rate=0.4)
    brand.active_audience = 45_000
    brand.save()
    reset_cache()
    assert matching_services.recommendations_refresh_brand(brand_id=brand.pk) == 3
    zh = as_owner(RECS, {"first": 10})["recommendations"]["edges"]
    en = as_owner(RECS, {"first": 10}, HTTP_ACCEPT_LANGUAGE="en")["recommendations"]["edges"]
    assert len(zh) == 3 and [e["node"]["partner"]["slug"] for e in zh] == [e["node"]["partner"]["slug"] for e in en]
    for z, e in zip(zh, en, strict=True):
        assert 2 <= len(z["node"]["reasons"]) <= 4 and len(z["node"]["reasons"]) == len(e["node"]["reasons"])
        assert _has_cjk("".join(z["node"]["reasons"]))
        assert not _has_cjk("".join(e["node"]["reasons"])), e["node"]["reasons"]
        assert 0 <= z["node"]["score"] <= 1 and z["node"]["modelVersion"] == 0
    reset_cache()


# --- filters and paging ------------------------------------------------------------------------------------
def test_min_score_keeps_only_higher_scores(as_owner, recs):
    assert _slugs(as_owner(RECS, {"first": 10, "min": 0.925})) == ["partner-0", "partner-1"]


def test_min_score_outside_0_to_1_is_refused(as_owner, recs):
    errors = as_owner.errors(RECS, {"first": 10, "min": 1.5})
    assert _code(errors) == "invalid" and errors[0]["extensions"]["field"] == "minScore"


def test_category_filter_by_leaf_or_group(as_owner, recs):
    assert _slugs(as_owner(RECS, {"first": 10, "cat": "food.bakery"})) == ["partner-0"]
    assert _slugs(as_owner(RECS, {"first": 10, "cat": "beauty"})) == ["partner-1"]


def test_unknown_category_is_refused(as_owner, recs):
    assert _code(as_owner.errors(RECS, {"first": 10, "cat": "food.nope"})) == "unknown_category"


def test_scale_and_region_filters(as_owner, partners, recs):
    partners[3].audience = {**partners[3].audience, "regions": ["CN-GD"]}
    partners[3].save()
    query = "query($min: BigInt, $max: BigInt, $r: String) { recommendations(first: 10, scaleMin: $min, scaleMax: $max, region: $r) { edges { node { partner { slug } } } } }"
    assert _slugs(as_owner(query, {"min": 2000, "max": 3000})) == ["partner-1", "partner-2"]
    assert _slugs(as_owner(query, {"r": "cn-gd"})) == ["partner-3"]
    assert _code(as_owner.errors(query, {"r": "XX"})) == "invalid_region"
    assert _code(as_owner.errors(query, {"min": 5, "max": 1})) == "invalid"


def test_pages_with_first_and_after(as_owner, recs):
    page = as_owner(RECS, {"first": 2})["recommendations"]
    assert _slugs({"recommendations": page}) == ["partner-0", "partner-1"]
    assert page["pageInfo"]["hasNextPage"] is True
    rest = as_owner(RECS, {"first": 10, "after": page["pageInfo"]["endCursor"]})
    assert _slugs(rest) == ["partner-2", "partner-3", "partner-4"]


def test_first_is_required_and_capped(as_owner, recs):
    assert _code(as_owner.errors("{ recommendations { edges { node { rank } } } }")) == "pagination_required"
    assert _code(as_owner.errors(RECS, {"first": 101})) == "pagination_limit"


# --- hard constraints at read time ---------------------------------------------------------------------
def test_dismissed_partner_never_appears(as_owner, brand, partners, recs):
    Dismissal.objects.create(brand=brand, partner=partners[1])
    assert "partner-1" not in _slugs(as_owner(RECS, {"first": 10}))


def test_suspended_or_unapproved_partner_disappears_at_once(as_owner, partners, recs):
    partners[0].status = BrandStatus.SUSPENDED
    partners[0].save()
    partners[2].status = BrandStatus.PENDING
    partners[2].save()
    assert _slugs(as_owner(RECS, {"first": 10})) == ["partner-1", "partner-3", "partner-4"]


def test_blocked_partner_either_way_disappears(as_owner, brand, partners, recs):
    BrandBlock.objects.create(brand=brand, blocked=partners[0])
    BrandBlock.objects.create(brand=partners[4], blocked=brand)
    assert _slugs(as_owner(RECS, {"first": 10})) == ["partner-1", "partner-2", "partner-3"]


def test_partner_that_became_a_competitor_disappears(as_owner, admin_actor, partners, recs):
    competition_rule_create(actor=admin_actor, category_a="beverage.coffee", category_b="food.bakery")
    assert "partner-0" not in _slugs(as_owner(RECS, {"first": 10}))
    assert len(_slugs(as_owner(RECS, {"first": 10}))) == 4


def test_my_brand_suspended_shows_no_recommendations(as_owner, brand, recs):
    brand.status = BrandStatus.SUSPENDED
    brand.save()
    assert as_owner(RECS, {"first": 10})["recommendations"]["edges"] == []


# --- query count ---------------------------------------------------------------------------------------------
def _count(client, variables, **extra) -> tuple[int, int]:
    client(RECS, variables, **extra)  # warm-up: a key's first use records lastUsedAt
    with CaptureQueriesContext(connection) as ctx:
        data = client(RECS, variables, **extra)
    return len(ctx.captured_queries), len(data["recommendations"]["edges"])


def test_query_count_is_constant_as_recommendations_grow(owner, brand):
    client = session(owner)
    recommend(brand, make_partners(3, prefix="few"))
    small, n_small = _count(client, {"first": 100})
    Recommendation.objects.filter(brand=brand).delete()
    recommend(brand, make_partners(30, prefix="many"))
    large, n_large = _count(client, {"first": 100})
    assert (n_small, n_large) == (3, 30)
    assert small == large, f"{small} queries for 3 recommendations but {large} for 30"


def test_query_count_is_constant_for_admins_and_keys(admin_user, brand, write_key):
    admin, key = session(admin_user), with_key(write_key[1])
    recommend(brand, make_partners(3, prefix="few"))
    counts_small = (_count(admin, {"b": gid("Brand", brand.pk), "first": 100})[0], _count(key, {"first": 100})[0])
    Recommendation.objects.filter(brand=brand).delete()
    recommend(brand, make_partners(30, prefix="many"))
    counts_large = (_count(admin, {"b": gid("Brand", brand.pk), "first": 100})[0], _count(key, {"first": 100})[0])
    assert counts_small == counts_large
