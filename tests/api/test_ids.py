"""Global IDs are checked for type: a Brand's ID is refused where a Channel or an ApiKey is
expected (and vice versa), with an error naming both types."""

from __future__ import annotations

import pytest

from api.core.ids import decode_id
from tests.api.conftest import gid
from tests.factories import ChannelFactory


def test_decode_returns_the_pk_of_the_expected_type():
    assert decode_id(gid("Brand", 42), "Brand") == 42


@pytest.mark.parametrize("value", ["", "garbage", gid("Brand", "x"), gid("Brand", ""), "QnJhbmQ6"])
def test_decode_refuses_malformed_ids(value):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        decode_id(value, "Brand")
    assert exc.value.error_dict["id"][0].code == "invalid_id"


def test_brand_id_where_an_api_key_is_expected_is_refused(as_owner, brand, read_key):
    data = as_owner(
        "mutation($id: ID!) { revokeApiKey(id: $id) { apiKey { id } errors { field code message } } }",
        {"id": gid("Brand", brand.pk)},
    )["revokeApiKey"]
    assert data["apiKey"] is None
    assert data["errors"][0]["field"] == "id" and data["errors"][0]["code"] == "invalid_id"
    assert "ApiKey" in data["errors"][0]["message"] and "Brand" in data["errors"][0]["message"]
    read_key[0].refresh_from_db()
    assert read_key[0].revoked_at is None


def test_api_key_id_where_a_brand_is_expected_is_refused(as_owner, brand, read_key):
    # The number inside is an existing brand's pk: only the type check stops it.
    data = as_owner(
        'mutation($b: ID!) { updateBrandProfile(brand: $b, input: {description: "x"}) { errors { field code } } }',
        {"b": gid("ApiKey", brand.pk)},
    )
    assert data["updateBrandProfile"]["errors"] == [{"field": "brand", "code": "invalid_id"}]


def test_channel_id_where_a_brand_is_expected_is_refused_in_queries(as_owner, brand):
    channel = ChannelFactory(brand=brand)
    errors = as_owner.errors("query($id: ID) { brand(id: $id) { slug } }", {"id": gid("Channel", channel.pk)})
    assert errors[0]["extensions"]["code"] == "invalid_id"
    assert "Brand" in errors[0]["message"]
    errors = as_owner.errors("query($b: ID!) { channels(brand: $b) { id } }", {"b": gid("Channel", channel.pk)})
    assert errors[0]["extensions"]["code"] == "invalid_id"


def test_ids_returned_by_the_api_carry_their_type(as_owner, brand, read_key):
    ChannelFactory(brand=brand)
    data = as_owner('{ brand(slug: "luckin-coffee") { id channels { id } apiKeys { id } } }')["brand"]
    assert data["id"] == gid("Brand", brand.pk)
    from graphql_relay import from_global_id

    assert from_global_id(data["channels"][0]["id"]).type == "Channel"
    assert from_global_id(data["apiKeys"][0]["id"]).type == "ApiKey"


# --- numbers inside an ID ---------------------------------------------------------------------
def _raw(text: str) -> str:
    import base64

    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "inside",
    [
        "Brand:²",  # str.isdigit() says yes, int() says no
        "Brand:٣",  # Arabic-Indic 3: int() reads it as 3
        "Brand:３",  # full-width 3
        "Brand:-1",
        "Brand:0",
        "Brand:+3",
        "Brand: 3",
        "Brand:3 ",
        "Brand:03",  # an alias of Brand:3
        "Brand:9223372036854775808",  # one past the largest bigint
        "Brand:99999999999999999999999999",
        "Brand:1\x00",
    ],
)
def test_an_id_whose_number_is_not_a_plain_positive_bigint_is_invalid(inside):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        decode_id(_raw(inside), "Brand")
    error = exc.value.error_dict["id"][0]
    assert error.code == "invalid_id"
    message = error.messages[0]
    assert "got the ID of a Brand" not in message
    assert "Brand" in message and "9223372036854775807" in message


def test_the_largest_bigint_is_a_valid_id():
    assert decode_id(_raw("Brand:9223372036854775807"), "Brand") == 2**63 - 1


def test_a_huge_id_value_is_not_echoed_whole_in_the_message():
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        decode_id("A" * 100_000, "Brand")
    assert len(exc.value.error_dict["id"][0].messages[0]) < 300


@pytest.mark.parametrize("inside", ["Brand:²", "Brand:٣", "Brand:-1", "Brand:99999999999999999999999999"])
def test_queries_and_mutations_answer_invalid_id_for_such_ids(as_owner, brand, inside):
    errors = as_owner.errors("query($id: ID) { brand(id: $id) { slug } }", {"id": _raw(inside)})
    assert errors[0]["extensions"]["code"] == "invalid_id"
    assert "got the ID of a Brand" not in errors[0]["message"]
    data = as_owner(
        'mutation($b: ID!) { updateBrandProfile(brand: $b, input: {description: "x"}) { errors { field code } } }',
        {"b": _raw(inside)},
    )
    assert data["updateBrandProfile"]["errors"] == [{"field": "brand", "code": "invalid_id"}]
    brand.refresh_from_db()
    assert brand.description != "x"
