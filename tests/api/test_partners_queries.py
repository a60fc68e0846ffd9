"""Partners queries, each as the allowed role, as another brand, and anonymously."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from partners.models import BrandStatus, Role
from tests.api.conftest import gid, session
from tests.factories import BrandFactory, ChannelFactory, MembershipFactory, UserFactory, category

PRIVATE = "status statusReason legalName creditCode channels { type size } auditEvents { action }"


@pytest.fixture
def market(brand, other_brand):
    """luckin (approved, with channels), pop-mart (approved), and a pending brand nobody else sees."""
    ChannelFactory(brand=brand, type="wecom", size=1000, active_rate=0.5)
    ChannelFactory(brand=brand, type="miniprogram", size=4000, active_rate=0.25)
    brand.legal_name = "瑞幸咖啡（中国）有限公司"
    brand.active_audience = 1500
    brand.save()
    pending = BrandFactory(
        slug="hidden-tea",
        name="待审茶",
        name_en="Hidden Tea",
        status=BrandStatus.PENDING,
        category=category("beverage.tea_drinks"),
    )
    return {"brand": brand, "other": other_brand, "pending": pending}


# --- me -------------------------------------------------------------------------------------------
def test_me_shows_my_account_and_memberships(as_owner, market):
    me = as_owner("{ me { email displayName isAdmin memberships { role brand { slug } } } }")["me"]
    assert me["email"] == "owner@example.com"
    assert me["isAdmin"] is False
    assert me["memberships"] == [{"role": "owner", "brand": {"slug": "luckin-coffee"}}]


def test_me_for_another_brand_shows_only_their_own_memberships(as_other, market):
    me = as_other("{ me { email memberships { brand { slug } } } }")["me"]
    assert me == {"email": "rival@example.com", "memberships": [{"brand": {"slug": "pop-mart"}}]}


def test_me_is_null_for_anonymous(anon, market):
    assert anon("{ me { email } }") == {"me": None}


def test_me_marks_platform_admins(as_admin):
    assert as_admin("{ me { isAdmin memberships { role } } }")["me"] == {"isAdmin": True, "memberships": []}


# --- myBrands ------------------------------------------------------------------------------------------
def test_my_brands_lists_mine_with_private_fields(as_owner, market):
    data = as_owner("{ myBrands { slug status legalName channels { type size } } }")
    assert data["myBrands"] == [
        {
            "slug": "luckin-coffee",
            "status": "approved",
            "legalName": "瑞幸咖啡（中国）有限公司",
            "channels": [{"type": "miniprogram", "size": 4000}, {"type": "wecom", "size": 1000}],
        }
    ]
    assert all(type(c["size"]) is int for c in data["myBrands"][0]["channels"])  # JSON integers, not 4000.0


def test_my_brands_of_another_brand_excludes_mine(as_other, market):
    assert as_other("{ myBrands { slug } }") == {"myBrands": [{"slug": "pop-mart"}]}


def test_my_brands_is_empty_for_anonymous(anon, market):
    assert anon("{ myBrands { slug } }") == {"myBrands": []}


# --- brands (marketplace) -------------------------------------------------------------------------------
BRANDS = (
    "query($s: String, $c: String, $first: Int) { brands(search: $s, category: $c, first: $first) { edges { node { slug name nameZh nameEn category { code } priceTier toneTags audience storeCount activeAudience channelTypes "
    + PRIVATE
    + " } } } }"
)


def _slugs(data):
    return [e["node"]["slug"] for e in data["brands"]["edges"]]


def test_brands_lists_approved_public_profiles_for_anonymous(anon, market):
    data = anon(BRANDS, {"first": 10})
    assert _slugs(data) == ["luckin-coffee", "pop-mart"]  # by scale; pending brand hidden
    luckin = data["brands"]["edges"][0]["node"]
    assert luckin["channelTypes"] == ["miniprogram", "wecom"]
    assert luckin["activeAudience"] == 1500
    assert luckin["audience"]["gender"] == {"female": 0.6, "male": 0.4}
    for field in ("status", "statusReason", "legalName", "creditCode"):
        assert luckin[field] is None
    assert luckin["channels"] == [] and luckin["auditEvents"] == []


def test_brands_shows_another_brands_private_fields_to_nobody_but_its_members(as_other, as_owner, market):
    other_view = {e["node"]["slug"]: e["node"] for e in as_other(BRANDS, {"first": 10})["brands"]["edges"]}
    assert other_view["luckin-coffee"]["creditCode"] is None
    assert other_view["luckin-coffee"]["channels"] == []
    assert other_view["pop-mart"]["status"] == "approved"  # its own brand
    owner_view = {e["node"]["slug"]: e["node"] for e in as_owner(BRANDS, {"first": 10})["brands"]["edges"]}
    assert owner_view["luckin-coffee"]["creditCode"] == market["brand"].credit_code
    assert len(owner_view["luckin-coffee"]["channels"]) == 2
    assert owner_view["pop-mart"]["creditCode"] is None


def test_brands_never_lists_a_pending_brand_even_to_admins(as_admin, market):
    assert "hidden-tea" not in _slugs(as_admin(BRANDS, {"first": 10}))


def test_brands_searches_names_in_both_languages(anon, market):
    assert _slugs(anon(BRANDS, {"first": 10, "s": "pop"})) == ["pop-mart"]
    assert _slugs(anon(BRANDS, {"first": 10, "s": "瑞幸"})) == ["luckin-coffee"]


def test_brands_filters_by_category_leaf_or_group(anon, market):
    assert _slugs(anon(BRANDS, {"first": 10, "c": "toys.collectibles"})) == ["pop-mart"]
    assert _slugs(anon(BRANDS, {"first": 10, "c": "beverage"})) == ["luckin-coffee"]


def test_brands_requires_first_or_last(anon, market):
    errors = anon.errors("{ brands { edges { node { slug } } } }")
    assert errors[0]["extensions"]["code"] == "pagination_required"


@pytest.mark.parametrize("arg", ["first: 101", "last: 101", "first: 0", "first: -1"])
def test_brands_refuses_page_sizes_outside_1_to_100(anon, market, arg):
    errors = anon.errors("{ brands(" + arg + ") { edges { node { slug } } } }")
    assert errors[0]["extensions"]["code"] == "pagination_limit"


def test_brands_pages_with_cursors(anon, market):
    first = anon("{ brands(first: 1) { edges { cursor node { slug } } pageInfo { hasNextPage endCursor } } }")
    assert first["brands"]["pageInfo"]["hasNextPage"] is True
    after = first["brands"]["pageInfo"]["endCursor"]
    second = anon("query($a: String) { brands(first: 100, after: $a) { edges { node { slug } } } }", {"a": after})
    assert _slugs(second) == ["pop-mart"]


def _brands_query_count(client, n_total: int) -> int:
    while BrandFactory._meta.model.objects.filter(status=BrandStatus.APPROVED).count() < n_total:
        b = BrandFactory(category=category("food.bakery"))
        ChannelFactory(brand=b, type="wecom")
        ChannelFactory(brand=b, type="app")
    with CaptureQueriesContext(connection) as ctx:
        data = client(BRANDS, {"first": 100})
    assert len(data["brands"]["edges"]) == n_total
    return len(ctx.captured_queries)


def test_brands_query_count_is_constant_as_rows_grow(owner, market):
    client = session(owner)
    small = _brands_query_count(client, 4)
    large = _brands_query_count(client, 40)
    assert small == large, f"{small} queries for 4 brands but {large} for 40"


def test_brands_query_count_is_constant_for_admins_too(admin_user, market):
    client = session(admin_user)
    assert _brands_query_count(client, 4) == _brands_query_count(client, 30)


# --- brand(slug / id) --------------------------------------------------------------------------------
ONE = (
    "query($slug: String, $id: ID) { brand(slug: $slug, id: $id) { id slug name creditCode status apiKeys { name } } }"
)


def test_brand_by_slug_and_by_id_for_its_owner(as_owner, market):
    by_slug = as_owner(ONE, {"slug": "luckin-coffee"})["brand"]
    assert by_slug["creditCode"] == market["brand"].credit_code
    by_id = as_owner(ONE, {"id": by_slug["id"]})["brand"]
    assert by_id == by_slug


def test_brand_of_another_brand_shows_only_the_public_profile(as_other, market):
    data = as_other(ONE, {"slug": "luckin-coffee"})["brand"]
    assert data["slug"] == "luckin-coffee"
    assert data["creditCode"] is None and data["status"] is None and data["apiKeys"] == []


def test_brand_pending_is_invisible_to_others_and_anonymous(as_other, anon, market):
    pending = market["pending"]
    assert as_other(ONE, {"slug": "hidden-tea"}) == {"brand": None}
    assert anon(ONE, {"id": gid("Brand", pending.pk)}) == {"brand": None}


def test_brand_pending_is_visible_to_its_members_and_admins(as_admin, market):
    pending = market["pending"]
    member = UserFactory(username="tea@example.com")
    MembershipFactory(user=member, brand=pending, role=Role.VIEWER)
    assert session(member)(ONE, {"slug": "hidden-tea"})["brand"]["status"] == "pending"
    assert as_admin(ONE, {"slug": "hidden-tea"})["brand"]["creditCode"] == pending.credit_code


def test_brand_anonymous_sees_public_profile(anon, market):
    assert anon(ONE, {"slug": "pop-mart"})["brand"]["creditCode"] is None


def test_brand_needs_exactly_one_of_slug_or_id(anon, market):
    assert anon.errors("{ brand { slug } }")[0]["extensions"]["code"] == "invalid"


# --- categories ----------------------------------------------------------------------------------------
def test_categories_are_public_and_localised(anon, as_other, db):
    leaves = anon("{ categories(leavesOnly: true) { code name isLeaf } }", HTTP_ACCEPT_LANGUAGE="en")["categories"]
    coffee = next(c for c in leaves if c["code"] == "beverage.coffee")
    assert coffee["name"] == "Coffee" and all(c["isLeaf"] for c in leaves)
    every = as_other("{ categories { code } }")["categories"]
    assert {"beverage"} <= {c["code"] for c in every}
    assert len(every) > len(leaves)


# --- channels(brand) -------------------------------------------------------------------------------
CHANNELS = "query($b: ID!) { channels(brand: $b) { id type size activeRate activeSize } }"


def test_channels_of_my_brand(as_owner, market):
    channels = as_owner(CHANNELS, {"b": gid("Brand", market["brand"].pk)})["channels"]
    assert [(c["type"], c["activeSize"]) for c in channels] == [("miniprogram", 1000), ("wecom", 500)]


def test_channels_of_another_brand_are_empty(as_other, anon, market):
    assert as_other(CHANNELS, {"b": gid("Brand", market["brand"].pk)}) == {"channels": []}
    assert anon(CHANNELS, {"b": gid("Brand", market["brand"].pk)}) == {"channels": []}


def test_channels_visible_to_admins(as_admin, market):
    assert len(as_admin(CHANNELS, {"b": gid("Brand", market["brand"].pk)})["channels"]) == 2


def test_my_brands_and_memberships_query_count_is_constant(db):
    person = UserFactory(username="multi@example.com")
    client = session(person)
    query = "{ me { memberships { role brand { slug category { code } channelTypes channels { size } } } } myBrands { slug channelTypes channels { type } auditEvents { action } } }"

    def run(n: int) -> int:
        while person.memberships.count() < n:
            b = BrandFactory()
            ChannelFactory(brand=b)
            MembershipFactory(user=person, brand=b, role=Role.MARKETER)
        with CaptureQueriesContext(connection) as ctx:
            data = client(query)
        assert len(data["myBrands"]) == n
        return len(ctx.captured_queries)

    assert run(2) == run(12)
