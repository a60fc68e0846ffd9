"""huiliu.text: the text checks every surface shares, and how values are quoted in messages."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from huiliu.text import ascii_int, clean_free_text, clean_line, clean_name, excerpt, is_blank, one_line


@pytest.mark.parametrize(
    "value, expected",
    [("1234", 1234), ("0", 0), ("²", None), ("٣", None), ("３", None), ("-1", None), ("", None), ("1" * 19, None)],
)
def test_ascii_int_reads_plain_ascii_digits_only(value, expected):
    assert ascii_int(value) == expected


def test_excerpt_shortens_and_escapes():
    assert excerpt("x" * 1000) == "x" * 80 + "…"
    assert excerpt("a\x00b\u200b\ud800") == "a\\x00b\\u200b\\ud800"
    assert excerpt(["a"] * 10**6) == "<list>"
    assert excerpt(5) == "5"
    excerpt("\ud800").encode("utf-8")  # printable anywhere


@pytest.mark.parametrize("value", ["\u200b", " \u3000 ", "\ufeff\u2060", "\u3164", ""])
def test_invisible_only_text_is_blank(value):
    assert is_blank(value)


def test_names_are_one_line_of_visible_text():
    assert clean_name("  瑞幸咖啡（中国）  ", "name") == "瑞幸咖啡（中国）"
    assert clean_name("ＬＵＣＫＩＮ", "name", compatibility=True) == "LUCKIN"
    for bad in ("a\nb", "a\tb", "a\u200bb", "a\u202eb", "a\u2066b", "a\x00b", "\ud800", "a\u2028b"):
        with pytest.raises(ValidationError) as exc:
            clean_name(bad, "name")
        assert exc.value.code == "invalid"
    with pytest.raises(ValidationError) as exc:
        clean_name("\u200b", "name", required=True)
    assert exc.value.code == "required"
    with pytest.raises(ValidationError) as exc:
        clean_name("名" * 81, "name", max_length=80)
    assert "80" in exc.value.messages[0]


def test_free_text_keeps_line_breaks_and_refuses_other_controls():
    assert clean_free_text(" a\r\n\tb ", "message") == "a\r\n\tb"
    for bad in ("a\x00", "a\x1b[0m", "\ud800"):
        with pytest.raises(ValidationError):
            clean_free_text(bad, "message")


def test_a_line_refuses_control_characters_but_not_invisible_ones():
    assert clean_line(" 瑞幸\u200b ", "q") == "瑞幸\u200b"
    with pytest.raises(ValidationError):
        clean_line("a\nb", "q")
    with pytest.raises(ValidationError):
        clean_line(5, "q")


def test_one_line_folds_controls_and_whitespace():
    assert one_line("Luckin\r\nBcc: x\u2028y\x85z") == "Luckin Bcc: x y z"
