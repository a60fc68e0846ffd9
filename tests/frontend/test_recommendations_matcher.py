"""The admins' matcher page: active model, training history, "retrain now" and its JSON status."""

from __future__ import annotations

from datetime import timedelta
from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from matching.models import MatcherModel, TrainingMessage, TrainingRun, TrainingState
from tests.conftest import wait_for
from tests.factories import AdminFactory, swap_history

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_matching_state")]

PAGE = "frontend:matcher"


@pytest.fixture
def outcomes(db):
    """36 past swaps: coffee × bakery completed, coffee × snacks declined."""
    make_outcomes()


def make_outcomes():
    # six coffee brands with both a success and a failure: enough held-out brands for the gate
    swap_history(coffees=6, bakeries=4, snacks=2, new_members=(300, 200))


def status_url(run) -> str:
    return reverse("frontend:matcher_run_status", args=[run.pk])


def test_anonymous_visitors_are_sent_to_sign_in(client):
    for response in (client.get(reverse(PAGE)), client.post(reverse("frontend:matcher_retrain"))):
        assert response["Location"].startswith(reverse("frontend:login"))
    assert not TrainingRun.objects.exists()


def test_non_staff_get_403_and_cannot_start_or_poll_training(owner_client, admin_user):
    run = TrainingRun.objects.create(requested_by=admin_user)
    assert owner_client.get(reverse(PAGE)).status_code == 403
    assert owner_client.post(reverse("frontend:matcher_retrain")).status_code == 403
    assert owner_client.get(status_url(run)).status_code == 403
    assert TrainingRun.objects.count() == 1


def test_cold_start_page_says_the_heuristic_serves(admin_client_):
    html = admin_client_.get(reverse(PAGE)).content.decode()
    assert "还没有训练过的模型。" in html
    assert "立即重新训练" in html
    assert "还没有训练记录。" in html


def test_staff_navigation_and_review_queue_link_to_the_matcher(admin_client_):
    html = admin_client_.get(reverse("frontend:queue")).content.decode()
    assert html.count(f'href="{reverse(PAGE)}"') == 2  # the top bar and the queue's header


def test_retrain_runs_the_task_and_the_page_shows_the_new_active_model(
    admin_client_, admin_user, outcomes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the task runs on commit
        response = admin_client_.post(reverse("frontend:matcher_retrain"))
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(PAGE) + f"?run={run.pk}"
    assert run.requested_by == admin_user and run.state == TrainingState.SUCCEEDED
    model = MatcherModel.objects.get(is_active=True)
    assert run.model == model and run.activated

    status = admin_client_.get(status_url(run)).json()
    assert status["state"] == "succeeded" and status["finished"] is True and status["progress"] == 1.0
    assert status["model_version"] == model.version and status["activated"] is True
    assert status["metrics"]["outcomes"] == 36

    html = admin_client_.get(response["Location"]).content.decode()
    assert 'data-finished="true"' in html
    assert f"模型 v{model.version} 已用 36 条置换结果训练完成。" in html
    assert "它已成为当前模型" in html
    assert "新模型已启用。" in html  # the run's result, translated
    # the gate's numbers: NDCG@10 on held-out brands, against the heuristic, with the interval
    assert "留出品牌 NDCG@10（本模型）" in html and f"{model.metrics['ndcg']:.3f}" in html
    assert f"[{model.metrics['ndcg_diff_low']:+.3f}, {model.metrics['ndcg_diff_high']:+.3f}]" in html
    assert 'id="serving-components"' in html  # what the serving model weighs
    assert "规模差距" in html and "年龄段重合度" in html and "scale_gap" not in html  # features, by their labels
    assert 'id="training-runs"' in html and f'data-run="{run.pk}"' in html


def test_training_without_enough_outcomes_fails_visibly_and_keeps_the_heuristic(
    admin_client_, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("frontend:matcher_retrain"))
    run = TrainingRun.objects.get()
    assert run.state == TrainingState.FAILED
    assert not MatcherModel.objects.exists()
    status = admin_client_.get(status_url(run)).json()
    assert status["state"] == "failed" and status["finished"] is True and status["model_version"] is None
    html = admin_client_.get(response["Location"]).content.decode()
    assert "训练失败，当前模型未改变。" in html


def test_a_queued_run_is_followed_until_it_finishes(admin_client_, admin_user):
    run = TrainingRun.objects.create(
        requested_by=admin_user, state=TrainingState.RUNNING, progress=0.5, message_code=TrainingMessage.EVALUATING
    )
    html = admin_client_.get(reverse(PAGE)).content.decode()
    assert f'data-status-url="{status_url(run)}"' in html and 'data-finished="false"' in html
    assert "正在用留出集评估" in html
    assert '<button class="btn btn-primary" type="submit" disabled>立即重新训练</button>' in html  # one run at a time
    status = admin_client_.get(status_url(run), HTTP_ACCEPT_LANGUAGE="en").json()
    assert status == {
        **status,
        "state": "running",
        "finished": False,
        "progress": 0.5,
        "message": "Evaluating on the hold-out set",
        "state_label": "Running",
    }


def test_force_flag_is_passed_to_the_run(admin_client_):
    admin_client_.post(reverse("frontend:matcher_retrain"), {"force": "1"})
    assert TrainingRun.objects.get().force is True


def test_unknown_run_is_404(admin_client_):
    assert admin_client_.get(reverse("frontend:matcher_run_status", args=[424242])).status_code == 404


def test_a_run_stuck_for_half_an_hour_no_longer_blocks_retraining(admin_client_, admin_user):
    TrainingRun.objects.create(
        requested_by=admin_user, state=TrainingState.QUEUED, created_at=timezone.now() - timedelta(minutes=31)
    )
    html = admin_client_.get(reverse(PAGE)).content.decode()
    assert "匹配 worker 可能已停止" in html
    assert '<button class="btn btn-primary" type="submit">立即重新训练</button>' in html


@pytest.mark.worker
def test_retrain_while_a_run_is_in_progress_is_refused_with_the_services_error(admin_client_, admin_user):
    TrainingRun.objects.create(requested_by=admin_user, state=TrainingState.RUNNING)
    admin_client_.cookies.load({"django_language": "en"})
    response = admin_client_.post(reverse("frontend:matcher_retrain"), follow=True)
    assert response.redirect_chain[-1][0] == reverse(PAGE)
    assert "A training run is already in progress; wait until it finishes." in response.content.decode()
    assert TrainingRun.objects.count() == 1


def test_retrain_on_a_real_worker_is_polled_from_queued_to_succeeded(celery_worker, client):
    """The page's poller against a real Celery worker: the JSON endpoint reports the run
    unfinished first, then finished with the new model."""
    # An earlier transactional test's flush removes the taxonomy its data migration loaded.
    import_module("partners.migrations.0002_taxonomy").load_taxonomy(apps, None)
    make_outcomes()
    client.force_login(AdminFactory())
    response = client.post(reverse("frontend:matcher_retrain"))  # commits → Redis → the worker
    run = TrainingRun.objects.get()
    assert response["Location"] == reverse(PAGE) + f"?run={run.pk}"
    seen = []

    def finished():
        data = client.get(status_url(run)).json()
        seen.append(data["state"])
        return data if data["finished"] else None

    data = wait_for(finished, timeout=90, interval=0.05)
    assert seen[0] in ("queued", "running")  # the page had something to poll
    assert data["state"] == "succeeded" and data["model_version"] == 1 and data["activated"] is True
    assert MatcherModel.objects.get(is_active=True).version == 1
    html = client.get(reverse(PAGE) + f"?run={run.pk}").content.decode()
    assert 'data-finished="true"' in html and "模型 v1 已用 36 条置换结果训练完成。" in html


# --- Which ranker serves, and why ------------------------------------------------------------------
@pytest.fixture
def below_heuristic(monkeypatch):
    from matching import training

    real_fit = training.fit

    def fit(*args, **kwargs):
        artefact, metrics = real_fit(*args, **kwargs)
        metrics.update(
            gate=training.GATE_NOT_BETTER, ndcg=0.676, ndcg_baseline=0.681, ndcg_diff_low=-0.021, ndcg_diff_high=0.012
        )
        return artefact, metrics

    monkeypatch.setattr(training, "fit", fit)


def serving(html: str) -> str:
    start = html.index('id="serving"')
    return html[start : html.index("</p>", start)]


def test_cold_start_page_says_the_heuristic_serves_because_no_model_was_trained(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    box = serving(admin_client_.get(reverse(PAGE)).content.decode())
    assert 'data-serving="heuristic"' in box and "no model has been trained yet" in box


def test_a_model_below_the_heuristic_is_not_advertised_as_serving(
    admin_client_, outcomes, below_heuristic, django_capture_on_commit_callbacks
):
    admin_client_.cookies.load({"django_language": "en"})
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client_.post(reverse("frontend:matcher_retrain"))
    assert not MatcherModel.objects.filter(is_active=True).exists()
    html = admin_client_.get(response["Location"]).content.decode()
    box = serving(html)
    assert 'data-serving="heuristic"' in box and "Serving: the heuristic" in box
    assert "the latest model, v1, did not beat it beyond the noise on held-out brands" in box
    assert "NDCG@10 0.676 against 0.681, difference 95% interval -0.021 to +0.012" in box
    assert "Not activated: on held-out brands its NDCG@10 was 0.676 against the heuristic&#x27;s 0.681" in html
    assert "Of model v1, which is not active." in html  # its metrics say why


def test_a_forced_model_below_the_heuristic_is_shown_as_activated_by_hand(
    admin_client_, outcomes, below_heuristic, django_capture_on_commit_callbacks
):
    admin_client_.cookies.load({"django_language": "en"})
    with django_capture_on_commit_callbacks(execute=True):
        admin_client_.post(reverse("frontend:matcher_retrain"), {"force": "1"})
    box = serving(admin_client_.get(reverse(PAGE)).content.decode())
    assert 'data-serving="model"' in box and 'data-reason="gate_forced"' in box
    assert "Serving: model v1" in box and "activated by hand" in box


def test_a_model_no_lower_than_the_heuristic_serves_with_its_numbers(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    MatcherModel.objects.create(
        version=3, is_active=True, metrics={"auc": 0.712, "auc_heuristic": 0.681}, artefact=b"", features=[]
    )
    box = serving(admin_client_.get(reverse(PAGE)).content.decode())
    assert "Serving: model v3" in box and "scored AUC 0.712, no lower than the heuristic&#x27;s 0.681" in box


# --- What serves, the latest gate, and what the serving ranker weighs ----------------------------
def _trained_artefact(version: int, blend: float) -> bytes:
    """A model that learned only the region overlap matters (what its weights must say)."""
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from matching import ranker

    rng = np.random.default_rng(3)
    X = rng.random((600, len(ranker.LEARNED_FEATURES)))
    y = X[:, ranker.LEARNED_FEATURES.index("region_overlap")] > 0.5
    art = ranker.Artefact(version=version, model=HistGradientBoostingClassifier(max_iter=20).fit(X, y))
    art.features, art.blend_weight = ranker.LEARNED_FEATURES, blend
    return art.dumps()


def section(html: str, id_: str) -> str:
    start = html.index(f'id="{id_}"')
    return html[start : html.index("</section>", start)]


GATE = {
    "gate": "passed",
    "baseline": "heuristic",
    "ndcg": 0.741,
    "ndcg_baseline": 0.702,
    "ndcg_diff": 0.039,
    "ndcg_diff_low": 0.012,
    "ndcg_diff_high": 0.066,
    "eval_queries": 48,
    "folds": 5,
    "repeats": 3,
    "blend_weight": 0.4,
    "group_weights": {"scale": 0.2, "positioning": 0.2, "audience": 0.45, "category": 0.15},
}


def test_the_page_says_what_serves_the_latest_gates_numbers_and_the_models_weights(admin_client_, admin_user):
    admin_client_.cookies.load({"django_language": "en"})
    model = MatcherModel.objects.create(
        version=4,
        is_active=True,
        blend_weight=0.4,
        metrics=GATE,
        artefact=_trained_artefact(4, 0.4),
        features=["region_overlap"],
    )
    TrainingRun.objects.create(
        state=TrainingState.SUCCEEDED,
        progress=1.0,
        model=model,
        activated=True,
        metrics=GATE,
        requested_by=admin_user,
        finished_at=timezone.now(),
        message_code=TrainingMessage.ACTIVATED,
    )
    html = admin_client_.get(reverse(PAGE)).content.decode()
    box = serving(html)
    assert "Serving: model v4" in box and "Served score = 0.60 × heuristic + 0.40 × learned score." in box
    gate = section(html, "latest-gate")
    for text in (
        "NDCG@10 of the new model v4</dt><dd>0.741",
        "NDCG@10 of the heuristic (serving)</dt><dd>0.702",
        "Difference (95% bootstrap interval)</dt><dd>+0.039 [+0.012, +0.066]",
        "Held-out brands</dt><dd>48 · 5 folds by brand × 3 repeats",
        "Activated: model v4 serves now.",
    ):
        assert text in gate, text
    weights = section(html, "serving-weights")
    assert "What model v4 weighs" in weights and "45%" in weights
    features = weights[weights.index('id="serving-features"') :]
    assert features.index("Region overlap") < features.index("</dl>")  # the feature it learned leads


def test_a_refused_run_says_why_and_the_heuristics_weights_are_shown(admin_client_, admin_user):
    admin_client_.cookies.load({"django_language": "en"})
    refused = {**GATE, "gate": "not_better", "ndcg": 0.70, "ndcg_diff": -0.002, "ndcg_diff_low": -0.02}
    model = MatcherModel.objects.create(version=2, metrics=refused, artefact=b"", features=[])
    TrainingRun.objects.create(
        state=TrainingState.SUCCEEDED,
        progress=1.0,
        model=model,
        metrics=refused,
        requested_by=admin_user,
        finished_at=timezone.now(),
        message_code=TrainingMessage.NOT_BETTER_THAN_HEURISTIC,
        message_params={"ndcg": "0.700", "baseline": "0.702", "low": "-0.020", "high": "+0.066"},
    )
    html = admin_client_.get(reverse(PAGE)).content.decode()
    assert "Served score = the heuristic alone (no learned score)." in serving(html)
    gate = section(html, "latest-gate")
    assert "refused: the difference is within the noise or below zero" in gate
    assert "Not activated: on held-out brands its NDCG@10 was 0.700" in gate
    weights = section(html, "serving-weights")
    assert "What the heuristic weighs" in weights and "30%" in weights and 'id="serving-features"' not in weights


def test_a_model_trained_by_a_command_shows_its_gate_decision_without_a_run(admin_client_):
    admin_client_.cookies.load({"django_language": "en"})
    refused = {**GATE, "gate": "not_better", "ndcg_diff_low": -0.004}
    MatcherModel.objects.create(version=5, metrics=refused, artefact=b"", features=[])
    html = admin_client_.get(reverse(PAGE)).content.decode()
    gate = section(html, "latest-gate")
    assert "Model v5, trained" in gate and "by a command" in gate
    assert "+0.039 [-0.004, +0.066]" in gate and "Not activated: the heuristic keeps serving." in gate
