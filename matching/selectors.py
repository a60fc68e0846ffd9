"""Reads of the matching domain, each scoped to the caller (``actor``).

``recommendation_list`` re-applies every hard constraint at read time (belt and braces): a
partner suspended, un-approved, blocked, newly competing or dismissed since the last refresh
disappears from the list at once, before the refresh task has run.

``<noun>_visible(*, actor)`` answers "which rows may this caller see at all?" once per
type; the GraphQL types' ``scope()`` and the list selectors build on it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from matching import training
from matching.exclusions import excluded_open_pairs
from matching.models import Dismissal, MatcherModel, Recommendation, ServingReason, TrainingRun
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand, BrandStatus

logger = logging.getLogger(__name__)


def partner_profile_visible(*, actor: Actor) -> QuerySet[Brand]:
    """Brands whose public profile may appear as a recommended partner: only approved ones
    are ever recommended, and their public profile is for everyone."""
    return partner_selectors.brand_visible(actor=actor).filter(status=BrandStatus.APPROVED)


def recommendation_visible(*, actor: Actor) -> QuerySet[Recommendation]:
    """A brand's recommendations are private to it (its members, its keys) and admins."""
    if actor.is_admin:
        return Recommendation.objects.all()
    return Recommendation.objects.filter(brand_id__in=actor.brand_ids)


def matcher_model_visible(*, actor: Actor) -> QuerySet[MatcherModel]:
    """Trained models (without the artefact blob): platform admins only, others none."""
    if not actor.is_admin:
        return MatcherModel.objects.none()
    return MatcherModel.objects.defer("artefact")


def training_run_visible(*, actor: Actor) -> QuerySet[TrainingRun]:
    """Training runs: platform admins only, others none."""
    if not actor.is_admin:
        return TrainingRun.objects.none()
    return TrainingRun.objects.all()


def recommendation_list(
    *,
    actor: Actor,
    brand: Brand,
    min_score: float | None = None,
    category: str | None = None,
    scale_min: int | None = None,
    scale_max: int | None = None,
    region: str | None = None,
) -> QuerySet[Recommendation]:
    """Recommended partners for ``brand``, best first, if ``actor`` may see that brand's
    private data (its members, its API keys, admins); otherwise an empty queryset.

    Each row has ``partner`` and ``partner.category`` loaded (constant query count as the
    list grows). Filters: ``min_score`` (0–1), ``category`` (a leaf code, or a group code
    for all its leaves), ``scale_min``/``scale_max`` (partner's active audience),
    ``region`` (ISO 3166-2:CN code the partner's audience covers).
    """
    if brand.status != BrandStatus.APPROVED:
        return Recommendation.objects.none()
    qs = (
        recommendation_visible(actor=actor)
        .filter(brand=brand, partner__status=BrandStatus.APPROVED)
        .exclude(partner_id=brand.pk)
        .exclude(partner__in=Brand.objects.filter(partner_selectors.competitor_exclusion(brand)))
        .exclude(partner__in=Dismissal.objects.filter(brand=brand).values("partner_id"))
        .select_related("partner", "partner__category")
        .order_by("rank", "id")
    )
    # A partner the brand is negotiating with right now leaves the list at once (the next
    # refresh drops the row too).
    negotiating = {b for a, b in excluded_open_pairs([brand.pk]) if a == brand.pk}
    if negotiating:
        qs = qs.exclude(partner_id__in=negotiating)
    if min_score is not None:
        qs = qs.filter(score__gte=min_score)
    if category := (category or "").strip():
        qs = qs.filter(Q(partner__category__code=category) | Q(partner__category__code__startswith=category + "."))
    if scale_min is not None:
        qs = qs.filter(partner__active_audience__gte=scale_min)
    if scale_max is not None:
        qs = qs.filter(partner__active_audience__lte=scale_max)
    if region := (region or "").strip().upper():
        # JSON text match keeps this portable (SQLite has no JSON containment lookup)
        qs = qs.filter(partner__audience__regions__icontains=f'"{region}"')
    return qs


def recommendation_slot(*, brand_id: int, partner_id: int) -> str:
    """The slot (``SlotType``: ranked or explore) ``partner_id`` holds in ``brand_id``'s stored
    recommendations now; blank when it is not recommended to that brand. System read: the
    exchange stamps it on a proposal when the proposal is made."""
    return (
        Recommendation.objects.filter(brand_id=brand_id, partner_id=partner_id).values_list("slot", flat=True).first()
        or ""
    )


def dismissal_list(*, actor: Actor, brand: Brand) -> QuerySet[Dismissal]:
    if not actor.can_view_private(brand.pk):
        return Dismissal.objects.none()
    return (
        Dismissal.objects.filter(brand=brand)
        .select_related("partner", "partner__category")
        .order_by("-created_at", "-id")
    )


def model_active() -> MatcherModel | None:
    """The model serving recommendations, or None (cold start: the heuristic serves)."""
    return MatcherModel.objects.filter(is_active=True).defer("artefact").first()


@dataclass(frozen=True)
class Serving:
    """Which ranker serves recommendations now, and why (``matcher_serving``)."""

    model: MatcherModel | None  # the active model; None: the heuristic serves
    reason: ServingReason
    version: int | None = None  # the model the reason is about (active, or latest not activated)
    auc: float | None = None  # its hold-out AUC
    auc_heuristic: float | None = None  # the heuristic's AUC on the same hold-out rows
    gate: dict = field(default_factory=dict)  # the gate's numbers (NDCG@10 on held-out brands)
    # The newest model when it is not the one serving and the gate refused it (its reason).
    refused: Serving | None = None

    def text(self) -> str:
        """The reason in the active language."""
        label = str(self.reason.label)
        ratio = lambda v: "—" if v is None else f"{v:.3f}"  # noqa: E731
        signed = lambda v: "—" if v is None else f"{v:+.3f}"  # noqa: E731
        g = self.gate
        against = _("the heuristic") if g.get("baseline", "heuristic") == "heuristic" else _("the model it replaced")
        out = label % {
            "v": self.version,
            "auc": ratio(self.auc),
            "heuristic": ratio(self.auc_heuristic),
            "ndcg": ratio(g.get("ndcg")),
            "baseline": ratio(g.get("ndcg_baseline")),
            "diff": signed(g.get("ndcg_diff")),
            "low": signed(g.get("ndcg_diff_low")),
            "high": signed(g.get("ndcg_diff_high")),
            "against": against,
            "n": g.get("eval_queries", 0),
        }
        if self.refused is not None:
            out += " " + self.refused.text()
        return out


def _gated(model: MatcherModel) -> bool:
    return "gate" in (model.metrics or {})


def _model_reason(model: MatcherModel, *, active: bool) -> Serving:
    m = model.metrics or {}
    auc, heuristic = m.get("auc"), m.get("auc_heuristic")
    if _gated(model):
        passed = m.get("gate") == training.GATE_PASSED
        if active:
            reason = ServingReason.GATE_PASSED if passed else ServingReason.GATE_FORCED
        elif m.get("gate") == training.GATE_TOO_FEW:
            reason = ServingReason.GATE_TOO_FEW
        elif m.get("baseline") == "model":
            reason = ServingReason.GATE_REFUSED_ACTIVE
        else:
            reason = ServingReason.GATE_REFUSED
        return Serving(model=model if active else None, reason=reason, version=model.version, gate=m)
    # A model trained before the ranking gate: its hold-out AUCs.
    compared = auc is not None and heuristic is not None
    if not active:
        reason = ServingReason.BELOW_HEURISTIC if compared and auc < heuristic else ServingReason.NONE_ACTIVE
    elif not compared:
        reason = ServingReason.NO_COMPARISON
    else:
        # matcher_train activated a model below the heuristic only when forced.
        reason = ServingReason.NOT_BELOW_HEURISTIC if auc >= heuristic else ServingReason.FORCED
    return Serving(
        model=model if active else None, reason=reason, version=model.version, auc=auc, auc_heuristic=heuristic
    )


def matcher_serving() -> Serving:
    """The model serving recommendations, or the heuristic, with the reason — from the gate's
    numbers (or, for older models, the hold-out AUCs) each model was stored with."""
    active = model_active()
    latest = MatcherModel.objects.defer("artefact").order_by("-version").first()
    if latest is None:
        return Serving(model=None, reason=ServingReason.NO_MODEL)
    if active is None:
        return _model_reason(latest, active=False)
    serving = _model_reason(active, active=True)
    if latest.pk != active.pk and _gated(latest):
        refused = _model_reason(latest, active=False)
        serving = Serving(**{**serving.__dict__, "refused": refused})
    return serving


def serving_feature_weights() -> list[tuple[str, float]]:
    """What the serving model weighs, per feature: (feature, share of the learned score's
    weight), heaviest first (``explain.feature_weights`` — what the reasons quote). [] while
    the heuristic serves, or when the stored model cannot be read. System read: the matcher
    page shows it to admins."""
    from matching import explain, refresh  # the serving artefact, cached per process

    try:
        artefact, _version = refresh.active_artefact()
        return explain.feature_weights(artefact)
    except Exception:  # noqa: BLE001 — an unreadable artefact must not take the page down
        logger.warning("the serving model's artefact could not be read", exc_info=True)
        return []


def model_history(*, actor: Actor) -> QuerySet[MatcherModel]:
    """Every trained model, newest first (without the artefact blob). Platform admins only."""
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    return matcher_model_visible(actor=actor).order_by("-version")


def training_run_list(*, actor: Actor) -> QuerySet[TrainingRun]:
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    return training_run_visible(actor=actor).select_related("model").defer("model__artefact")


def training_run_get(*, actor: Actor, run_id: int) -> TrainingRun | None:
    """One training run, to poll its ``state``/``progress``/``message`` (admins only)."""
    return training_run_list(actor=actor).filter(pk=run_id).first()
