"""The shared validators refuse each kind of bad brand data with a specific code and message."""

import pytest
from django.core.exceptions import ValidationError

from partners.errors import PartnersError as E
from partners.validation import (
    clean_brand_profile,
    clean_channels,
    credit_code_check_char,
    validate_audience,
    validate_credit_code,
    validate_non_negative_int,
    validate_price_tier,
    validate_tone,
)


@pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000802100433B", " 91350100m000100y43 "])
def test_valid_credit_codes_are_accepted_and_normalised(code):
    assert validate_credit_code(code) == code.strip().upper()


@pytest.mark.parametrize(
    "code, fragment",
    [
        ("91350100M000100Y4", "18 characters"),
        ("91350100M000100Y44", "check digit is wrong (expected 3)"),
        ("91350100M000100YI3", "invalid characters: I"),
        ("", "18 characters"),
    ],
)
def test_bad_credit_codes_are_refused_with_the_reason(code, fragment):
    with pytest.raises(ValidationError) as exc:
        validate_credit_code(code)
    assert exc.value.code == E.INVALID_CREDIT_CODE
    assert fragment in exc.value.messages[0]


def test_check_char_matches_gb32100_example():
    assert credit_code_check_char("91350100M000100Y4") == "3"


def test_distribution_must_sum_to_one_within_tolerance():
    assert validate_audience({"gender": {"female": 0.505, "male": 0.5}})["gender"]["female"] == 0.505
    with pytest.raises(ValidationError) as exc:
        validate_audience({"gender": {"female": 0.6, "male": 0.6}})
    assert "audience.gender" in exc.value.error_dict
    err = exc.value.error_dict["audience.gender"][0]
    assert err.code == E.INVALID_DISTRIBUTION and "sum to 1.200" in err.messages[0]


@pytest.mark.parametrize(
    "audience, field",
    [
        ({"age": {"18-24": 1.2, "25-34": -0.2}}, "audience.age"),
        ({"age": {"teen": 1.0}}, "audience.age"),
        ({"city_tier": {"tier1": "half", "tier2": 0.5}}, "audience.city_tier"),
        ({"regions": ["CN-XX"]}, "audience.regions"),
        ({"regions": "CN-SH"}, "audience.regions"),
        ({"income": {"high": 1}}, "audience.income"),
    ],
)
def test_bad_audience_is_refused_on_its_field(audience, field):
    with pytest.raises(ValidationError) as exc:
        validate_audience(audience)
    assert field in exc.value.error_dict


def test_regions_are_iso_codes_normalised_and_deduplicated():
    assert validate_audience({"regions": ["cn-sh", "CN-SH", "CN-BJ"]})["regions"] == ["CN-SH", "CN-BJ"]


@pytest.mark.parametrize("tier", [0, 6, "x", 2.5, True, "²", "٣"])
def test_price_tier_outside_1_to_5_is_refused(tier):
    with pytest.raises(ValidationError) as exc:
        validate_price_tier(tier)
    assert exc.value.code == E.OUT_OF_RANGE


def test_tone_tags_are_normalised_and_chinese_aliases_map_to_one_tag():
    assert validate_tone(["Young ", "年轻", "Urban_Chic", "性价比"]) == ["young", "urban-chic", "value"]
    assert validate_tone("年轻，都市") == ["young", "urban"]


@pytest.mark.parametrize(
    "channel, field, code",
    [
        ({"type": "wecom", "size": -1, "active_rate": 0.2}, "channels[0].size", E.OUT_OF_RANGE),
        ({"type": "wecom", "size": 10, "active_rate": 1.5}, "channels[0].active_rate", E.OUT_OF_RANGE),
        ({"type": "tiktok", "size": 10, "active_rate": 0.5}, "channels[0].type", E.UNKNOWN_CHANNEL_TYPE),
        ({"type": "wecom", "size": 1.5, "active_rate": 0.5}, "channels[0].size", E.INVALID),
    ],
)
def test_bad_channels_are_refused_on_their_field(channel, field, code):
    with pytest.raises(ValidationError) as exc:
        clean_channels([channel])
    assert exc.value.error_dict[field][0].code == code


def test_channel_listed_twice_without_distinct_label_is_refused():
    with pytest.raises(ValidationError) as exc:
        clean_channels([{"type": "wecom", "size": 1, "active_rate": 0.1}] * 2)
    assert exc.value.error_dict["channels[1].type"][0].code == E.DUPLICATE


@pytest.mark.parametrize(
    "website",
    [
        "javascript:alert(1)",
        "JavaScript:alert(document.cookie)",
        "data:text/html,<script>x</script>",
        "ftp://example.com/",
        "www.example.com",
        "https://",
    ],
)
def test_website_that_is_not_an_http_url_is_refused(website):
    with pytest.raises(ValidationError) as exc:
        clean_brand_profile({"website": website}, categories={}, partial=True)
    err = exc.value.error_dict["website"][0]
    assert err.code == E.INVALID
    assert "http://" in err.messages[0]


@pytest.mark.parametrize("website", ["https://www.luckincoffee.com", "http://example.cn/about?x=1", ""])
def test_http_and_https_websites_or_none_are_accepted(website):
    assert clean_brand_profile({"website": website}, categories={}, partial=True) == {"website": website}


@pytest.mark.parametrize(
    "channel, field, code",
    [
        ({"type": "wecom", "size": float("nan"), "active_rate": 0.5}, "channels[0].size", E.INVALID),
        ({"type": "wecom", "size": float("inf"), "active_rate": 0.5}, "channels[0].size", E.INVALID),
        ({"type": "wecom", "size": 1e19, "active_rate": 0.5}, "channels[0].size", E.OUT_OF_RANGE),
        ({"type": "wecom", "size": 2**63, "active_rate": 0.5}, "channels[0].size", E.OUT_OF_RANGE),
        ({"type": "wecom", "size": 10, "active_rate": float("nan")}, "channels[0].active_rate", E.INVALID),
        ({"type": "wecom", "size": 10, "active_rate": float("inf")}, "channels[0].active_rate", E.INVALID),
    ],
)
def test_non_finite_or_too_large_channel_numbers_are_field_errors(channel, field, code):
    with pytest.raises(ValidationError) as exc:
        clean_channels([channel])
    assert exc.value.error_dict[field][0].code == code


def test_channel_size_up_to_2_pow_53_is_accepted():
    assert clean_channels([{"type": "wecom", "size": 2**53, "active_rate": 1}])[0]["size"] == 2**53


def test_total_active_audience_beyond_a_bigint_is_refused_on_channels():
    many = [{"type": "wecom", "label": str(i), "size": 2**53, "active_rate": 1} for i in range(1100)]
    with pytest.raises(ValidationError) as exc:
        clean_channels(many)
    assert exc.value.error_dict["channels"][0].code == E.OUT_OF_RANGE


@pytest.mark.parametrize(
    "stores, code", [(2**31, E.OUT_OF_RANGE), (3_000_000_000, E.OUT_OF_RANGE), (float("nan"), E.INVALID)]
)
def test_store_count_must_fit_an_integer_column(stores, code):
    with pytest.raises(ValidationError) as exc:
        clean_brand_profile({"stores": stores}, categories={}, partial=True)
    assert exc.value.error_dict["stores"][0].code == code


def test_non_negative_int_accepts_whole_floats_and_big_ints_within_the_bound():
    assert validate_non_negative_int(5.0, "size") == 5
    assert validate_non_negative_int(2**31 - 1, "stores", 2**31 - 1) == 2**31 - 1
