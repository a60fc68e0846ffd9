"""Read side of the matching domain: a brand's recommendations, and the model lifecycle for
platform admins. Resolvers are thin: decode input, call one selector.

Callers who may not see something get nothing (an empty list, null) rather than an error,
as everywhere else in the API; only malformed input (a wrong ID type, a bad filter) and an
ambiguous brand are errors.
"""

from __future__ import annotations

import graphene
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext as _
from graphql import GraphQLError

from api.core.errors import ApiError, graphql_error_from
from api.core.ids import decode_id
from api.core.types import ScopedConnectionField, actor_of
from api.matching.filters import RECOMMENDATION_ARGS, recommendation_filters
from api.matching.types import (
    MatcherModelNode,
    RecommendationNode,
    TrainingRunNode,
    with_recommendation_prefetches,
)
from matching import selectors
from matching.models import MatcherModel, Recommendation, TrainingRun
from partners import selectors as partner_selectors
from partners.actors import Actor
from partners.models import Brand

BRAND_REQUIRED = "brand_required"


def _brand_for_recommendations(actor: Actor, global_id: str | None) -> Brand | None:
    """The brand whose recommendations are asked for, or None when the caller may not see
    it (answered with an empty list, whether it exists or not)."""
    if global_id is None:
        if not actor.is_authenticated:
            raise GraphQLError(
                _("Sign in or use an API key to see recommendations."),
                extensions={"code": ApiError.UNAUTHENTICATED.value},
            )
        if len(actor.brand_ids) != 1:
            raise GraphQLError(
                _("You belong to %(n)d brands; pass `brand` to say whose recommendations you want.")
                % {"n": len(actor.brand_ids)},
                extensions={"code": BRAND_REQUIRED, "field": "brand"},
            )
        (pk,) = actor.brand_ids
    else:
        try:
            pk = decode_id(global_id, "Brand", field="brand")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
    return partner_selectors.brand_get(actor=actor, pk=pk)


def _admin_only(query):
    """Run an admin-only selector; anyone else sees nothing."""
    try:
        return query()
    except PermissionDenied:
        return None


class MatchingQuery(graphene.ObjectType):
    recommendations = ScopedConnectionField(
        RecommendationNode,
        description="Partners recommended to a brand, best first. Your own brand (members and its API keys) or, "
        "for platform admins, any brand. Dismissed and no-longer-eligible partners never appear.",
        **RECOMMENDATION_ARGS,
    )
    matcher_models = ScopedConnectionField(MatcherModelNode, description="Trained models, newest first (admins).")
    active_matcher_model = graphene.Field(MatcherModelNode, description="The model serving now (admins).")
    training_runs = ScopedConnectionField(TrainingRunNode, description="Training runs, newest first (admins).")
    training_run = graphene.Field(
        TrainingRunNode, id=graphene.ID(required=True), description="One training run, to poll its progress (admins)."
    )

    def resolve_recommendations(root, info, brand=None, **kwargs):
        actor = actor_of(info)
        try:
            filters = recommendation_filters(kwargs)
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        target = _brand_for_recommendations(actor, brand)
        if target is None:
            return Recommendation.objects.none()
        return with_recommendation_prefetches(selectors.recommendation_list(actor=actor, brand=target, **filters), info)

    def resolve_matcher_models(root, info, **kwargs):
        found = _admin_only(lambda: selectors.model_history(actor=actor_of(info)))
        return MatcherModel.objects.none() if found is None else found

    def resolve_active_matcher_model(root, info):
        if not actor_of(info).is_admin:
            return None
        return selectors.model_active()

    def resolve_training_runs(root, info, **kwargs):
        found = _admin_only(lambda: selectors.training_run_list(actor=actor_of(info)))
        return TrainingRun.objects.none() if found is None else found.select_related("requested_by")

    def resolve_training_run(root, info, id):
        try:
            pk = decode_id(id, "TrainingRun")
        except ValidationError as exc:
            raise graphql_error_from(exc) from None
        run = _admin_only(lambda: selectors.training_run_get(actor=actor_of(info), run_id=pk))
        return run
