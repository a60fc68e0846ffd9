"""The JSON Lines imports (``import_brands``, ``import_outcomes``) on hostile files: every
problem is one ``line N: field: reason`` on stderr — no traceback, values shortened and
printable — and nothing is written. Standard input is read like a file given by path
(UTF-8, a BOM tolerated)."""

from __future__ import annotations

import io
import json
import sys

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from matching.models import Outcome
from partners.models import Brand
from tests.factories import make_brand, valid_credit_code

pytestmark = pytest.mark.django_db

GOOD_BRAND = {
    "slug": "tide-coffee",
    "name": "潮汐咖啡",
    "category": "beverage.coffee",
    "credit_code": valid_credit_code(5),
}
GOOD_OUTCOME = {"a": "coffee-a", "b": "bakery-a", "outcome": "declined"}


@pytest.fixture
def pair(db):
    make_brand("coffee-a", "beverage.coffee")
    make_brand("bakery-a", "food.bakery")


def strict_stream() -> io.TextIOWrapper:
    """Like a real stderr: UTF-8, and writing an unpaired surrogate would raise."""
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", errors="strict")


def run_import(command: str, path_or_stdin, monkeypatch=None) -> str:
    """Run ``command`` on a path (or "-" with ``path_or_stdin`` bytes as standard input);
    returns stderr. The import must fail with a CommandError (exit status 1), nothing else."""
    err = strict_stream()
    target = path_or_stdin
    if isinstance(path_or_stdin, bytes):
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(path_or_stdin), encoding="utf-8"))
        target = "-"
    args = [command, target, *(["--quiet"] if command == "import_brands" else [])]
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command(*args, stdout=io.StringIO(), stderr=err)
    err.flush()
    return err.buffer.getvalue().decode("utf-8")


def write(tmp_path, *lines: str | bytes) -> str:
    path = tmp_path / "input.jsonl"
    path.write_bytes(b"\n".join(x if isinstance(x, bytes) else x.encode("utf-8") for x in lines) + b"\n")
    return str(path)


def line(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


def nothing_written():
    return not Brand.objects.filter(slug="tide-coffee").exists() and not Outcome.objects.exists()


# --- deeply nested JSON ----------------------------------------------------------------------------------
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_json_on_a_line_is_a_line_error(tmp_path, pair, depth):
    deep = "[" * depth + "]" * depth
    brands = write(tmp_path, line(GOOD_BRAND), '{"slug": "deep", "name": "x", "audience": ' + deep + "}")
    report = run_import("import_brands", brands)
    assert "line 2: json: JSON nested more than 32 levels deep." in report
    outcomes = write(tmp_path, line(GOOD_OUTCOME), '{"a": ' + deep + "}")
    report = run_import("import_outcomes", outcomes)
    assert "line 2: json: JSON nested more than 32 levels deep." in report
    assert nothing_written()


# --- lone surrogates and NUL ---------------------------------------------------------------------------------
def test_a_lone_surrogate_is_a_line_error_naming_the_field(tmp_path, pair):
    brands = write(tmp_path, line(GOOD_BRAND), '{"slug": "bad", "name": "\\ud800", "category": "beverage.coffee"}')
    report = run_import("import_brands", brands)
    assert "line 2: name: name contains an invalid character (U+D800), which is not allowed." in report
    outcomes = write(tmp_path, '{"a": "coffee\\udfff", "b": "bakery-a", "outcome": "declined", "\\ud800": 1}')
    report = run_import("import_outcomes", outcomes)
    assert "line 1: a: " in report
    assert "line 1: \\ud800: unknown field" in report  # the key shown escaped, printable
    assert nothing_written()


@pytest.mark.parametrize(
    "bad, field",
    [
        ({"name": "潮汐\u0000咖啡"}, "name"),
        ({"description": "a\u0000b"}, "description"),
        ({"channels": [{"type": "wecom", "label": "群\u0000", "size": 5, "active_rate": 0.1}]}, "channels[0].label"),
        ({"tone": ["young\u0000"]}, "tone"),
        ({"blocked": ["x\u0000"]}, "blocked[0]"),
        ({"legal_name": "\u200b"}, "legal_name"),
    ],
)
def test_a_nul_or_invisible_character_in_a_brand_field_is_a_line_error(tmp_path, bad, field):
    path = write(tmp_path, line({**GOOD_BRAND, **bad}))
    report = run_import("import_brands", path)
    assert f"line 1: {field}: " in report
    assert "database" not in report
    assert nothing_written()


def test_a_nul_in_an_outcome_slug_is_a_line_error(tmp_path, pair):
    report = run_import("import_outcomes", write(tmp_path, line({**GOOD_OUTCOME, "b": "bakery-a\u0000"})))
    assert "line 1: b: " in report
    assert nothing_written()


def test_a_raw_nul_byte_or_bytes_that_are_not_utf8_are_line_errors(tmp_path, pair):
    brands = write(tmp_path, line(GOOD_BRAND), b'{"slug": "x\x00"}', b'{"slug": "caf\xe9"}')
    report = run_import("import_brands", brands)
    assert "line 2: json: " in report
    assert "line 3: json: not UTF-8 text" in report
    outcomes = write(tmp_path, line(GOOD_OUTCOME), b'{"a": "caf\xe9"}')
    assert "line 2: json: not UTF-8 text" in run_import("import_outcomes", outcomes)
    assert nothing_written()


# --- huge values ----------------------------------------------------------------------------------------
HUGE = "x" * 10_000_000


@pytest.mark.parametrize(
    "bad",
    [
        {"price_tier": HUGE},
        {"category": HUGE},
        {"tone": [HUGE]},
        {"audience": {"regions": [HUGE]}},
        {"audience": {HUGE: 1}},
        {"channels": [{"type": HUGE, "size": 1, "active_rate": 0.1}]},
        {HUGE: 1},
        {"credit_code": "\u00e9" * 17 + "x"},
    ],
    ids=["price_tier", "category", "tone", "region", "dimension", "channel_type", "unknown_field", "credit_code"],
)
def test_a_huge_bad_value_is_shortened_in_the_report(tmp_path, bad):
    report = run_import("import_brands", write(tmp_path, line({**GOOD_BRAND, **bad})))
    problems = [r for r in report.splitlines() if r.startswith("line 1:")]
    assert problems and all(len(r) < 400 for r in problems), [r[:200] for r in problems]
    assert nothing_written()


def test_a_huge_bad_outcome_value_is_shortened_in_the_report(tmp_path, pair):
    report = run_import(
        "import_outcomes", write(tmp_path, line({"a": HUGE, "b": "bakery-a", "outcome": HUGE, HUGE: 1}))
    )
    problems = [r for r in report.splitlines() if r.startswith("line 1:")]
    assert len(problems) >= 3 and all(len(r) < 400 for r in problems), [r[:200] for r in problems]


# --- standard input --------------------------------------------------------------------------------
def test_a_bom_on_standard_input_is_accepted_as_from_a_file(tmp_path, pair, monkeypatch):
    bom = b"\xef\xbb\xbf"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(bom + line(GOOD_BRAND).encode() + b"\n"), "utf-8"))
    call_command("import_brands", "-", "--quiet", stdout=io.StringIO(), stderr=io.StringIO())
    assert Brand.objects.filter(slug="tide-coffee").exists()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(bom + line(GOOD_OUTCOME).encode() + b"\n"), "utf-8"))
    call_command("import_outcomes", "-", stdout=io.StringIO(), stderr=io.StringIO())
    assert Outcome.objects.count() == 1


def test_standard_input_is_read_as_utf8_whatever_the_locale(tmp_path, monkeypatch):
    data = line(GOOD_BRAND).encode("utf-8") + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="ascii"))
    call_command("import_brands", "-", "--quiet", stdout=io.StringIO(), stderr=io.StringIO())
    assert Brand.objects.get(slug="tide-coffee").name == "潮汐咖啡"


def test_bad_bytes_on_standard_input_are_a_line_error(monkeypatch, pair):
    report = run_import("import_brands", line(GOOD_BRAND).encode() + b'\n{"slug": "caf\xe9"}\n', monkeypatch)
    assert "line 2: json: not UTF-8 text" in report
    assert nothing_written()
