"""Training from outcomes: the model lifecycle, and outcomes changing the ranking."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from matching import services
from matching.errors import MatchingError
from matching.models import MatcherModel, Outcome, OutcomeKind, Recommendation
from matching.selectors import model_active, model_history
from tests.factories import make_brand, swap_history

pytestmark = pytest.mark.django_db


@pytest.fixture
def history():
    """Coffee brands' swaps with bakeries always completed, with snack brands always declined."""
    me = make_brand("me-coffee", "beverage.coffee", scale=100_000)
    bakery = make_brand("target-bakery", "food.bakery", scale=60_000)  # a little less alike in scale…
    snacks = make_brand("target-snacks", "food.snacks", scale=100_000)  # …than the snack brand
    swap_history(coffees=6, bakeries=6, snacks=6, new_members=(300, 250))
    return me, bakery, snacks


def _rank(me, partner) -> int:
    return Recommendation.objects.get(brand=me, partner=partner).rank


def test_category_pair_with_strong_completed_outcomes_rises_after_training(history):
    me, bakery, snacks = history
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert _rank(me, snacks) < _rank(me, bakery)  # cold start: the heuristic prefers the closer scale

    result = services.matcher_train()
    assert result.activated and result.model.is_active
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert _rank(me, bakery) < _rank(me, snacks)
    rec = Recommendation.objects.get(brand=me, partner=bakery)
    assert rec.model_version == result.model.version
    assert rec.components["category"] > Recommendation.objects.get(brand=me, partner=snacks).components["category"]
    assert "品类互补：咖啡 × 烘焙，历史置换完成率 100%" in rec.reasons_zh
    assert "Complementary categories: Coffee × Bakery, 100% of past swaps completed" in rec.reasons_en


def test_trained_model_is_stored_with_its_metadata_and_only_one_is_active(history, admin_actor):
    first = services.matcher_train().model
    second = services.matcher_train(force=True).model
    assert second.version == first.version + 1
    assert MatcherModel.objects.filter(is_active=True).count() == 1
    assert model_active().pk == second.pk
    assert second.training_size == 72
    assert "category_rate" in second.features
    # the gate's numbers: NDCG@10 on held-out brands, against the serving ranker, with its interval
    assert {"ndcg", "ndcg_baseline", "ndcg_diff_low", "ndcg_diff_high", "eval_queries", "gate"} <= set(second.metrics)
    assert second.metrics["baseline"] == "model"  # v2 was compared with the serving v1
    assert [m.version for m in model_history(actor=admin_actor)] == [second.version, first.version]
    # Each activation is audited; without a run (command line, demo) the platform is the actor.
    from partners.models import AuditAction, AuditEvent

    events = AuditEvent.objects.filter(action=AuditAction.MATCHER_MODEL_ACTIVATED).order_by("id")
    assert [(e.object_id, e.actor, e.data["forced"], e.data["replaced"]) for e in events] == [
        (str(first.pk), None, False, None),
        (str(second.pk), None, True, first.version),
    ]


def test_dismissals_count_as_negative_outcomes(history, owner_actor):
    from partners.models import Membership, Role

    me, bakery, snacks = history
    Membership.objects.create(user=owner_actor.user, brand=me, role=Role.OWNER)
    services.recommendation_dismiss(actor=owner_actor, brand=me, partner=bakery)
    assert services.matcher_train().model.training_size == 73


def test_training_without_enough_outcomes_is_refused_and_heuristic_keeps_serving():
    a, b = make_brand("a-coffee", "beverage.coffee"), make_brand("b-bakery")
    Outcome.objects.create(brand_a=a, brand_b=b, outcome=OutcomeKind.COMPLETED)
    with pytest.raises(ValidationError) as exc:
        services.matcher_train()
    assert exc.value.error_dict["outcomes"][0].code == MatchingError.NOT_ENOUGH_OUTCOMES
    assert not MatcherModel.objects.exists()
    services.recommendations_refresh_brand(brand_id=a.pk)
    assert Recommendation.objects.get(brand=a).model_version == 0


def test_model_history_is_for_admins_only(owner_actor):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        model_history(actor=owner_actor)


def test_training_run_records_progress_and_result(history, admin_actor, django_capture_on_commit_callbacks):
    from matching.models import TrainingState
    from matching.selectors import training_run_get

    with django_capture_on_commit_callbacks(execute=True):  # eager Celery runs the task inline
        run = services.training_run_start(actor=admin_actor, force=False)
    run = training_run_get(actor=admin_actor, run_id=run.pk)
    assert run.state == TrainingState.SUCCEEDED and run.progress == 1.0
    assert run.model.is_active and run.activated
    assert run.metrics["outcomes"] == 72
    assert run.message_code == "activated"  # TrainingMessage.ACTIVATED: pages render it per language
    from partners.models import AuditAction, AuditEvent

    started = AuditEvent.objects.get(action=AuditAction.MATCHER_TRAINING_STARTED)
    assert (started.object_id, started.actor, started.data) == (str(run.pk), admin_actor.user, {"force": False})
    activated = AuditEvent.objects.get(action=AuditAction.MATCHER_MODEL_ACTIVATED)
    assert (activated.object_id, activated.actor) == (str(run.model.pk), admin_actor.user)
    assert activated.data["version"] == run.model.version and activated.data["auc"] == run.metrics["auc"]


def test_training_run_by_a_non_admin_is_refused(owner_actor):
    from matching.models import TrainingRun

    with pytest.raises(ValidationError):
        services.training_run_start(actor=owner_actor)
    assert not TrainingRun.objects.exists()


# --- A model that does not beat the serving ranker beyond the noise is never activated --------
@pytest.fixture
def below_heuristic(monkeypatch):
    """Training whose model ranks held-out brands no better than the serving ranker (the
    interval of the NDCG@10 difference straddles zero)."""
    from matching import training

    real_fit = training.fit

    def fit(*args, **kwargs):
        artefact, metrics = real_fit(*args, **kwargs)
        metrics.update(
            gate=training.GATE_NOT_BETTER,
            ndcg=0.676,
            ndcg_baseline=0.681,
            ndcg_diff=-0.005,
            ndcg_diff_low=-0.021,
            ndcg_diff_high=0.012,
        )
        return artefact, metrics

    monkeypatch.setattr(training, "fit", fit)


def test_a_model_not_better_than_the_heuristic_is_not_activated_and_the_heuristic_keeps_serving(
    history, below_heuristic
):
    from matching.models import TrainingMessage

    me, _, _ = history
    result = services.matcher_train()
    assert not result.activated and not result.model.is_active
    assert result.message == TrainingMessage.NOT_BETTER_THAN_HEURISTIC
    assert model_active() is None
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert set(Recommendation.objects.filter(brand=me).values_list("model_version", flat=True)) == {0}


def test_a_model_not_better_than_the_serving_model_does_not_replace_it(history, monkeypatch):
    from matching import training
    from matching.models import TrainingMessage

    first = services.matcher_train()
    assert first.activated
    real_fit = training.fit
    seen = {}

    def fit(*args, **kwargs):
        seen["active"] = kwargs.get("active")
        artefact, metrics = real_fit(*args, **kwargs)
        metrics.update(gate=training.GATE_NOT_BETTER, ndcg_diff_low=-0.01)
        return artefact, metrics

    monkeypatch.setattr(training, "fit", fit)
    second = services.matcher_train()
    # the gate compared the new model with the serving one (its artefact), not the heuristic
    assert seen["active"] is not None and seen["active"].version == first.model.version
    assert second.metrics["baseline"] == "model" and second.metrics["compared_version"] == first.model.version
    assert not second.activated and second.message == TrainingMessage.NOT_BETTER_THAN_ACTIVE
    assert model_active().pk == first.model.pk


def test_force_activates_a_model_the_gate_refused(history, below_heuristic):
    from matching.models import TrainingMessage

    result = services.matcher_train(force=True)
    assert result.activated and result.model.is_active and result.message == TrainingMessage.ACTIVATED
    assert result.metrics["forced"] is True


def test_a_training_run_says_why_its_model_was_not_activated(
    history, below_heuristic, admin_actor, django_capture_on_commit_callbacks
):
    from matching.models import TrainingMessage

    with django_capture_on_commit_callbacks(execute=True):
        run = services.training_run_start(actor=admin_actor)
    run.refresh_from_db()
    assert not run.activated and run.message_code == TrainingMessage.NOT_BETTER_THAN_HEURISTIC
    text = run.message_text()
    assert "0.676" in text and "0.681" in text and "-0.021" in text and "+0.012" in text


def test_too_few_held_out_brands_keep_the_heuristic_serving():
    """Brands that never had both a success and a failure: the gate cannot tell, nothing serves."""
    from matching.models import TrainingMessage

    coffees = [make_brand(f"c-{i}", "beverage.coffee") for i in range(3)]
    bakeries = [make_brand(f"b-{i}", "food.bakery") for i in range(4)]
    snacks = [make_brand(f"s-{i}", "food.snacks") for i in range(4)]
    for c in coffees:
        for b in bakeries:
            Outcome.objects.create(brand_a=c, brand_b=b, outcome=OutcomeKind.COMPLETED)
        for s in snacks:
            Outcome.objects.create(brand_a=c, brand_b=s, outcome=OutcomeKind.DECLINED)
    result = services.matcher_train()
    assert result.metrics["eval_queries"] == 3
    assert not result.activated and result.message == TrainingMessage.TOO_FEW_HELD_OUT
    assert model_active() is None


def test_serving_says_which_ranker_serves_and_why(history, below_heuristic):
    from matching.models import ServingReason
    from matching.selectors import matcher_serving

    assert matcher_serving().reason == ServingReason.NO_MODEL
    services.matcher_train()
    serving = matcher_serving()
    assert (serving.model, serving.reason, serving.version) == (None, ServingReason.GATE_REFUSED, 1)
    assert "0.676" in serving.text() and "0.681" in serving.text() and "-0.021" in serving.text()
    forced = services.matcher_train(force=True).model
    serving = matcher_serving()
    assert (serving.model.pk, serving.reason) == (forced.pk, ServingReason.GATE_FORCED)
    MatcherModel.objects.filter(pk=forced.pk).update(metrics={**forced.metrics, "gate": "passed"})
    assert matcher_serving().reason == ServingReason.GATE_PASSED
    # a model from before the gate is explained by its hold-out AUCs
    MatcherModel.objects.filter(pk=forced.pk).update(metrics={"auc": 0.7, "auc_heuristic": 0.68})
    assert matcher_serving().reason == ServingReason.NOT_BELOW_HEURISTIC


# --- The exchange's outcomes and the nightly retrain -------------------------------------------------
def test_nightly_retrain_is_scheduled_before_the_refresh_with_an_expiry(settings):
    retrain = settings.CELERY_BEAT_SCHEDULE["matching-retrain-nightly"]
    refresh = settings.CELERY_BEAT_SCHEDULE["matching-refresh-all"]
    assert retrain["task"] == "matching.tasks.matcher_retrain_nightly_task"
    assert retrain["options"]["expires"] > 0
    at = lambda entry: (min(entry["schedule"].hour), min(entry["schedule"].minute))  # noqa: E731
    assert at(retrain) < at(refresh)


def test_nightly_retrain_learns_from_exchange_outcomes_through_the_gate_and_records_why(history):
    from matching.models import TrainingState
    from matching.tasks import matcher_retrain_nightly_task
    from partners.models import AuditAction, AuditEvent

    result = matcher_retrain_nightly_task()
    model = MatcherModel.objects.get()
    assert result == {"state": TrainingState.SUCCEEDED, "model": model.pk, "activated": True}
    run = services.TrainingRun.objects.get()
    assert run.requested_by is None and run.message_code and run.metrics["gate"]
    assert AuditEvent.objects.get(action=AuditAction.MATCHER_TRAINING_STARTED).data == {"force": False, "nightly": True}
    # nothing new since: the next night does nothing
    assert matcher_retrain_nightly_task() == {"skipped": True}
    # the exchange records a decline (and a completed campaign with its new members): the
    # next night trains again, from them too
    me, bakery, snacks = history
    services.outcome_record(
        brand_a_id=me.pk, brand_b_id=snacks.pk, kind="declined", reason="poor_fit", key="exchange:proposal:1:declined"
    )
    services.outcome_record(
        brand_a_id=me.pk,
        brand_b_id=bakery.pk,
        kind="completed",
        key="exchange:campaign:1:completed",
        a_new_members=400,
        b_new_members=380,
    )
    assert matcher_retrain_nightly_task()["state"] == TrainingState.SUCCEEDED
    assert MatcherModel.objects.order_by("-version").first().training_size == 74


def test_exchange_declines_for_timing_weigh_less_than_declines_for_fit(history):
    from matching.market import get_market

    me, bakery, snacks = history
    for reason, key in (("timing", "t"), ("poor_fit", "p")):
        services.outcome_record(brand_a_id=me.pk, brand_b_id=snacks.pk, kind="declined", reason=reason, key=key)
    services.outcome_record(brand_a_id=me.pk, brand_b_id=bakery.pk, kind="expired", key="e")
    a, b, y, completed, members, confidence, _slot = services._training_pairs(get_market())
    by_kind = dict(zip(Outcome.objects.order_by("id").values_list("key", flat=True), confidence, strict=False))
    assert by_kind["p"] == 1.0 and by_kind["t"] < by_kind["e"] < 1.0


def test_a_model_that_beats_the_serving_one_but_ranks_below_the_heuristic_says_so(history, monkeypatch):
    from matching import training
    from matching.models import Outcome, SlotType, TrainingMessage

    first = services.matcher_train()
    assert first.activated
    # One outcome came from an explore slot: training sees which.
    explored = Outcome.objects.order_by("id").first()
    Outcome.objects.filter(pk=explored.pk).update(slot=SlotType.EXPLORE)
    real_fit = training.fit
    seen = {}

    def fit(*args, **kwargs):
        seen["slot"] = kwargs.get("slot")
        artefact, metrics = real_fit(*args, **kwargs)
        metrics.update(
            gate=training.GATE_NOT_BETTER,
            refused=training.REFUSED_BELOW_HEURISTIC,
            ndcg=0.700,
            ndcg_heuristic=0.731,
            ndcg_diff_heuristic_low=-0.045,
            ndcg_diff_heuristic_high=-0.012,
        )
        return artefact, metrics

    monkeypatch.setattr(training, "fit", fit)
    second = services.matcher_train()
    assert list(seen["slot"]).count(SlotType.EXPLORE) == 1
    assert not second.activated and second.message == TrainingMessage.GATE_BELOW_HEURISTIC
    text = str(second.message.label) % services.gate_params(second.metrics)
    assert "below the heuristic" in text and "0.731" in text and "-0.045 to -0.012" in text
    assert model_active().pk == first.model.pk, "the serving model is not itself below the heuristic"


def test_a_serving_model_the_gate_measures_below_the_heuristic_is_retired(history, monkeypatch):
    from matching import training
    from matching.models import TrainingMessage
    from partners.models import AuditAction, AuditEvent

    first = services.matcher_train(force=True)
    assert model_active().pk == first.model.pk
    real_fit = training.fit

    def fit(*args, **kwargs):
        artefact, metrics = real_fit(*args, **kwargs)
        metrics.update(
            gate=training.GATE_NOT_BETTER,
            refused=training.REFUSED_NOT_BETTER,
            ndcg_active=0.676,
            ndcg_heuristic=0.702,
            active_diff_heuristic_low=-0.040,
            active_diff_heuristic_high=-0.011,
        )
        return artefact, metrics

    monkeypatch.setattr(training, "fit", fit)
    second = services.matcher_train()
    assert not second.activated and second.message == TrainingMessage.ACTIVE_RETIRED
    assert model_active() is None, "the heuristic serves"
    text = str(second.message.label) % services.gate_params(second.metrics)
    assert f"v{first.model.version} ranks below it" in text and "-0.040 to -0.011" in text
    assert AuditEvent.objects.filter(action=AuditAction.MATCHER_MODEL_RETIRED).count() == 1
