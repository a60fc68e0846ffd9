"""BigInt and Money: counts come back as JSON integers of any 64-bit size (never 2810000.0),
input that is not a whole number in range is refused with a clear error, and money is
integer cents with its currency."""

from __future__ import annotations

import graphene
import pytest
from graphql import GraphQLError
from graphql.language import BooleanValueNode, FloatValueNode, IntValueNode, StringValueNode

from api.core.scalars import INT64_MAX, INT64_MIN, BigInt, Money
from matching.models import MatcherModel, Recommendation
from partners.models import Channel
from tests.api.conftest import gid
from tests.factories import BrandFactory, ChannelFactory, category


# --- BigInt, unit ------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", [0, 2_810_000, 20_000_000_000, INT64_MAX, INT64_MIN, 2_810_000.0])
def test_bigint_serialises_whole_numbers_as_ints(value):
    out = BigInt.serialize(value)
    assert out == value and type(out) is int


@pytest.mark.parametrize(
    "value", [1.5, float("nan"), float("inf"), "2810000", True, None, INT64_MAX + 1, INT64_MIN - 1]
)
def test_bigint_refuses_what_is_not_a_whole_int64(value):
    with pytest.raises(GraphQLError, match="BigInt cannot represent"):
        BigInt.serialize(value)
    with pytest.raises(GraphQLError, match="BigInt cannot represent"):
        BigInt.parse_value(value)


def test_bigint_parses_integer_literals_of_any_int64_size():
    assert BigInt.parse_literal(IntValueNode(value="9223372036854775807")) == INT64_MAX
    assert BigInt.parse_literal(IntValueNode(value="-5")) == -5


@pytest.mark.parametrize(
    "node",
    [
        FloatValueNode(value="1.5"),
        FloatValueNode(value="2.0"),
        StringValueNode(value="12"),
        BooleanValueNode(value=True),
        IntValueNode(value="9223372036854775808"),
    ],
)
def test_bigint_refuses_other_literals(node):
    with pytest.raises(GraphQLError, match="BigInt cannot represent"):
        BigInt.parse_literal(node)


# --- Money, unit --------------------------------------------------------------------------------------
def test_money_of_cents_formats_with_the_project_helper():
    price = Money.of(123_456_789, "cny")
    assert (price.amount_cents, price.currency, price.formatted) == (123_456_789, "CNY", "¥1,234,567.89")


@pytest.mark.parametrize("amount", [12.5, "100", True])
def test_money_refuses_anything_but_integer_cents(amount):
    with pytest.raises(TypeError):
        Money.of(amount)


def test_money_reaches_clients_as_integer_cents():
    class Query(graphene.ObjectType):
        price = graphene.Field(Money)

        def resolve_price(root, info):
            return Money.of(30_000_000_000_00)  # ¥30 billion: past 2^31 cents

    result = graphene.Schema(query=Query).execute("{ price { amountCents currency formatted } }")
    assert result.errors is None
    price = result.data["price"]
    assert price == {"amountCents": 3_000_000_000_000, "currency": "CNY", "formatted": "¥30,000,000,000.00"}
    assert type(price["amountCents"]) is int


# --- counts in the schema come back as JSON integers ----------------------------------------------------
@pytest.fixture
def big_brand(brand):
    ChannelFactory(brand=brand, type="miniprogram", size=20_000_000, active_rate=0.1405)
    ChannelFactory(brand=brand, type="wecom", size=5_000_000_000, active_rate=0.0)  # past 2^31
    brand.active_audience = 2_810_000
    brand.store_count = 3_000
    brand.save()
    return brand


def test_counts_are_json_integers_not_floats(as_owner, big_brand):
    query = "{ myBrands { activeAudience storeCount channels { type size activeSize } } }"
    response = as_owner.raw(query)
    assert b'"activeAudience":2810000,' in response.content  # not 2810000.0
    (mine,) = response.json()["data"]["myBrands"]
    assert mine["activeAudience"] == 2_810_000 and isinstance(mine["activeAudience"], int)
    assert mine["storeCount"] == 3_000 and isinstance(mine["storeCount"], int)
    assert mine["channels"] == [
        {"type": "miniprogram", "size": 20_000_000, "activeSize": 2_810_000},
        {"type": "wecom", "size": 5_000_000_000, "activeSize": 0},
    ]
    assert all(isinstance(c[k], int) for c in mine["channels"] for k in ("size", "activeSize"))


def test_partner_profile_counts_are_json_integers(as_owner, big_brand):
    partner = BrandFactory(slug="bakery", category=category("food.bakery"), active_audience=2_810_000, store_count=7)
    Recommendation.objects.create(brand=big_brand, partner=partner, rank=1, score=0.5)
    data = as_owner("{ recommendations(first: 5) { edges { node { partner { activeAudience storeCount } } } } }")
    profile = data["recommendations"]["edges"][0]["node"]["partner"]
    assert profile == {"activeAudience": 2_810_000, "storeCount": 7}
    assert isinstance(profile["activeAudience"], int)


def test_training_size_is_a_json_integer(as_admin):
    MatcherModel.objects.create(version=1, training_size=40_000, artefact=b"x", is_active=True)
    size = as_admin("{ activeMatcherModel { trainingSize } }")["activeMatcherModel"]["trainingSize"]
    assert size == 40_000 and isinstance(size, int)


# --- BigInt input --------------------------------------------------------------------------------------
SET_CHANNELS = """mutation($b: ID!, $c: [ChannelInput!]!) { setBrandChannels(brand: $b, channels: $c) {
  brand { activeAudience } errors { field code } } }"""


def test_channel_size_past_32_bits_is_accepted(as_owner, brand):
    channels = [{"type": "wecom", "size": 5_000_000_000, "activeRate": 0.5}]
    data = as_owner(SET_CHANNELS, {"b": gid("Brand", brand.pk), "c": channels})["setBrandChannels"]
    assert data == {"brand": {"activeAudience": 2_500_000_000}, "errors": []}
    assert Channel.objects.get(brand=brand).size == 5_000_000_000


@pytest.mark.parametrize("size", [1.5, "1000", 2**63])
def test_channel_size_that_is_not_a_whole_int64_is_refused(as_owner, brand, size):
    channels = [{"type": "wecom", "size": size, "activeRate": 0.5}]
    (error,) = as_owner.errors(SET_CHANNELS, {"b": gid("Brand", brand.pk), "c": channels})
    assert "BigInt cannot represent" in error["message"] and "size" in error["message"]
    assert not Channel.objects.filter(brand=brand).exists()


def test_fractional_literal_is_refused(as_owner, brand):
    query = """mutation($b: ID!) { setBrandChannels(brand: $b, channels: [{type: "wecom", size: 1.5, activeRate: 0.5}])
      { errors { code } } }"""
    (error,) = as_owner.errors(query, {"b": gid("Brand", brand.pk)})
    assert "BigInt cannot represent a non-integer value: 1.5" in error["message"]


def test_scale_filter_refuses_fractions(as_owner, brand):
    (error,) = as_owner.errors("{ recommendations(first: 5, scaleMin: 2.5) { edges { cursor } } }")
    assert "BigInt cannot represent a non-integer value: 2.5" in error["message"]
