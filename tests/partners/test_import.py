"""Bulk import (partners/importer.py, ``manage.py import_brands``): every bad-input case is
refused with ``line N: field: reason`` and nothing written; upsert, approval, blocks, audit,
progress and the command's exit status."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError
from django.db import connections
from django.utils import translation

from partners import importer
from partners.actors import Actor
from partners.importer import BrandImportError, brands_import
from partners.models import AuditAction, AuditEvent, Brand, BrandBlock, BrandStatus, Channel, Membership
from partners.signals import brands_imported
from tests.factories import BrandFactory, UserFactory, category, valid_credit_code

pytestmark = pytest.mark.django_db

LUCKIN = {
    "slug": "luckin-coffee",
    "name": "瑞幸咖啡",
    "name_en": "Luckin Coffee",
    "category": "beverage.coffee",
    "price_tier": 2,
    "tone": ["Young", "都市", "value"],
    "description": "…",
    "credit_code": valid_credit_code(1),
    "stores": 10000,
    "audience": {
        "gender": {"female": 0.58, "male": 0.42},
        "age": {"18-24": 0.32, "25-34": 0.41, "35-44": 0.18, "45+": 0.09},
        "city_tier": {"tier1": 0.35, "new_tier1": 0.30, "tier2": 0.20, "tier3_plus": 0.15},
        "regions": ["CN-SH", "CN-BJ"],
    },
    "channels": [
        {"type": "wecom", "size": 1200000, "active_rate": 0.35},
        {"type": "miniprogram", "size": 20000000, "active_rate": 0.1},
    ],
}


def brand_line(**changes) -> dict:
    data = copy.deepcopy(LUCKIN)
    for key, value in changes.items():
        if value is ...:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def jsonl(*rows) -> list[str]:
    return [row if isinstance(row, str) else json.dumps(row, ensure_ascii=False) for row in rows]


def counts() -> dict[str, int]:
    return {
        "brands": Brand.objects.count(),
        "channels": Channel.objects.count(),
        "blocks": BrandBlock.objects.count(),
        "audit": AuditEvent.objects.count(),
    }


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def existing(db):
    """A brand already in the database, with a channel, that a bad file must not touch."""
    brand = BrandFactory(slug="pop-mart", name="泡泡玛特", category=category("toys.collectibles"))
    Channel.objects.create(brand=brand, type="official_account", size=2_000_000, active_rate=0.2)
    return brand


OTHER = {"slug": "pop-mart-x", "name": "X", "category": "toys.collectibles"}

BAD_LINES = [
    ("bad_json", '{"slug": "x", oops}', "line 2: json: not valid JSON"),
    ("not_an_object", "[1, 2]", "line 2: brand: a brand must be a JSON object."),
    ("missing_slug", brand_line(slug=...), "line 2: slug: slug is required."),
    ("missing_name", brand_line(name=...), "line 2: name: name is required."),
    ("missing_category", brand_line(category=...), "line 2: category: category is required."),
    ("unknown_category", brand_line(category="beverage.water"), "line 2: category: unknown category beverage.water"),
    ("group_not_leaf", brand_line(category="beverage"), "line 2: category: beverage is a category group"),
    (
        "bad_credit_code",
        brand_line(credit_code=valid_credit_code(1)[:17] + ("0" if valid_credit_code(1)[17] != "0" else "1")),
        "line 2: credit_code: Unified social credit code check digit is wrong",
    ),
    (
        "distribution_sum",
        brand_line(audience={"gender": {"female": 0.5, "male": 0.3}}),
        "line 2: audience.gender: gender shares must sum to 1 (±0.01); they sum to 0.800.",
    ),
    (
        "age_distribution_sum",
        brand_line(audience={"age": {"18-24": 0.5, "25-34": 0.6}}),
        "line 2: audience.age: age shares must sum to 1",
    ),
    (
        "negative_size",
        brand_line(channels=[{"type": "wecom", "size": -5, "active_rate": 0.1}]),
        "line 2: channels[0].size: size must be ≥ 0 (got -5).",
    ),
    (
        "active_rate_above_1",
        brand_line(
            channels=[{"type": "wecom", "size": 5, "active_rate": 0.1}, {"type": "sms", "size": 5, "active_rate": 1.2}]
        ),
        "line 2: channels[1].active_rate: active rate must be between 0 and 1 (got 1.2).",
    ),
    (
        "active_rate_below_0",
        brand_line(channels=[{"type": "wecom", "size": 5, "active_rate": -0.1}]),
        "line 2: channels[0].active_rate: active rate must be between 0 and 1 (got -0.1).",
    ),
    (
        "unknown_region",
        brand_line(audience={"regions": ["CN-SH", "CN-XX"]}),
        "line 2: audience.regions: CN-XX is not an ISO 3166-2:CN region code",
    ),
    (
        "price_tier_high",
        brand_line(price_tier=6),
        "line 2: price_tier: price tier must be from 1 (mass) to 5 (luxury), got 6.",
    ),
    (
        "price_tier_zero",
        brand_line(price_tier=0),
        "line 2: price_tier: price tier must be from 1 (mass) to 5 (luxury), got 0.",
    ),
    (
        "unknown_channel_type",
        brand_line(channels=[{"type": "tv", "size": 5, "active_rate": 0.1}]),
        "line 2: channels[0].type: unknown channel type tv",
    ),
    (
        "blocked_unknown",
        brand_line(blocked=["ghost-brand"]),
        "line 2: blocked[0]: no brand ghost-brand in this file or in the database.",
    ),
    (
        "blocks_itself",
        brand_line(blocked=["pop-mart", "luckin-coffee"]),
        "line 2: blocked[1]: a brand cannot block itself.",
    ),
]


@pytest.mark.parametrize("bad, message", [(b, m) for _n, b, m in BAD_LINES], ids=[n for n, _b, _m in BAD_LINES])
def test_bad_line_is_refused_with_line_field_reason_and_nothing_written(existing, bad, message):
    before = counts()
    with pytest.raises(BrandImportError) as exc:
        brands_import(path_or_lines=jsonl(OTHER, bad))
    reported = [str(p) for p in exc.value.problems]
    assert any(r.startswith(message) for r in reported), reported
    assert counts() == before
    assert not Brand.objects.filter(slug__in=["pop-mart-x", "luckin-coffee"]).exists()
    assert Brand.objects.get(slug="pop-mart").channels.count() == 1


def test_duplicate_slug_in_file_is_refused_naming_the_first_line(existing):
    before = counts()
    with pytest.raises(BrandImportError) as exc:
        brands_import(path_or_lines=jsonl(brand_line(), "", brand_line(name="again")))
    assert [str(p) for p in exc.value.problems] == ["line 3: slug: luckin-coffee is already on line 1."]
    assert counts() == before


def test_every_bad_line_is_reported_not_just_the_first(existing):
    before = counts()
    with pytest.raises(BrandImportError) as exc:
        brands_import(path_or_lines=jsonl("{", brand_line(price_tier=9), OTHER, brand_line(slug="b", category="nope")))
    assert [(p.line, p.field) for p in exc.value.problems] == [(1, "json"), (2, "price_tier"), (4, "category")]
    assert counts() == before


def test_valid_file_creates_pending_brands_with_channels_scale_and_one_audit_event_each():
    result = brands_import(path_or_lines=jsonl(brand_line(), "   ", OTHER))
    assert (result.created, result.updated, result.approved, result.lines) == (2, 0, 0, 3)
    luckin = Brand.objects.get(slug="luckin-coffee")
    assert luckin.status == BrandStatus.PENDING
    assert luckin.tone_tags == ["young", "urban", "value"]  # normalised like every other surface
    assert luckin.store_count == 10000
    assert luckin.active_audience == round(1_200_000 * 0.35 + 20_000_000 * 0.1)
    assert sorted(luckin.channels.values_list("type", flat=True)) == ["miniprogram", "wecom"]
    events = AuditEvent.objects.filter(action="brand.imported")
    assert events.count() == 2
    event = events.get(brand=luckin)
    assert event.actor is None and event.data["created"] is True and event.data["line"] == 1
    assert not Membership.objects.exists()  # an import makes no one a member


def test_reimport_updates_profile_replaces_channels_and_keeps_id_status_and_credit_code():
    brands_import(path_or_lines=jsonl(brand_line()), approve=True)
    luckin = Brand.objects.get(slug="luckin-coffee")
    changed = brand_line(
        name="瑞幸",
        price_tier=3,
        credit_code=...,
        audience={"regions": ["CN-GD"]},
        channels=[{"type": "app", "size": 1000, "active_rate": 0.5, "label": "App"}],
    )
    result = brands_import(path_or_lines=jsonl(changed))
    assert (result.created, result.updated) == (0, 1)
    again = Brand.objects.get(slug="luckin-coffee")
    assert again.pk == luckin.pk and Brand.objects.count() == 1
    assert (again.name, again.price_tier, again.audience) == ("瑞幸", 3, {"regions": ["CN-GD"]})
    assert again.credit_code == LUCKIN["credit_code"]  # a line without a code never erases one
    assert again.status == BrandStatus.APPROVED
    assert list(again.channels.values_list("type", "size", "label")) == [("app", 1000, "App")]
    assert again.active_audience == 500
    assert AuditEvent.objects.filter(brand=again, action="brand.imported", data__created=False).count() == 1


def test_approve_flag_approves_new_and_pending_brands_and_audits_each(existing):
    pending = BrandFactory(slug="pending-one", status=BrandStatus.PENDING, category=category("pets"))
    rejected = BrandFactory(slug="rejected-one", status=BrandStatus.REJECTED, category=category("pets"))
    rows = [
        brand_line(),
        {"slug": "pending-one", "name": "P", "category": "pets"},
        {"slug": "rejected-one", "name": "R", "category": "pets"},
    ]
    result = brands_import(path_or_lines=jsonl(*rows), approve=True)
    assert (result.created, result.updated, result.approved) == (1, 2, 2)
    assert Brand.objects.get(slug="luckin-coffee").status == BrandStatus.APPROVED
    pending.refresh_from_db()
    rejected.refresh_from_db()
    assert pending.status == BrandStatus.APPROVED and pending.status_changed_at is not None
    assert rejected.status == BrandStatus.REJECTED  # approve only moves pending brands, as the workflow does
    approvals = AuditEvent.objects.filter(action=AuditAction.BRAND_APPROVED)
    assert sorted(approvals.values_list("brand__slug", flat=True)) == ["luckin-coffee", "pending-one"]
    assert all(e.actor is None and e.data == {"from": "pending", "to": "approved"} for e in approvals)
    # no reason text frozen in the importer's language (an English page showed "批量导入时通过")
    assert all(e.reason == "" for e in approvals)


def test_blocked_resolves_to_a_later_line_and_to_an_existing_brand_and_is_replaced_on_reimport(existing):
    rows = [
        brand_line(blocked=["pop-mart", "panda-bubuzou"]),
        {"slug": "panda-bubuzou", "name": "熊猫不走", "category": "food.bakery"},
    ]
    result = brands_import(path_or_lines=jsonl(*rows))
    assert result.blocks == 2
    luckin = Brand.objects.get(slug="luckin-coffee")
    assert sorted(luckin.blocks.values_list("blocked__slug", flat=True)) == ["panda-bubuzou", "pop-mart"]
    brands_import(path_or_lines=jsonl(brand_line(blocked=["pop-mart"])))
    assert list(luckin.blocks.values_list("blocked__slug", flat=True)) == ["pop-mart"]


def test_blank_lines_are_skipped_but_still_counted_in_line_numbers():
    with pytest.raises(BrandImportError) as exc:
        brands_import(path_or_lines=jsonl("", OTHER, "  ", brand_line(price_tier=7)))
    assert [p.line for p in exc.value.problems] == [4]


def test_one_summary_signal_after_commit_instead_of_one_per_brand(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, brand_ids, **kwargs):
        received.append(sorted(brand_ids))

    brands_imported.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            brands_import(path_or_lines=jsonl(brand_line(), OTHER))
    finally:
        brands_imported.disconnect(receiver)
    assert received == [sorted(Brand.objects.values_list("pk", flat=True))]


def test_import_by_a_non_admin_is_refused():
    user = UserFactory()
    with pytest.raises(Exception) as exc:
        brands_import(path_or_lines=jsonl(brand_line()), actor=Actor(user=user))
    assert "permission_denied" in str(getattr(exc.value, "error_dict", {}).get("__all__", [None])[0].code)
    assert not Brand.objects.exists()


def test_progress_is_reported_while_validating_and_writing(monkeypatch):
    monkeypatch.setattr(importer, "PROGRESS_EVERY", 5)
    rows = [
        {
            "slug": f"brand-{i}",
            "name": f"品牌{i}",
            "category": "pets",
            "channels": [{"type": "wecom", "size": 10, "active_rate": 0.5}],
        }
        for i in range(12)
    ]
    messages: list[str] = []
    brands_import(path_or_lines=jsonl(*rows), progress=messages.append)
    assert any(m.startswith("validated: 10 ") for m in messages), messages
    assert any(m.startswith("brands written: 12/12") for m in messages), messages
    assert any(m.startswith("audit events written: 12/12") for m in messages), messages
    assert all("/s)" in m for m in messages if ":" in m and "written" in m)


# --- the command ---------------------------------------------------------------------------------
def write(tmp_path: Path, *rows) -> str:
    path = tmp_path / "brands.jsonl"
    path.write_text("\n".join(jsonl(*rows)) + "\n", encoding="utf-8")
    return str(path)


def test_command_imports_and_reports_counts(tmp_path, capsys):
    path = write(tmp_path, brand_line(), OTHER)
    call_command("import_brands", path, "--approve")
    out, err = capsys.readouterr()
    assert "2" in out and Brand.objects.filter(status=BrandStatus.APPROVED).count() == 2
    assert "validated 2 brands" in err  # progress goes to stderr


def test_command_lists_every_bad_line_on_stderr_and_exits_non_zero(tmp_path, capsys, existing, monkeypatch):
    path = write(tmp_path, OTHER, brand_line(price_tier=9, audience={"regions": ["CN-XX"]}))
    before = counts()
    command = load_command_class(get_commands()["import_brands"], "import_brands")
    # run_from_argv (what manage.py calls) closes DB connections when done; keep the test's open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exc:
        command.run_from_argv(["manage.py", "import_brands", path, "--approve"])
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert "line 2: price_tier: price tier must be from 1 (mass) to 5 (luxury), got 9." in err
    assert "line 2: audience.regions: CN-XX is not an ISO 3166-2:CN region code" in err
    assert "nothing was imported" in err
    assert counts() == before


def test_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_brands", str(tmp_path / "nope.jsonl"))


def test_reimport_without_price_tier_keeps_the_tier_and_a_new_brand_gets_the_default():
    brands_import(path_or_lines=jsonl(brand_line(price_tier=5)))
    brands_import(path_or_lines=jsonl(brand_line(price_tier=..., name="瑞幸"), OTHER))
    luckin = Brand.objects.get(slug="luckin-coffee")
    assert (luckin.name, luckin.price_tier) == ("瑞幸", 5)
    assert Brand.objects.get(slug=OTHER["slug"]).price_tier == 3


def test_command_reports_a_row_the_database_refuses_cleanly_and_writes_nothing(tmp_path, capsys, monkeypatch):
    # Validation is the first line of defence; if the database still refuses a row (here a
    # negative size slipped past a stubbed validator) the command must exit 1, not crash.
    real = importer.validation.clean_channels

    def lenient(value):
        rows = real([{**c, "size": 1} for c in value or []])
        return [{**r, "size": -5} for r in rows]

    monkeypatch.setattr(importer.validation, "clean_channels", lenient)
    path = write(tmp_path, brand_line())
    command = load_command_class(get_commands()["import_brands"], "import_brands")
    monkeypatch.setattr(connections, "close_all", lambda: None)
    with pytest.raises(SystemExit) as exc:
        command.run_from_argv(["manage.py", "import_brands", path, "--quiet"])
    assert exc.value.code == 1
    assert "the database refused the import; nothing was written" in capsys.readouterr().err
    assert not Brand.objects.exists() and not Channel.objects.exists()


def test_nan_infinite_or_too_large_numbers_are_line_errors_not_crashes():
    lines = [
        '{"slug": "nan-brand", "name": "N", "category": "food.snacks", "channels": [{"type": "wecom", "size": NaN, "active_rate": 0.3}]}',
        '{"slug": "big-brand", "name": "B", "category": "food.snacks", "stores": 3000000000, '
        '"channels": [{"type": "wecom", "size": 1e19, "active_rate": Infinity}]}',
    ]
    with pytest.raises(BrandImportError) as exc:
        brands_import(path_or_lines=lines)
    found = {(p.line, p.field, p.code) for p in exc.value.problems}
    assert (1, "channels[0].size", "invalid") in found
    assert {
        (2, "stores", "out_of_range"),
        (2, "channels[0].size", "out_of_range"),
        (2, "channels[0].active_rate", "invalid"),
    } <= found
    assert not Brand.objects.exists()


def test_reimport_keeps_the_verification_of_unchanged_channels_and_resets_changed_ones():
    from django.utils import timezone

    brands_import(path_or_lines=jsonl(brand_line()))
    luckin = Brand.objects.get(slug="luckin-coffee")
    verified_at = timezone.now() - timezone.timedelta(days=7)
    luckin.channels.update(verification="audited", verified_at=verified_at)
    changed = brand_line(
        channels=[
            {"type": "wecom", "size": 1200000, "active_rate": 0.35},  # unchanged
            {"type": "miniprogram", "size": 25000000, "active_rate": 0.1},  # size changed
            {"type": "app", "size": 10, "active_rate": 0.5, "verification": "api"},  # new, set by the platform's file
        ]
    )
    brands_import(path_or_lines=jsonl(changed))
    got = {c.type: (c.verification, c.verified_at) for c in luckin.channels.all()}
    assert got["wecom"] == ("audited", verified_at)
    assert got["miniprogram"] == ("self_reported", None)
    assert got["app"][0] == "api" and got["app"][1] is not None
