"""The one rule for "a channel's numbers are unchanged" (it keeps its verification)."""

from partners.channels import same_channel_numbers


def test_unchanged_numbers_are_the_same():
    assert same_channel_numbers(120_000, 0.35, 120_000, 0.35)


def test_the_web_editors_percentage_rounding_is_still_the_same():
    # 33.3333 % sent back for a stored 1/3.
    assert same_channel_numbers(9_000, 1 / 3, 9_000, 0.333333)


def test_a_changed_size_or_rate_is_not_the_same():
    assert not same_channel_numbers(120_000, 0.35, 120_001, 0.35)
    assert not same_channel_numbers(120_000, 0.35, 120_000, 0.3502)
