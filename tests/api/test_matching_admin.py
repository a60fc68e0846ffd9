"""Admin-only matcher lifecycle: matcherModels, activeMatcherModel, trainingRuns, trainingRun,
retrainMatcher. Admins see and act; members, keys and anonymous callers see nothing and are
refused."""

from __future__ import annotations

import itertools

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from matching.market import reset_cache
from matching.models import MatcherModel, Outcome, OutcomeKind, TrainingRun, TrainingState
from tests.api.conftest import gid, session
from tests.factories import BrandFactory, ChannelFactory, category

MODELS = """{
  matcherModels(first: 50) { edges { node { id version createdAt trainingSize features metrics blendWeight isActive activatedAt } } }
  activeMatcherModel { version isActive metrics }
}"""
RUNS = """{ trainingRuns(first: 50) { edges { node {
  id state progress message force activated metrics requestedBy createdAt finishedAt model { version isActive }
} } } }"""
RUN = "query($id: ID!) { trainingRun(id: $id) { id state progress message activated model { version isActive trainingSize metrics } } }"
RETRAIN = """mutation($force: Boolean) {
  retrainMatcher(force: $force) { trainingRun { id state progress force requestedBy } errors { field code message } }
}"""


def make_model(version: int, *, active: bool = False, auc: float = 0.7) -> MatcherModel:
    return MatcherModel.objects.create(
        version=version,
        training_size=100 * version,
        features=["scale_fit", "tier_gap", "category_rate"],
        metrics={"auc": auc, "outcomes": 100 * version},
        blend_weight=0.4,
        artefact=b"not-a-real-artefact",
        is_active=active,
    )


@pytest.fixture
def models(db):
    return [make_model(1), make_model(2, active=True, auc=0.74), make_model(3, auc=0.71)]


@pytest.fixture
def runs(models, admin_user):
    return [
        TrainingRun.objects.create(
            state=TrainingState.SUCCEEDED, progress=1.0, model=models[1], activated=True, requested_by=admin_user
        ),
        TrainingRun.objects.create(state=TrainingState.QUEUED),
    ]


def _non_admins(owner, write_key, read_key, anon_client):
    from tests.api.conftest import with_key

    return {
        "owner": session(owner),
        "write_key": with_key(write_key[1]),
        "read_key": with_key(read_key[1]),
        "anonymous": anon_client,
    }


# --- matcherModels / activeMatcherModel ------------------------------------------------------------
def test_admin_sees_every_model_newest_first_and_the_active_one(as_admin, models):
    data = as_admin(MODELS)
    nodes = [e["node"] for e in data["matcherModels"]["edges"]]
    assert [n["version"] for n in nodes] == [3, 2, 1]
    assert [n["isActive"] for n in nodes] == [False, True, False]
    v2 = nodes[1]
    assert v2["id"] == gid("MatcherModel", models[1].pk)
    assert v2["trainingSize"] == 200 and v2["features"] == ["scale_fit", "tier_gap", "category_rate"]
    assert v2["metrics"] == {"auc": 0.74, "outcomes": 200} and v2["blendWeight"] == 0.4
    assert data["activeMatcherModel"] == {"version": 2, "isActive": True, "metrics": {"auc": 0.74, "outcomes": 200}}


def test_no_active_model_is_null_for_admins(as_admin, db):
    make_model(1)
    assert as_admin(MODELS)["activeMatcherModel"] is None


def test_non_admins_see_no_models(owner, write_key, read_key, anon, models):
    for who, client in _non_admins(owner, write_key, read_key, anon).items():
        data = client(MODELS)
        assert data == {"matcherModels": {"edges": []}, "activeMatcherModel": None}, who


def test_model_artefact_is_not_in_the_schema():
    from api.schema import schema

    assert "artefact" not in schema.graphql_schema.get_type("MatcherModel").fields


# --- trainingRuns / trainingRun -------------------------------------------------------------------------
def test_admin_sees_training_runs_with_their_models(as_admin, runs, admin_user):
    nodes = [e["node"] for e in as_admin(RUNS)["trainingRuns"]["edges"]]
    assert [n["state"] for n in nodes] == ["queued", "succeeded"]  # newest first
    done = nodes[1]
    assert done["model"] == {"version": 2, "isActive": True}
    assert done["requestedBy"] == admin_user.email and done["activated"] is True and done["progress"] == 1.0
    assert nodes[0]["model"] is None and nodes[0]["requestedBy"] is None


def test_admin_polls_one_training_run(as_admin, runs):
    run = as_admin(RUN, {"id": gid("TrainingRun", runs[0].pk)})["trainingRun"]
    assert run["state"] == "succeeded" and run["model"]["version"] == 2


def test_non_admins_see_no_training_runs(owner, write_key, read_key, anon, runs):
    for who, client in _non_admins(owner, write_key, read_key, anon).items():
        assert client(RUNS) == {"trainingRuns": {"edges": []}}, who
        assert client(RUN, {"id": gid("TrainingRun", runs[0].pk)}) == {"trainingRun": None}, who


def test_training_run_id_is_type_checked(as_admin, runs):
    errors = as_admin.errors(RUN, {"id": gid("MatcherModel", runs[0].pk)})
    assert errors[0]["extensions"]["code"] == "invalid_id"


def test_training_runs_query_count_is_constant(as_admin, admin_user, db):
    def run(n: int) -> int:
        while TrainingRun.objects.count() < n:
            i = TrainingRun.objects.count() + 1
            TrainingRun.objects.create(model=make_model(i), requested_by=admin_user, state=TrainingState.SUCCEEDED)
        with CaptureQueriesContext(connection) as ctx:
            data = as_admin(RUNS)
        assert len(data["trainingRuns"]["edges"]) == n
        return len(ctx.captured_queries)

    assert run(2) == run(20)


def test_matcher_models_query_count_is_constant(as_admin, db):
    def run(n: int) -> int:
        while MatcherModel.objects.count() < n:
            make_model(MatcherModel.objects.count() + 1)
        with CaptureQueriesContext(connection) as ctx:
            data = as_admin(MODELS)
        assert len(data["matcherModels"]["edges"]) == n
        return len(ctx.captured_queries)

    assert run(2) == run(20)


# --- retrainMatcher -------------------------------------------------------------------------------------------
def _outcomes_market() -> None:
    """A dozen approved brands and 40 past swaps: those with a bakery completed, the rest declined
    (a category affinity the heuristic cannot know, so a trained model passes the gate)."""
    codes = ["food.bakery", "beauty.skincare", "apparel.sportswear", "home.furniture", "travel.hotels", "toys.kids"]
    brands = []
    for i in range(12):
        b = BrandFactory(category=category(codes[i % len(codes)]), active_audience=10_000 * (i + 1))
        ChannelFactory(brand=b, size=20_000 * (i + 1), active_rate=0.5)
        brands.append(b)
    pairs = [(a, b) for a, b in itertools.combinations(brands, 2) if a.category_id != b.category_id][:40]
    bakery = category("food.bakery").pk
    for a, b in pairs:
        done = bakery in (a.category_id, b.category_id)
        Outcome.objects.create(
            brand_a=a,
            brand_b=b,
            outcome=OutcomeKind.COMPLETED if done else OutcomeKind.DECLINED,
            a_new_members=(50 if done else None),
            b_new_members=(40 if done else None),
        )


def test_admin_retrains_and_the_task_trains_and_activates_a_model(
    as_admin, admin_user, db, django_capture_on_commit_callbacks
):
    _outcomes_market()
    reset_cache()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:  # eager Celery runs the task
        payload = as_admin(RETRAIN, {"force": False})["retrainMatcher"]
    assert payload["errors"] == [] and len(callbacks) == 1
    assert payload["trainingRun"]["state"] == "queued"  # as returned, before the task ran
    assert payload["trainingRun"]["requestedBy"] == admin_user.email and payload["trainingRun"]["force"] is False
    run = as_admin(RUN, {"id": payload["trainingRun"]["id"]})["trainingRun"]
    assert run["state"] == "succeeded" and run["progress"] == 1.0 and run["activated"] is True, run
    assert run["model"]["version"] == 1 and run["model"]["trainingSize"] == 40
    assert {"auc", "ndcg", "ndcg_baseline", "ndcg_diff_low", "gate"} <= set(run["model"]["metrics"])
    assert as_admin(MODELS)["activeMatcherModel"]["version"] == 1
    reset_cache()


def test_retrain_without_enough_outcomes_fails_visibly(as_admin, db, django_capture_on_commit_callbacks):
    reset_cache()
    with django_capture_on_commit_callbacks(execute=True):
        payload = as_admin(RETRAIN, {"force": True})["retrainMatcher"]
    run = as_admin(RUN, {"id": payload["trainingRun"]["id"]})["trainingRun"]
    assert run["state"] == "failed" and "20" in run["message"] and run["model"] is None
    assert MatcherModel.objects.count() == 0
    reset_cache()


@pytest.mark.parametrize(
    ("who", "code"),
    [
        ("owner", "permission_denied"),
        ("write_key", "permission_denied"),
        ("read_key", "read_only_key"),
        ("anonymous", "unauthenticated"),
    ],
)
def test_non_admins_may_not_retrain(owner, write_key, read_key, anon, who, code, django_capture_on_commit_callbacks):
    client = _non_admins(owner, write_key, read_key, anon)[who]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        payload = client(RETRAIN, {"force": True})["retrainMatcher"]
    assert payload["trainingRun"] is None
    assert [e["code"] for e in payload["errors"]] == [code]
    assert TrainingRun.objects.count() == 0 and callbacks == []
