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
