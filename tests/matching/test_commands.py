"""The management commands: import_outcomes, train_matcher, recommend, evaluate_matcher."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from matching.models import MatcherModel, Outcome, Recommendation
from partners.models import BrandStatus
from tests.factories import make_brand

pytestmark = pytest.mark.django_db


def run(*args) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def brands():
    return {
        "coffee": make_brand("coffee-a", "beverage.coffee"),
        "bakery": make_brand("bakery-a", "food.bakery"),
        "snacks": make_brand("snacks-a", "food.snacks"),
        "fitness": make_brand("fitness-a", "fitness", scale=400_000),
        "pending": make_brand("pending-a", "pets", status=BrandStatus.PENDING),
    }


def write_lines(tmp_path, lines: list) -> str:
    path = tmp_path / "outcomes.jsonl"
    path.write_text(
        "\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n", "utf-8"
    )
    return str(path)


def test_import_outcomes_writes_every_valid_line(brands, tmp_path):
    path = write_lines(
        tmp_path,
        [
            {"a": "coffee-a", "b": "bakery-a", "outcome": "completed", "a_new_members": 120, "b_new_members": 95},
            {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
            "",
            {"a": "bakery-a", "b": "fitness-a", "outcome": "accepted"},
        ],
    )
    out, _ = run("import_outcomes", path)
    assert "3" in out
    # each kind by its label, never its code
    assert "Accepted 1, Completed 1, Declined 1" in out and "completed 1" not in out
    done = Outcome.objects.get(outcome="completed")
    assert (done.brand_a, done.brand_b, done.a_new_members, done.b_new_members) == (
        brands["coffee"],
        brands["bakery"],
        120,
        95,
    )
    assert Outcome.objects.count() == 3


def test_importing_the_same_file_twice_counts_its_swaps_once(brands, tmp_path):
    lines = [
        {"a": "coffee-a", "b": "bakery-a", "outcome": "completed", "a_new_members": 120, "b_new_members": 95},
        {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
        {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},  # the same pair tried twice: two swaps
        {"id": "crm-17", "a": "bakery-a", "b": "fitness-a", "outcome": "accepted"},
    ]
    path = write_lines(tmp_path, lines)
    run("import_outcomes", path)
    assert Outcome.objects.count() == 4
    out, _ = run("import_outcomes", path)
    assert Outcome.objects.count() == 4
    assert "Imported 0 outcomes" in out and "Skipped 4 already imported" in out
    # a later export with one more swap of the same pair: only the new one is added
    longer = write_lines(tmp_path, [*lines, {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"}])
    out, _ = run("import_outcomes", longer)
    assert Outcome.objects.count() == 5 and "Imported 1 outcomes" in out
    assert Outcome.objects.filter(brand_a=brands["coffee"], brand_b=brands["snacks"]).count() == 3


def test_rows_imported_before_keys_are_backfilled_so_the_file_still_counts_once(brands, tmp_path):
    lines = [
        {"a": "coffee-a", "b": "bakery-a", "outcome": "completed", "a_new_members": 120, "b_new_members": 95},
        {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
        {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
        {"id": "crm-17", "a": "bakery-a", "b": "fitness-a", "outcome": "accepted"},
    ]
    # what an import before Outcome.key wrote: the same swaps, no key (one declined swap only)
    legacy = [
        Outcome.objects.create(
            brand_a=brands["coffee"], brand_b=brands["bakery"], outcome="completed", a_new_members=120, b_new_members=95
        ),
        Outcome.objects.create(brand_a=brands["coffee"], brand_b=brands["snacks"], outcome="declined"),
        Outcome.objects.create(brand_a=brands["bakery"], brand_b=brands["fitness"], outcome="accepted"),
        # same brands, other members: another swap, not claimed
        Outcome.objects.create(
            brand_a=brands["coffee"], brand_b=brands["bakery"], outcome="completed", a_new_members=1
        ),
    ]
    path = write_lines(tmp_path, lines)
    out, _ = run("import_outcomes", path)
    assert "Imported 1 outcomes" in out and "Skipped 3 already imported" in out
    assert "3 were imported before outcomes had keys" in out
    assert Outcome.objects.count() == 5
    assert all(Outcome.objects.get(pk=o.pk).key for o in legacy[:3])
    assert Outcome.objects.get(pk=legacy[3].pk).key is None
    assert Outcome.objects.get(pk=legacy[2].pk).key == "import:id:crm-17"
    # and again: nothing counts twice, nothing left to backfill
    out, _ = run("import_outcomes", path)
    assert Outcome.objects.count() == 5
    assert (
        "Imported 0 outcomes" in out and "Skipped 4 already imported" in out and "before outcomes had keys" not in out
    )
    assert Outcome.objects.filter(brand_a=brands["coffee"], brand_b=brands["snacks"]).count() == 2


def test_an_exchange_outcome_is_never_taken_for_an_imported_line(brands, tmp_path):
    from matching.models import OutcomeSource

    Outcome.objects.create(
        brand_a=brands["coffee"], brand_b=brands["snacks"], outcome="declined", source=OutcomeSource.EXCHANGE
    )
    out, _ = run("import_outcomes", write_lines(tmp_path, [{"a": "coffee-a", "b": "snacks-a", "outcome": "declined"}]))
    assert "Imported 1 outcomes" in out and Outcome.objects.count() == 2


def test_import_outcomes_refuses_a_repeated_or_bad_id(brands, tmp_path):
    path = write_lines(
        tmp_path,
        [
            {"id": "x-1", "a": "coffee-a", "b": "bakery-a", "outcome": "accepted"},
            {"id": "x-1", "a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
            {"id": "", "a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
            {"id": 5, "a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
        ],
    )
    with pytest.raises(CommandError):
        call_command("import_outcomes", path, stdout=StringIO(), stderr=(err := StringIO()))
    report = err.getvalue()
    assert "line 2: id: the same id as line 1; each swap once." in report
    assert "line 3: id: must be a text of 1 to 60 printable characters." in report
    assert "line 4: id: must be a text" in report
    assert not Outcome.objects.exists()


def test_import_outcomes_with_bad_lines_reports_each_and_writes_nothing(brands, tmp_path):
    path = write_lines(
        tmp_path,
        [
            {"a": "coffee-a", "b": "bakery-a", "outcome": "completed", "a_new_members": 120},
            {"a": "coffee-a", "b": "no-such-brand", "outcome": "declined"},
            {"a": "coffee-a", "b": "snacks-a", "outcome": "won"},
            "{not json",
            {"a": "coffee-a", "b": "coffee-a", "outcome": "declined"},
            {"a": "coffee-a", "b": "snacks-a", "outcome": "declined", "a_new_members": 3},
            {"a": "coffee-a", "b": "snacks-a", "outcome": "completed", "a_new_members": -1, "colour": "red"},
        ],
    )
    with pytest.raises(CommandError, match="6"):
        call_command("import_outcomes", path, stdout=StringIO(), stderr=(err := StringIO()))
    report = err.getvalue()
    assert "line 2: b: no brand with slug no-such-brand." in report
    assert "line 3: outcome: must be one of accepted, declined, completed" in report
    assert "line 4: json: not valid JSON" in report
    assert "line 5: b: a and b must be two different brands." in report
    assert "line 6: a_new_members: new members are only reported for completed swaps." in report
    assert "line 7: a_new_members: must be a whole number ≥ 0." in report
    assert "line 7: colour: unknown field" in report
    assert "line 1" not in report
    assert not Outcome.objects.exists()


def test_import_outcomes_missing_file_is_an_error(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_outcomes", str(tmp_path / "nope.jsonl"))


def test_recommend_prints_a_table_with_reasons(brands):
    out, _ = run("recommend", "coffee-a", "--top", "2", "--language", "zh-hans")
    assert out.splitlines()[0].startswith("coffee-a")
    assert "规模" in out and "·" in out
    assert len(Recommendation.objects.filter(brand=brands["coffee"])) == 3  # pending-a is never recommended
    assert "pending-a" not in out


def test_recommend_json(brands):
    out, _ = run("recommend", "coffee-a", "--top", "2", "--json", "--language", "en")
    data = json.loads(out)
    assert data["brand"] == "coffee-a"
    assert len(data["matches"]) == 2
    for m in data["matches"]:
        assert set(m) == {"brand", "score", "reasons"} and 0 <= m["score"] <= 1 and 2 <= len(m["reasons"]) <= 4
        assert m["brand"] in {"bakery-a", "snacks-a", "fitness-a"}
        assert any("active audience" in r for r in m["reasons"])


def test_recommend_refuses_unknown_or_unapproved_brand(brands):
    with pytest.raises(CommandError, match="no brand"):
        run("recommend", "nope", "--top", "3")
    with pytest.raises(CommandError, match="not approved"):
        run("recommend", "pending-a", "--top", "3")


def test_recommend_all_writes_one_json_line_per_approved_brand(brands, tmp_path):
    out_path = tmp_path / "all.jsonl"
    _, err = run("recommend", "--all", "--refresh", "--top", "2", "--out", str(out_path))
    assert "ranked" in err  # progress on stderr
    lines = [json.loads(x) for x in out_path.read_text("utf-8").splitlines()]
    assert sorted(x["brand"] for x in lines) == ["bakery-a", "coffee-a", "fitness-a", "snacks-a"]
    for line in lines:
        assert 1 <= len(line["matches"]) <= 2
        assert all(m["brand"] not in (line["brand"], "pending-a") for m in line["matches"])
        assert all(2 <= len(m["reasons"]) <= 4 for m in line["matches"])


def test_train_matcher_refuses_without_outcomes_then_trains_and_activates(brands, tmp_path):
    with pytest.raises(CommandError, match="20"):
        run("train_matcher")
    assert not MatcherModel.objects.exists()
    pairs = [
        ("coffee-a", "bakery-a", "completed"),
        ("coffee-a", "snacks-a", "declined"),
        ("bakery-a", "fitness-a", "accepted"),
        ("snacks-a", "fitness-a", "declined"),
    ]
    path = write_lines(tmp_path, [{"a": a, "b": b, "outcome": o} for a, b, o in pairs * 6])
    run("import_outcomes", path)
    out, _ = run("train_matcher")
    # four brands, two with both a success and a failure: the gate cannot tell, nothing serves
    assert "model v1" in out and "NDCG@10" in out and "95% bootstrap interval" in out
    assert "Not activated: only 2 held-out brands" in out
    assert not MatcherModel.objects.filter(is_active=True).exists()
    out, _ = run("train_matcher", "--force")
    assert "model v2" in out and "The new model was activated." in out
    assert MatcherModel.objects.get(is_active=True).version == 2


def test_evaluate_matcher_prints_ndcg_ranking_and_no_competitors():
    out, _ = run("evaluate_matcher", "--brands", "1500", "--queries", "200")
    values = {line.split()[1]: float(line.split()[2]) for line in out.splitlines() if line.startswith("NDCG@10")}
    assert values["trained"] > values["heuristic"] > values["random"]
    assert "competitor pairs recommended: 0 of" in out


def test_recommend_all_exports_the_stored_lists_without_rewriting_them(brands, tmp_path):
    from matching.services import recommendations_refresh_all

    recommendations_refresh_all()
    before = {(r.pk, r.created_at) for r in Recommendation.objects.all()}
    out_path = tmp_path / "all.jsonl"
    run("recommend", "--all", "--top", "2", "--out", str(out_path))
    assert {(r.pk, r.created_at) for r in Recommendation.objects.all()} == before  # an export only reads
    lines = [json.loads(x) for x in out_path.read_text("utf-8").splitlines()]
    assert sorted(x["brand"] for x in lines) == ["bakery-a", "coffee-a", "fitness-a", "snacks-a"]
    assert all(1 <= len(line["matches"]) <= 2 for line in lines)


def test_recommend_all_refresh_recomputes_every_list_first_when_asked(brands, tmp_path):
    out_path = tmp_path / "all.jsonl"
    _, err = run("recommend", "--all", "--refresh", "--top", "2", "--out", str(out_path))
    assert "ranked" in err
    assert Recommendation.objects.filter(brand=brands["coffee"]).exists()


def test_status_words_in_command_output_are_labels_not_codes(brands, tmp_path):
    from django.utils import translation

    with translation.override("zh-hans"), pytest.raises(CommandError) as refused:
        run("recommend", "pending-a", "--top", "3")
    assert "待审核" in str(refused.value) and "pending" not in str(refused.value).replace("pending-a", "")
    path = write_lines(
        tmp_path,
        [
            {"a": "coffee-a", "b": "bakery-a", "outcome": "completed"},
            {"a": "coffee-a", "b": "snacks-a", "outcome": "declined"},
        ],
    )
    with translation.override("zh-hans"):
        out, _ = run("import_outcomes", path)
    assert "已完成 1" in out and "已拒绝 1" in out and "completed" not in out and "declined" not in out


def test_load_demo_prints_role_labels(capsys):
    from django.utils import translation

    with translation.override("zh-hans"):
        out, _ = run("load_demo", "--generated", "0")
    assert "所有者" in out and "运营" in out and "平台管理员" in out
    for code in ("owner ", "marketer ", "admin "):
        assert code not in out, code
