"""State changes of the matching domain: dismissals, refreshes, outcomes, training.

Every public service takes keyword-only arguments and raises ``ValidationError`` with a
``MatchingError`` code on bad input, leaving nothing changed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from huiliu.db import advisory_xact_lock
from huiliu.jsonl import LineError, LineImportError, json_lines
from huiliu.text import excerpt
from matching import ranker, refresh, scheduling, training
from matching.errors import MatchingError as E
from matching.market import get_market
from matching.models import (
    OUTCOME_LABELS,
    Dismissal,
    MatcherModel,
    Outcome,
    OutcomeKind,
    OutcomeSource,
    Recommendation,
    SlotType,
    TrainingMessage,
    TrainingRun,
    TrainingState,
)
from matching.selectors import recommendation_list, recommendation_slot
from partners.actors import Actor
from partners.models import AuditAction, Brand, BrandStatus
from partners.services import audit
from partners.validation import validate_slug

Progress = Callable[[str], None]


def _denied() -> ValidationError:
    return ValidationError({"__all__": ValidationError(_("You are not allowed to do this."), code=E.PERMISSION_DENIED)})


# --- Recommendations ------------------------------------------------------------------------
def recommendations_refresh_brand(*, brand_id: int, top: int | None = None) -> int:
    """Recompute and store one brand's recommendations with the active model (rows written;
    0 for a brand that is not approved — its rows, and rows recommending it, are removed)."""
    return refresh.refresh_brand(brand_id, k=top)


def recommendations_refresh_all(*, top: int | None = None, progress: Progress | None = None) -> refresh.RefreshStats:
    """Recompute and store every approved brand's recommendations (the nightly job)."""
    return refresh.refresh_all(k=top, progress=progress)


@transaction.atomic
def recommendation_dismiss(*, actor: Actor, brand: Brand, partner: Brand) -> Dismissal:
    """``brand`` never sees ``partner`` recommended again (survives every refresh).

    Needs an edit role on ``brand`` (owner, marketer, write key) or admin. Idempotent (the
    first dismissal is audited in ``brand``'s history). The brand's list is refilled by a
    refresh after commit.
    """
    if not actor.can_edit(brand.pk):
        raise _denied()
    if partner.pk == brand.pk:
        raise ValidationError({"partner": ValidationError(_("A brand cannot dismiss itself."), code=E.SELF_PAIR)})
    dismissal, created = Dismissal.objects.get_or_create(
        brand=brand, partner=partner, defaults={"dismissed_by": actor.user}
    )
    if created:
        audit(
            actor=actor,
            action=AuditAction.RECOMMENDATION_DISMISSED,
            obj=dismissal,
            brand=brand,
            data={"partner": partner.slug},
        )
    Recommendation.objects.filter(brand=brand, partner=partner).delete()
    transaction.on_commit(lambda: scheduling.schedule_brand_refresh(brand.pk))
    return dismissal


@transaction.atomic
def recommendation_undismiss(*, actor: Actor, brand: Brand, partner: Brand) -> bool:
    """Undo ``recommendation_dismiss``: ``partner`` may be recommended to ``brand`` again, from
    the refresh scheduled after commit. Same permission as dismissing. Idempotent: True if a
    dismissal was removed (audited in ``brand``'s history), False if there was none."""
    if not actor.can_edit(brand.pk):
        raise _denied()
    dismissal = Dismissal.objects.select_for_update().filter(brand=brand, partner=partner).first()
    if dismissal is None:
        return False
    audit(
        actor=actor,
        action=AuditAction.RECOMMENDATION_UNDISMISSED,
        obj=dismissal,
        brand=brand,
        data={"partner": partner.slug},
    )
    dismissal.delete()
    transaction.on_commit(lambda: scheduling.schedule_brand_refresh(brand.pk))
    return True


# --- Outcomes import --------------------------------------------------------------------------
class OutcomeImportError(LineImportError):
    """The outcomes file had bad lines; nothing was written. ``problems`` lists each one."""


@dataclass
class OutcomeImportResult:
    lines: int = 0
    created: int = 0
    skipped: int = 0  # lines whose swap was imported before (same stable key, or a legacy row)
    by_outcome: dict = field(default_factory=dict)
    backfilled: int = 0  # of ``skipped``: legacy rows (imported before keys) given their key


OUTCOME_FIELDS = ("id", "a", "b", "outcome", "a_new_members", "b_new_members")
ID_MAX_LENGTH = 60


def import_key(data: dict, occurrence: int) -> str:
    """The stable key of an imported swap (``Outcome.key``): ``import:id:<id>`` when the line
    names its swap, else a hash of its content and how many identical lines came before it in
    the file — so importing the same file again matches every line to its first import."""
    if data.get("id") is not None:
        return f"import:id:{data['id']}"
    content = json.dumps({k: data.get(k) for k in OUTCOME_FIELDS if k != "id"}, sort_keys=True, ensure_ascii=False)
    return "import:" + hashlib.sha256(f"{content}#{occurrence}".encode()).hexdigest()[:40]


# A file records finished swaps; "proposed" and "expired" rows come from the exchange itself.
IMPORTABLE_KINDS = (OutcomeKind.ACCEPTED.value, OutcomeKind.DECLINED.value, OutcomeKind.COMPLETED.value)


def _check_line(n: int, data: Any) -> tuple[dict | None, list[LineError]]:
    problems: list[LineError] = []
    if not isinstance(data, dict):
        return None, [LineError(n, "json", E.INVALID, _("each line must be a JSON object."))]
    for key in data:
        if key not in OUTCOME_FIELDS:
            problems.append(
                LineError(
                    n, str(key), E.INVALID, _("unknown field; allowed: %(f)s.") % {"f": ", ".join(OUTCOME_FIELDS)}
                )
            )
    if "id" in data:
        value = data["id"]
        if not isinstance(value, str) or not value.strip() or len(value) > ID_MAX_LENGTH or not value.isprintable():
            problems.append(
                LineError(
                    n, "id", E.INVALID, _("must be a text of 1 to %(n)d printable characters.") % {"n": ID_MAX_LENGTH}
                )
            )
    for key in ("a", "b"):
        if not isinstance(data.get(key), str) or not data.get(key, "").strip():
            problems.append(LineError(n, key, E.REQUIRED, _("a brand slug is required.")))
            continue
        try:  # its shape first: no control character reaches the lookup
            validate_slug(data[key])
        except ValidationError as exc:
            problems.append(LineError(n, key, E.INVALID, exc.messages[0]))
    if isinstance(data.get("a"), str) and data.get("a") == data.get("b"):
        problems.append(LineError(n, "b", E.SELF_PAIR, _("a and b must be two different brands.")))
    outcome = data.get("outcome")
    if outcome not in IMPORTABLE_KINDS:
        problems.append(
            LineError(
                n,
                "outcome",
                E.INVALID_OUTCOME,
                _("must be one of %(v)s (got %(got)s).") % {"v": ", ".join(IMPORTABLE_KINDS), "got": _quoted(outcome)},
            )
        )
    for key in ("a_new_members", "b_new_members"):
        if key not in data or data[key] is None:
            continue
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(LineError(n, key, E.INVALID, _("must be a whole number ≥ 0.")))
        elif outcome in IMPORTABLE_KINDS and outcome != OutcomeKind.COMPLETED:
            problems.append(LineError(n, key, E.INVALID, _("new members are only reported for completed swaps.")))
    return data, problems


def _quoted(value: Any) -> str:
    """A scalar as JSON (``"won"``, ``5``, ``null``), shortened; a list or object by its type."""
    return excerpt(value if isinstance(value, (dict, list)) else json.dumps(value, ensure_ascii=False))


def outcomes_import(*, source: str | Path | Iterable[str | bytes]) -> OutcomeImportResult:
    """Import past swaps from JSON Lines (format in docs/MATCHING.md). The whole file is
    validated first; any bad line → ``OutcomeImportError`` listing ``line N: field: reason``
    for every problem, and nothing is written.

    Idempotent: every line gets a stable key (``import_key``); a line whose key was imported
    before is skipped (``skipped``), so importing the same file twice counts its swaps once.
    Rows imported before keys existed (``key`` NULL) count as imported too: a line matching
    one (same brands, outcome and new members; the n-th identical line the n-th such row) is
    skipped and the row gets the line's key (``backfilled``), so a file imported once before
    keys and once after is still counted once."""
    problems: list[LineError] = []
    parsed: list[tuple[int, dict]] = []
    for line in json_lines(source):
        if line.blank:
            continue
        if line.problem is not None:
            problems.append(line.problem)
            continue
        n = line.number
        data, line_problems = _check_line(n, line.data)
        problems += line_problems
        if data is not None and not line_problems:
            parsed.append((n, data))
    slugs = {d[k] for _, d in parsed for k in ("a", "b")}
    known = dict(Brand.objects.filter(slug__in=slugs).values_list("slug", "id")) if slugs else {}
    rows: list[Outcome] = []
    seen_ids: dict[str, int] = {}
    occurrences: dict[str, int] = {}
    for n, d in parsed:
        if d.get("id") is not None:
            if d["id"] in seen_ids:
                problems.append(
                    LineError(
                        n,
                        "id",
                        E.INVALID,
                        _("the same id as line %(line)d; each swap once.") % {"line": seen_ids[d["id"]]},
                    )
                )
            seen_ids.setdefault(d["id"], n)
        content = import_key({**d, "id": None}, 0)
        occurrences[content] = occurrences.get(content, -1) + 1
        for key in ("a", "b"):
            if d[key] not in known:
                problems.append(
                    LineError(n, key, E.UNKNOWN_BRAND, _("no brand with slug %(s)s.") % {"s": excerpt(d[key])})
                )
        if d["a"] in known and d["b"] in known:
            rows.append(
                Outcome(
                    brand_a_id=known[d["a"]],
                    brand_b_id=known[d["b"]],
                    outcome=d["outcome"],
                    a_new_members=d.get("a_new_members"),
                    b_new_members=d.get("b_new_members"),
                    key=import_key(d, occurrences[content]),
                )
            )
    if problems:
        raise OutcomeImportError(sorted(problems, key=lambda p: (p.line, p.field)))
    keys = [r.key for r in rows]
    existing: set[str] = set()
    for start in range(0, len(keys), 5000):
        existing.update(Outcome.objects.filter(key__in=keys[start : start + 5000]).values_list("key", flat=True))
    new = [r for r in rows if r.key not in existing]
    with transaction.atomic():
        claimed = _claim_legacy(new)
        for pk, key in claimed.items():
            Outcome.objects.filter(pk=pk, key__isnull=True).update(key=key)
        taken = set(claimed.values())
        new = [r for r in new if r.key not in taken]
        # ignore_conflicts: an import running at the same time wrote some of them first
        Outcome.objects.bulk_create(new, batch_size=2000, ignore_conflicts=True)
    result = OutcomeImportResult(
        lines=len(parsed), created=len(new), skipped=len(rows) - len(new), backfilled=len(claimed)
    )
    for r in new:
        result.by_outcome[r.outcome] = result.by_outcome.get(r.outcome, 0) + 1
    return result


def _claim_legacy(rows: list[Outcome]) -> dict[int, str]:
    """{legacy row pk: key} for the keyless imported rows (written before ``Outcome.key``)
    that ``rows`` (new keyed rows, file order) record again: per (brands, outcome, new
    members), the n-th line takes the n-th oldest such row. Rows locked, so two imports
    running at once cannot claim one row twice."""
    if not rows:
        return {}
    legacy: dict[tuple, list[int]] = {}
    a_ids = sorted({r.brand_a_id for r in rows})
    for start in range(0, len(a_ids), 5000):
        found = (
            Outcome.objects.select_for_update()
            .filter(key__isnull=True, source=OutcomeSource.IMPORT, brand_a_id__in=a_ids[start : start + 5000])
            .order_by("id")
            .values_list("id", "brand_a_id", "brand_b_id", "outcome", "a_new_members", "b_new_members")
        )
        for pk, *signature in found:
            legacy.setdefault(tuple(signature), []).append(pk)
    if not legacy:
        return {}
    claimed: dict[int, str] = {}
    for r in rows:
        pks = legacy.get((r.brand_a_id, r.brand_b_id, r.outcome, r.a_new_members, r.b_new_members))
        if pks:
            claimed[pks.pop(0)] = r.key
    return claimed


# --- Training -----------------------------------------------------------------------------------
@dataclass
class TrainResult:
    model: MatcherModel
    activated: bool
    metrics: dict
    message: TrainingMessage = TrainingMessage.ACTIVATED  # why it was (not) activated


# How much a failure says about the *pair* (the exchange's decline reasons; training weight).
# Declined for timing or capacity says little about fit; an expired proposal a little more;
# "audiences do not fit", "not balanced" and brand concerns are plain failures.
FAILURE_CONFIDENCE = {"timing": 0.25, "capacity": 0.25, "other": 0.75}
EXPIRED_CONFIDENCE = 0.5


def _confidence(kind: str, reason: str) -> float:
    if kind == OutcomeKind.EXPIRED:
        return EXPIRED_CONFIDENCE
    if kind == OutcomeKind.DECLINED:
        return FAILURE_CONFIDENCE.get(reason or "", 1.0)
    return 1.0


def _training_pairs(market) -> tuple[np.ndarray, ...]:
    """Outcome and dismissal rows mapped onto market rows (pairs with a brand no longer
    approved are skipped — their features are gone from the market), with the new members
    each side reported (NaN where none was) and each label's confidence (``_confidence``):
    imported history and the exchange's own outcomes (accepted, declined with a reason,
    expired, completed with new members) alike."""
    a, b, y, completed, members, confidence, slot = [], [], [], [], [], [], []
    index = market.index
    labelled = Outcome.objects.filter(outcome__in=list(OUTCOME_LABELS)).order_by("id")
    fields = ("brand_a_id", "brand_b_id", "outcome", "reason", "a_new_members", "b_new_members", "slot")
    for ia, ib, kind, reason, ma, mb, sl in labelled.values_list(*fields).iterator(chunk_size=5000):
        if ia in index and ib in index:
            a.append(index[ia])
            b.append(index[ib])
            y.append(OUTCOME_LABELS[kind])
            completed.append(kind == OutcomeKind.COMPLETED)
            members.append((np.nan if ma is None else ma, np.nan if mb is None else mb))
            confidence.append(_confidence(kind, reason))
            slot.append(sl or "")  # which slot the pair was recommended in (explore: unbiased)
    for ia, ib in Dismissal.objects.order_by("id").values_list("brand_id", "partner_id").iterator(chunk_size=5000):
        if ia in index and ib in index:
            a.append(index[ia])
            b.append(index[ib])
            y.append(0)
            completed.append(False)
            members.append((np.nan, np.nan))
            confidence.append(1.0)
            slot.append("")
    return (
        np.array(a, np.int64),
        np.array(b, np.int64),
        np.array(y, np.int64),
        np.array(completed, bool),
        np.array(members, np.float64).reshape(len(a), 2),
        np.array(confidence, np.float64),
        np.array(slot, dtype=object),
    )


def _serving_artefact(active_row: MatcherModel | None):
    """The active model's artefact, to compare a new model with; None when there is no active
    model or its file cannot be read (then the gate compares with the heuristic)."""
    if active_row is None:
        return None
    blob = MatcherModel.objects.filter(pk=active_row.pk).values_list("artefact", flat=True).first()
    try:
        return ranker.Artefact.loads(blob) if blob else None
    except Exception:  # a file from an incompatible version: compare with the heuristic
        return None


def gate_params(metrics: dict) -> dict[str, Any]:
    """The gate's numbers as a message's ``%(name)s`` values (formatted, language-neutral)."""

    def ratio(key):
        v = metrics.get(key)
        return "—" if v is None else f"{v:.3f}"

    def signed(key):
        v = metrics.get(key)
        return "—" if v is None else f"{v:+.3f}"

    return {
        "ndcg": ratio("ndcg"),
        "baseline": ratio("ndcg_baseline"),
        "diff": signed("ndcg_diff"),
        "low": signed("ndcg_diff_low"),
        "high": signed("ndcg_diff_high"),
        "n": int(metrics.get("eval_queries") or 0),
        "min": training.MIN_QUERIES,
        "heuristic": ratio("ndcg_heuristic"),
        "h_low": signed("ndcg_diff_heuristic_low"),
        "h_high": signed("ndcg_diff_heuristic_high"),
        "e_ndcg": f"{(metrics.get('explore') or {}).get('ndcg', 0):.3f}",
        "e_heuristic": f"{(metrics.get('explore') or {}).get('ndcg_heuristic', 0):.3f}",
        "e_n": int((metrics.get("explore") or {}).get("queries") or 0),
        "retired": metrics.get("retired_version") or 0,
        "active": ratio("ndcg_active"),
        "a_low": signed("active_diff_heuristic_low"),
        "a_high": signed("active_diff_heuristic_high"),
        "v": metrics.get("compared_version") or 0,
    }


def matcher_train(*, force: bool = False, run: TrainingRun | None = None, seed: int = 0) -> TrainResult:
    """Train a new model from the outcomes and dismissals in the database and store it.

    The gate (``matching.training``): the new model is evaluated on held-out *brands* by
    NDCG@10 of their successful partners, against the ranker serving now (the active model,
    else the heuristic), with a paired bootstrap interval. It is activated when ``force``,
    or when that interval lies above zero (better beyond the noise). Otherwise it is stored
    but not activated — the serving ranker keeps serving — and ``TrainResult.message`` (with
    ``metrics``) says why. Raises a ValidationError (``not_enough_outcomes``) below
    ``MATCHING_MIN_OUTCOMES`` outcomes or when the outcomes hold only one class; then the
    heuristic keeps serving.
    """

    def progress(fraction: float, step: TrainingMessage) -> None:
        if run is not None:
            TrainingRun.objects.filter(pk=run.pk).update(progress=round(fraction, 3), message_code=step)

    progress(0.05, TrainingMessage.LOADING_MARKET)
    market = get_market()
    a, b, y, completed, members, confidence, slot = _training_pairs(market)
    minimum = settings.MATCHING_MIN_OUTCOMES
    if len(a) < minimum or len(np.unique(y)) < 2:
        raise ValidationError(
            {
                "outcomes": ValidationError(
                    TrainingMessage.NOT_ENOUGH_OUTCOMES.label,
                    code=E.NOT_ENOUGH_OUTCOMES,
                    params={"min": minimum, "n": len(a)},
                )
            }
        )
    active_row = MatcherModel.objects.filter(is_active=True).defer("artefact").first()
    serving = _serving_artefact(active_row)
    artefact, metrics = training.fit(
        market,
        a,
        b,
        y,
        completed,
        members=members,
        confidence=confidence,
        slot=slot,
        seed=seed,
        active=serving,
        progress=progress,
    )
    if serving is not None:
        metrics["compared_version"] = active_row.version
    if force:
        activate, message = True, TrainingMessage.ACTIVATED
    elif metrics["gate"] == training.GATE_PASSED:
        activate, message = True, TrainingMessage.ACTIVATED
    elif metrics["gate"] == training.GATE_TOO_FEW:
        activate, message = False, TrainingMessage.TOO_FEW_HELD_OUT
    elif metrics.get("refused") == training.REFUSED_BELOW_HEURISTIC:
        activate, message = False, TrainingMessage.GATE_BELOW_HEURISTIC
    elif metrics.get("refused") == training.REFUSED_BELOW_HEURISTIC_EXPLORED:
        activate, message = False, TrainingMessage.GATE_BELOW_EXPLORED
    elif serving is not None:
        activate, message = False, TrainingMessage.NOT_BETTER_THAN_ACTIVE
    else:
        activate, message = False, TrainingMessage.NOT_BETTER_THAN_HEURISTIC
    # The serving model itself ranks below the heuristic beyond the noise (a model from before
    # the ranking gate, or one activated by hand): the heuristic takes over — a learner never
    # keeps serving what the gate measures as worse than not learning.
    retire = (
        not activate
        and serving is not None
        and metrics.get("active_diff_heuristic_high") is not None
        and metrics["active_diff_heuristic_high"] < 0
    )
    if retire:
        message = TrainingMessage.ACTIVE_RETIRED
        metrics["retired_version"] = active_row.version
    metrics["forced"] = bool(force and metrics["gate"] != training.GATE_PASSED)
    with transaction.atomic():
        # Two trainings may finish together (retrain clicked twice): allocate versions one at
        # a time. (select_for_update() on an aggregate locks nothing; Django drops it.)
        advisory_xact_lock("matching.matchermodel.version")
        version = (MatcherModel.objects.aggregate(v=Max("version"))["v"] or 0) + 1
        artefact.version = version
        model = MatcherModel.objects.create(
            version=version,
            training_size=len(a),
            features=list(artefact.features),
            metrics=metrics,
            blend_weight=artefact.blend_weight,
            artefact=artefact.dumps(),
        )
        if retire:
            MatcherModel.objects.filter(is_active=True).update(is_active=False)
            audit(
                actor=Actor.system_actor(),
                action=AuditAction.MATCHER_MODEL_RETIRED,
                obj=active_row,
                data={
                    "version": active_row.version,
                    "ndcg_active": metrics.get("ndcg_active"),
                    "ndcg_heuristic": metrics.get("ndcg_heuristic"),
                    "diff_high": metrics.get("active_diff_heuristic_high"),
                    "by_run_of": version,
                },
            )
        if activate:
            MatcherModel.objects.filter(is_active=True).update(is_active=False)
            MatcherModel.objects.filter(pk=model.pk).update(is_active=True, activated_at=timezone.now())
            model.is_active = True
            # The admin who asked for the run, else the platform (command line, demo).
            requested_by = run.requested_by if run is not None and run.requested_by_id else None
            audit(
                actor=Actor(user=requested_by) if requested_by is not None else Actor.system_actor(),
                action=AuditAction.MATCHER_MODEL_ACTIVATED,
                obj=model,
                data={
                    "version": version,
                    "forced": force,
                    "ndcg": metrics.get("ndcg"),
                    "ndcg_baseline": metrics.get("ndcg_baseline"),
                    "ndcg_diff_low": metrics.get("ndcg_diff_low"),
                    "auc": metrics.get("auc"),
                    "replaced": active_row.version if active_row is not None else None,
                },
            )
    progress(1.0, TrainingMessage.DONE)
    return TrainResult(model=model, activated=activate, metrics=metrics, message=message)


def training_run_start(*, actor: Actor, force: bool = False) -> TrainingRun:
    """Queue a training run (admins only); the Celery task ``matcher_train_task`` runs it and
    records ``state``/``progress``/``message_code`` on the returned row for polling.

    One at a time: while another run is in progress (unfinished and younger than
    ``TRAINING_STALE_AFTER``, 30 minutes) it raises ``training_in_progress``.
    """
    if not actor.is_admin:
        raise _denied()
    with transaction.atomic():
        # Two admins (or a double click) starting at once: the second waits here, then sees
        # the first one's run.
        advisory_xact_lock("matching.trainingrun.start")
        if TrainingRun.objects.in_progress().exists():
            raise ValidationError(
                {
                    "__all__": ValidationError(
                        _("A training run is already in progress; wait until it finishes."),
                        code=E.TRAINING_IN_PROGRESS,
                    )
                }
            )
        run = TrainingRun.objects.create(force=force, requested_by=actor.user)
        audit(actor=actor, action=AuditAction.MATCHER_TRAINING_STARTED, obj=run, data={"force": force})
        transaction.on_commit(lambda: scheduling.schedule_training(run.pk))
    return run


def training_run_nightly() -> TrainingRun | None:
    """The nightly retrain (Celery beat ``matching-retrain-nightly``): train from every outcome
    — imported and the exchange's own — evaluate with the gate, activate or not; the run
    records why. None (nothing done) while another run is in progress, or when no outcome or
    dismissal arrived since the latest model was trained."""
    latest = MatcherModel.objects.defer("artefact").order_by("-version").first()
    if latest is not None and not (
        Outcome.objects.filter(created_at__gt=latest.created_at).exists()
        or Dismissal.objects.filter(created_at__gt=latest.created_at).exists()
    ):
        return None
    with transaction.atomic():
        advisory_xact_lock("matching.trainingrun.start")
        if TrainingRun.objects.in_progress().exists():
            return None
        run = TrainingRun.objects.create(force=False, requested_by=None)
        audit(
            actor=Actor.system_actor(),
            action=AuditAction.MATCHER_TRAINING_STARTED,
            obj=run,
            data={"force": False, "nightly": True},
        )
    return training_run_execute(run_id=run.pk)


def _failure_message(exc: ValidationError) -> dict[str, Any]:
    """A failed run's message fields: the TrainingMessage of the (first) error's code with its
    params, so it is shown in each reader's language; else the messages as raised."""
    errors = [e for errs in exc.error_dict.values() for e in errs] if hasattr(exc, "error_dict") else exc.error_list
    first = errors[0] if errors else None
    if first is not None and first.code in TrainingMessage.values:
        return {"message_code": first.code, "message_params": first.params or {}, "message": ""}
    return {"message_code": "", "message_params": {}, "message": "; ".join(exc.messages)[:200]}


def training_run_execute(*, run_id: int) -> TrainingRun:
    """Run a queued training run (called by the task). Claims the row first so a redelivered
    task does not train twice."""
    claimed = TrainingRun.objects.filter(pk=run_id, state=TrainingState.QUEUED).update(
        state=TrainingState.RUNNING, progress=0.01, message_code=TrainingMessage.STARTING
    )
    run = TrainingRun.objects.get(pk=run_id)
    if not claimed:
        return run
    try:
        result = matcher_train(force=run.force, run=run)
    except ValidationError as exc:
        TrainingRun.objects.filter(pk=run_id).update(
            state=TrainingState.FAILED, finished_at=timezone.now(), **_failure_message(exc)
        )
    except Exception as exc:
        TrainingRun.objects.filter(pk=run_id).update(
            state=TrainingState.FAILED,
            message_code=TrainingMessage.INTERNAL_ERROR,
            message=type(exc).__name__[:200],
            finished_at=timezone.now(),
        )
        raise
    else:
        TrainingRun.objects.filter(pk=run_id).update(
            state=TrainingState.SUCCEEDED,
            progress=1.0,
            model=result.model,
            activated=result.activated,
            metrics=result.metrics,
            finished_at=timezone.now(),
            message_code=result.message,
            message_params=gate_params(result.metrics),
        )
    return TrainingRun.objects.get(pk=run_id)


def brand_matches(*, brand: Brand, top: int) -> list[Recommendation]:
    """Stored recommendations of ``brand`` for the command line (system view: the same
    read-time filters as ``selectors.recommendation_list``)."""
    if brand.status != BrandStatus.APPROVED:
        return []
    return list(recommendation_list(actor=Actor.system_actor(), brand=brand)[:top])


def as_dict(rec: Recommendation, language: str = "zh-hans") -> dict[str, Any]:
    return {"brand": rec.partner.slug, "score": round(rec.score, 4), "reasons": rec.reasons(language)}


def outcome_record(
    *,
    brand_a_id: int,
    brand_b_id: int,
    kind: str,
    reason: str = "",
    key: str,
    a_new_members: int | None = None,
    b_new_members: int | None = None,
    slot: str | None = None,
) -> Outcome:
    """Record one outcome produced by the exchange (a proposal made, accepted, declined with a
    reason, expired; a campaign completed). Idempotent on ``key``: recording the same fact
    again returns the first row. Called inside the caller's transaction, so the outcome lands
    with the state change.

    ``slot``: the recommendation slot the pair came from (``SlotType``, ranked or explore;
    blank: not recommended to ``brand_a``), recorded so evaluation can tell explored pairs
    apart. The exchange passes the slot it stamped on the proposal when it was made — by the
    time the proposal is answered, the refresh it triggered has removed the pair's row. None
    reads the slot from ``brand_a``'s stored recommendations now."""
    if slot is None:
        slot = recommendation_slot(brand_id=brand_a_id, partner_id=brand_b_id)
    elif slot and slot not in SlotType.values:
        raise ValueError(f"unknown slot {slot!r}")
    outcome, _created = Outcome.objects.get_or_create(
        key=key,
        defaults={
            "brand_a_id": brand_a_id,
            "brand_b_id": brand_b_id,
            "outcome": OutcomeKind(kind),
            "reason": reason,
            "source": OutcomeSource.EXCHANGE,
            # a completed campaign's new members per leg: the label's grade (yield over reach)
            "a_new_members": a_new_members,
            "b_new_members": b_new_members,
            "slot": slot,
        },
    )
    return outcome
