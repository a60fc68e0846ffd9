"""The platform admins' matcher page: the active model and its offline metrics, the history
of models and training runs, and "retrain now" with live progress.

Staff only: anonymous callers are sent to sign in, signed-in non-staff get 403 (the
matching selectors and ``training_run_start`` refuse them). Retraining queues the Celery
task ``matcher_train_task``; the page polls ``run_status`` (JSON) until the run finishes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_POST

from frontend.labels import page_error_items
from frontend.views.common import actor_of
from huiliu import formatting
from huiliu.text import ascii_int
from matching import selectors, services, training
from matching.models import MatcherModel
from matching.ranker import COMPONENTS, FEATURE_LABELS, HEURISTIC_WEIGHTS

HISTORY_SIZE = 20

# Offline metrics stored with each model, in display order (keys written by matching.training).
METRICS = (
    # The ranking gate (matching.training): NDCG@10 / recall@10 on held-out brands.
    ("ndcg", gettext_lazy("NDCG@10 on held-out brands (this model)"), "ratio"),
    ("ndcg_baseline", gettext_lazy("NDCG@10 of the ranker it was compared with"), "ratio"),
    ("ndcg_diff", gettext_lazy("Difference in NDCG@10"), "signed"),
    ("recall", gettext_lazy("Recall@10 on held-out brands (this model)"), "ratio"),
    ("recall_baseline", gettext_lazy("Recall@10 of the ranker it was compared with"), "ratio"),
    ("eval_queries", gettext_lazy("Held-out brands evaluated"), "count"),
    ("auc", gettext_lazy("Hold-out AUC (served score)"), "ratio"),
    ("auc_learned", gettext_lazy("Hold-out AUC (learned ranker alone)"), "ratio"),
    ("auc_heuristic", gettext_lazy("Hold-out AUC (heuristic)"), "ratio"),
    ("auc_active", gettext_lazy("Hold-out AUC of the model it replaced"), "ratio"),
    ("blend_weight", gettext_lazy("Weight of the learned score"), "ratio"),
    ("outcomes", gettext_lazy("Outcomes"), "count"),
    ("positives", gettext_lazy("Successful swaps"), "count"),
    ("train_size", gettext_lazy("Training split"), "count"),
    ("holdout_size", gettext_lazy("Hold-out split"), "count"),
)


def metric_rows(metrics: dict) -> list[tuple[str, str]]:
    rows = []
    metrics = metrics or {}
    for key, label, kind in METRICS:
        value = metrics.get(key)
        if value is None:
            continue
        if kind == "signed":
            text = f"{value:+.3f}"
            if metrics.get("ndcg_diff_low") is not None:
                text += f" [{metrics['ndcg_diff_low']:+.3f}, {metrics['ndcg_diff_high']:+.3f}]"
        else:
            text = f"{value:.3f}" if kind == "ratio" else formatting.number(value)
        rows.append((str(label), text))
        if key == "ndcg_baseline":
            against = gettext("the serving model") if metrics.get("baseline") == "model" else gettext("the heuristic")
            rows.append((gettext("Compared with"), against))
        if key == "ndcg_diff" and metrics.get("ndcg_diff_low") is not None:
            rows.append((gettext("Gate"), _gate_text(metrics)))
    return rows


def _gate_text(metrics: dict) -> str:
    gate = metrics.get("gate")
    if gate == training.GATE_PASSED:
        # xgettext:no-python-format (a literal percent sign)
        return gettext("passed: the 95% interval of the difference lies above zero")
    if gate == training.GATE_TOO_FEW:
        return gettext("not decided: too few held-out brands")
    if metrics.get("refused") == training.REFUSED_BELOW_HEURISTIC:
        return gettext("refused: it ranks below the heuristic beyond the noise")
    if metrics.get("refused") == training.REFUSED_BELOW_HEURISTIC_EXPLORED:
        return gettext("refused: on pairs from explore slots it ranks below the heuristic beyond the noise")
    return gettext("refused: the difference is within the noise or below zero")


# Component → label, for "what the model weighs" (matching.ranker.COMPONENTS order).
GROUP_LABELS = {
    "scale": gettext_lazy("Scale"),
    "positioning": gettext_lazy("Positioning (tier, tone, description)"),
    "audience": gettext_lazy("Audience (gender, age, city tier, regions, channels)"),
    "category": gettext_lazy("Category pair history"),
}


def weight_rows(metrics: dict) -> list[tuple[str, float]]:
    weights = (metrics or {}).get("group_weights") or {}
    return [(str(label), float(weights[key])) for key, label in GROUP_LABELS.items() if key in weights]


def heuristic_weight_rows() -> list[tuple[str, float]]:
    """The heuristic's fixed weight per component (what serves before a model does)."""
    total = float(HEURISTIC_WEIGHTS.sum())
    return [(str(GROUP_LABELS[c]), float(w) / total) for c, w in zip(COMPONENTS, HEURISTIC_WEIGHTS, strict=True)]


FEATURES_SHOWN = 8


def feature_weight_rows() -> list[tuple[str, float]]:
    """The serving model's heaviest features (label, share of the learned score's weight)."""
    return [(str(FEATURE_LABELS.get(n, n)), share) for n, share in selectors.serving_feature_weights()[:FEATURES_SHOWN]]


def _ci(metrics: dict, key: str) -> str | None:
    value = metrics.get(key)
    if value is None:
        return None
    low, high = metrics.get(f"{key}_low"), metrics.get(f"{key}_high")
    return f"{value:+.3f}" + (f" [{low:+.3f}, {high:+.3f}]" if low is not None and high is not None else "")


@dataclass
class GateDecision:
    """One gate decision to show: from a training run, or from a model trained without one
    (``train_matcher``, the demo)."""

    metrics: dict
    version: int | None
    activated: bool
    when: object  # datetime
    run_id: int | None = None
    message: str = ""


def latest_gate(runs, models) -> GateDecision | None:
    """The newest gate decision — the one that decided what serves now: the newest finished
    run that went through the ranking gate, or the newest model if it is newer (trained by a
    command, without a run); None before any."""
    run = next((r for r in runs if r.is_finished and "gate" in (r.metrics or {})), None)
    model = next((m for m in models if "gate" in (m.metrics or {})), None)
    if run is not None and (model is None or not run.model_id or run.model_id == model.pk or run.model_id > model.pk):
        return GateDecision(
            metrics=run.metrics,
            version=run.model.version if run.model_id else None,
            activated=run.activated,
            when=run.finished_at,
            run_id=run.pk,
            message=run.message_text(),
        )
    if model is not None:
        return GateDecision(
            metrics=model.metrics, version=model.version, activated=model.is_active, when=model.created_at
        )
    return None


def gate_rows(gate: GateDecision) -> list[tuple[str, str]]:
    """The gate's numbers, for people: the new model's NDCG@10 against the serving ranker's
    on held-out brands, the difference with its 95% bootstrap interval, how many held-out
    brands, and the decision with its reason."""
    m = gate.metrics or {}
    rows: list[tuple[str, str]] = []
    version = gate.version

    def ratio(v):
        return "—" if v is None else f"{v:.3f}"

    new_label = (
        gettext("NDCG@10 of the new model v%(v)s") % {"v": version} if version else gettext("NDCG@10 of the new model")
    )
    rows.append((new_label, ratio(m.get("ndcg"))))
    against_model = m.get("baseline") == "model"
    if against_model:
        against = (
            gettext("NDCG@10 of the serving model v%(v)s") % {"v": m["compared_version"]}
            if m.get("compared_version")
            else gettext("NDCG@10 of the serving model")
        )
    else:
        against = gettext("NDCG@10 of the heuristic (serving)")
    rows.append((against, ratio(m.get("ndcg_baseline"))))
    if (diff := _ci(m, "ndcg_diff")) is not None:
        # xgettext:no-python-format (a literal percent sign)
        rows.append((gettext("Difference (95% bootstrap interval)"), diff))
    if against_model and (h := _ci(m, "ndcg_diff_heuristic")) is not None:
        # xgettext:no-python-format (a literal percent sign)
        rows.append((gettext("Difference from the heuristic (95% interval)"), h))
    held_out = formatting.number(int(m.get("eval_queries") or 0))
    if m.get("folds"):
        held_out += " · " + gettext("%(folds)s folds by brand × %(repeats)s repeats; never in the training split") % {
            "folds": m["folds"],
            "repeats": m.get("repeats") or 1,
        }
    rows.append((gettext("Held-out brands"), held_out))
    explore = m.get("explore") or {}
    if explore.get("ndcg") is not None:
        rows.append(
            (
                gettext("NDCG@10 on explored pairs (new model / heuristic)"),
                f"{ratio(explore.get('ndcg'))} / {ratio(explore.get('ndcg_heuristic'))}",
            )
        )
    if m.get("blend_weight") is not None:
        rows.append((gettext("Weight of the learned score it was trained to serve with"), f"{m['blend_weight']:.2f}"))
    rows.append((gettext("Gate"), _gate_text(m)))
    if gate.activated:
        decision = gettext("Activated: model v%(v)s serves now.") % {"v": version}
        if m.get("gate") != training.GATE_PASSED:
            decision += " " + gettext("(activated by hand, against the gate)")
    elif gate.message:
        decision = gate.message
    elif against_model:
        decision = gettext("Not activated: the serving model keeps serving.")
    else:
        decision = gettext("Not activated: the heuristic keeps serving.")
    rows.append((gettext("Decision"), decision))
    return rows


def _require_admin(request):
    actor = actor_of(request)
    if not actor.is_admin:
        raise PermissionDenied
    return actor


@login_required
def matcher(request):
    actor = _require_admin(request)
    runs = list(selectors.training_run_list(actor=actor).select_related("requested_by")[:HISTORY_SIZE])
    models = list(selectors.model_history(actor=actor)[:HISTORY_SIZE])
    active = selectors.model_active()
    # The run to follow: the one just started (?run=), else the newest unfinished one.
    followed = None
    if (run_id := ascii_int(request.GET.get("run", ""))) is not None:
        followed = selectors.training_run_get(actor=actor, run_id=run_id)
    if followed is None:
        followed = next((r for r in runs if not r.is_finished), None)
    finished = followed is not None and followed.is_finished
    # A run unfinished for too long probably lost its worker: "retrain now" is offered again
    # (training_run_start allows it) instead of staying disabled for ever.
    stale = followed is not None and followed.is_stale
    if followed is not None:
        followed.metric_rows = metric_rows(followed.metrics)
    serving = selectors.matcher_serving()
    gate = latest_gate(runs, models)
    return render(
        request,
        "frontend/matcher/admin.html",
        {
            "active": active,
            # Which ranker serves (a model or the heuristic), and why.
            "serving": serving,
            # The latest training run's gate: the numbers that decided what serves.
            "gate": gate,
            "gate_rows": gate_rows(gate) if gate is not None else [],
            # What the serving ranker weighs: the serving model's components and features, or
            # the heuristic's fixed weights.
            "serving_weights": weight_rows(serving.model.metrics) if serving.model else heuristic_weight_rows(),
            "serving_features": feature_weight_rows() if serving.model else [],
            "heuristic_share": 1.0 - serving.model.blend_weight if serving.model else 1.0,
            # The active model's metrics; while the heuristic serves, the latest model's (which
            # say why it was not activated).
            "metrics_model": active or (models[0] if models else None),
            "active_metrics": metric_rows((active or (models[0] if models else None) or MatcherModel()).metrics),
            "models": models,
            "runs": runs,
            "followed": followed,
            "followed_finished": finished,
            "followed_stale": stale,
            "retrain_blocked": followed is not None and not finished and not stale,
        },
    )


@require_POST
@login_required
def retrain(request):
    actor = _require_admin(request)
    try:
        run = services.training_run_start(actor=actor, force=request.POST.get("force") == "1")
    except ValidationError as exc:
        for _field, _code, message in page_error_items(exc):
            messages.error(request, message)
        return redirect("frontend:matcher")
    return redirect(reverse("frontend:matcher") + f"?run={run.pk}")


@login_required
def run_status(request, run_id: int):
    """One training run's state for the page's poller."""
    actor = actor_of(request)
    if not actor.is_admin:
        return JsonResponse({"error": "forbidden"}, status=403)
    run = selectors.training_run_get(actor=actor, run_id=run_id)
    if run is None:
        raise Http404
    response = JsonResponse(
        {
            "id": run.pk,
            "state": run.state,
            "state_label": str(run.get_state_display()),
            "progress": run.progress,
            "message": run.message_text(),
            "message_code": run.message_code,
            "finished": run.is_finished,
            "model_version": run.model.version if run.model_id else None,
            "activated": run.activated,
            "metrics": run.metrics,
        }
    )
    response["Cache-Control"] = "no-store"
    return response
