"""huiliu.formatting.money: integer cents to text, the one place money becomes a string."""

import pytest

from huiliu.formatting import money


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (0, "CNY", "¥0.00"),
        (5, "CNY", "¥0.05"),
        (123_456_789, "CNY", "¥1,234,567.89"),
        (-500, "CNY", "-¥5.00"),
        (2**63 - 1, "CNY", "¥92,233,720,368,547,758.07"),
        (1999, "usd", "$19.99"),
        (1999, "GBP", "GBP 19.99"),
        (1500, "JPY", "JPY 1,500"),
    ],
)
def test_money_formats_cents(cents, currency, shown):
    assert money(cents, currency) == shown


def test_money_defaults_to_yuan():
    assert money(100) == "¥1.00"


@pytest.mark.parametrize("amount", [1.5, "100", True, None])
def test_money_refuses_anything_but_int_cents(amount):
    with pytest.raises(TypeError):
        money(amount)


# --- Counts: the one place a number of people, stores or reach becomes text ----------------------
@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (0, "0"),
        (999, "999"),
        (10_000, "10,000"),
        (2_810_000, "2,810,000"),
        (-1234, "-1,234"),
        ("20000000", "20,000,000"),
    ],
)
def test_number_has_thousands_separators_in_every_language(value, shown):
    from huiliu.formatting import number

    assert number(value) == shown


@pytest.mark.parametrize(
    ("value", "zh", "en"),
    [
        (0, "0", "0"),
        (9_999, "9,999", "9,999"),
        (10_000, "1万", "10K"),
        (58_000, "5.8万", "58K"),
        (96_000, "9.6万", "96K"),
        (120_000, "12万", "120K"),
        (2_570_000, "257万", "2.6M"),
        (2_573_456, "257.3万", "2.6M"),
        (2_810_000, "281万", "2.8M"),
        (20_000_000, "2000万", "20M"),
        (99_999_999, "1亿", "100M"),
        (116_989_071, "1.2亿", "117M"),
        (999_950, "100万", "1M"),
        (1_500_000_000, "15亿", "1.5B"),
        (-58_000, "-5.8万", "-58K"),
    ],
)
def test_compact_uses_wan_and_yi_in_chinese_and_k_m_in_english(value, zh, en):
    from huiliu.formatting import compact

    assert compact(value, "zh-hans") == zh
    assert compact(value, "en") == en


def test_compact_never_shows_a_trailing_zero_decimal():
    from huiliu.formatting import compact

    for n in range(10_000, 10_000_000, 10_000):
        assert ".0万" not in compact(n, "zh-hans") and ".0K" not in compact(n, "en")


@pytest.mark.parametrize("value", [None, "", "abc", True, float("nan"), float("inf")])
def test_counts_of_something_that_is_not_a_whole_number_are_empty(value):
    from huiliu.formatting import compact, number

    assert number(value) == "" and compact(value, "zh-hans") == ""
