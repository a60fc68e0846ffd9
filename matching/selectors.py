"""Reads of the matching domain, each scoped to the caller (``actor``).

``recommendation_list`` re-applies every hard constraint at read time (belt and braces): a
partner suspended, un-approved, blocked, newly competing or dismissed since the last refresh
disappears from the list at once, before the refresh task has run.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from matching.models import Dismissal, MatcherModel, Recommendation, TrainingRun
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand, BrandStatus


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
    if not actor.can_view_private(brand.pk) or brand.status != BrandStatus.APPROVED:
        return Recommendation.objects.none()
    qs = (
        Recommendation.objects.filter(brand=brand, partner__status=BrandStatus.APPROVED)
        .exclude(partner_id=brand.pk)
        .exclude(partner__in=Brand.objects.filter(partner_selectors.competitor_exclusion(brand)))
        .exclude(partner__in=Dismissal.objects.filter(brand=brand).values("partner_id"))
        .select_related("partner", "partner__category")
        .order_by("rank", "id")
    )
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


def dismissal_list(*, actor: Actor, brand: Brand) -> QuerySet[Dismissal]:
    if not actor.can_view_private(brand.pk):
        return Dismissal.objects.none()
    return Dismissal.objects.filter(brand=brand).select_related("partner").order_by("-created_at")


def model_active() -> MatcherModel | None:
    """The model serving recommendations, or None (cold start: the heuristic serves)."""
    return MatcherModel.objects.filter(is_active=True).defer("artefact").first()


def model_history(*, actor: Actor) -> QuerySet[MatcherModel]:
    """Every trained model, newest first (without the artefact blob). Platform admins only."""
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    return MatcherModel.objects.defer("artefact").order_by("-version")


def training_run_list(*, actor: Actor) -> QuerySet[TrainingRun]:
    if not actor.is_admin:
        raise PermissionDenied("platform admins only")
    return TrainingRun.objects.select_related("model").defer("model__artefact")


def training_run_get(*, actor: Actor, run_id: int) -> TrainingRun | None:
    """One training run, to poll its ``state``/``progress``/``message`` (admins only)."""
    return training_run_list(actor=actor).filter(pk=run_id).first()
