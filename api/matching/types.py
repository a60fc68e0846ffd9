"""GraphQL types of the matching domain.

* ``Recommendation`` — one stored recommendation of a brand: rank, score, its components,
  reasons in the request's language, the partner's public profile, the model version.
* ``PartnerProfile`` — the recommended brand as every other brand may see it: the public
  profile fields of ``Brand`` and nothing else (no status, legal identity, channels, keys
  or audit, not even as nulls), so a recommendation can never become a path to private data.
* ``MatcherModel`` and ``TrainingRun`` — the model lifecycle, for platform admins only.

All are scoped through ``ScopedObjectType.scope``; list resolvers call the matching
selectors, which scope and load what these types show.
"""

from __future__ import annotations

import graphene
from django.db.models import Prefetch, QuerySet
from graphene.types.generic import GenericScalar

from api.core.ids import encode_id
from api.core.loaders import selects
from api.core.scalars import BigInt
from api.core.types import ScopedObjectType, request_language
from api.partners.types import PREFETCHED_CHANNELS, BrandNode, CategoryNode
from matching import selectors
from matching.models import MatcherModel, Recommendation, TrainingRun
from partners.actors import Actor
from partners.models import Brand, Channel
from partners.validation import BRAND_PUBLIC_PROFILE_FIELDS

COMPONENTS = ("scale", "positioning", "audience", "category")


class PartnerProfile(ScopedObjectType):
    """A recommended partner's public profile. ``id`` is its ``Brand`` ID (use it with
    ``brand(id:)`` or ``dismissRecommendation``)."""

    id = graphene.ID(required=True, description="The partner's Brand ID.")
    name = graphene.String(required=True, description="In the request's language.")
    name_zh = graphene.String(required=True)
    name_en = graphene.String(required=True)
    category = graphene.Field(graphene.NonNull(CategoryNode))
    tone_tags = graphene.List(graphene.NonNull(graphene.String), required=True)
    tone_tag_labels = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="`toneTags` in the request's language, same order (a free tag is its own label).",
    )
    audience = GenericScalar(description="{gender, age, city_tier: {key: share}, regions: [ISO 3166-2:CN]}")
    store_count = BigInt(required=True)
    active_audience = BigInt(required=True, description="Σ channel size × active rate.")
    channel_types = graphene.List(graphene.NonNull(graphene.String), required=True)
    channel_type_labels = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="`channelTypes` in the request's language."
    )

    class Meta:
        model = Brand
        name = "PartnerProfile"
        # BrandNode stays the type graphene-django maps Brand foreign keys to.
        skip_registry = True
        fields = (
            "id",
            "slug",
            "name_zh",
            *BRAND_PUBLIC_PROFILE_FIELDS,
            "tone_tag_labels",
            "active_audience",
            "channel_types",
            "channel_type_labels",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.partner_profile_visible(actor=actor)

    def resolve_id(self, info):
        return encode_id("Brand", self.pk)

    # The public resolvers of BrandNode, shared so both types answer identically.
    resolve_name = BrandNode.resolve_name
    resolve_name_zh = BrandNode.resolve_name_zh
    resolve_name_en = BrandNode.resolve_name_en
    resolve_category = BrandNode.resolve_category
    resolve_tone_tags = BrandNode.resolve_tone_tags
    resolve_tone_tag_labels = BrandNode.resolve_tone_tag_labels
    resolve_channel_types = BrandNode.resolve_channel_types
    resolve_channel_type_labels = BrandNode.resolve_channel_type_labels

    def resolve_audience(self, info):
        return self.audience or {}


class RecommendationComponents(graphene.ObjectType):
    """The parts of a recommendation's score, each in [0, 1]."""

    scale = graphene.Float(required=True, description="Comparable private-domain scale (active audience).")
    positioning = graphene.Float(required=True, description="Price tier and tone fit.")
    audience = graphene.Float(required=True, description="Audience fit (gender, age, city tier, regions).")
    category = graphene.Float(required=True, description="Category fit, learned from past swaps where known.")
    learned = graphene.Float(description="The trained model's score; null while the heuristic serves.")


class RecommendationNode(ScopedObjectType):
    components = graphene.Field(graphene.NonNull(RecommendationComponents))
    reasons = graphene.List(
        graphene.NonNull(graphene.String),
        required=True,
        description="2–4 short reasons in the request's language (Accept-Language; Chinese by default).",
    )
    partner = graphene.Field(graphene.NonNull(PartnerProfile))
    model_version = graphene.Int(required=True, description="The model that ranked it; 0 = the heuristic.")
    explore = graphene.Boolean(
        required=True,
        description="An exploration slot (新发现 / New): a plausible partner few brands have tried yet, shown so "
        "the matcher keeps learning where it was wrong (1 in MATCHING_EXPLORE_EVERY slots); its first reason says so.",
    )

    class Meta:
        model = Recommendation
        name = "Recommendation"
        interfaces = (graphene.relay.Node,)
        fields = ("id", "rank", "score", "components", "reasons", "partner", "model_version", "created_at")

    def resolve_explore(self, info) -> bool:
        return self.is_explore

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.recommendation_visible(actor=actor)

    def resolve_components(self, info):
        stored = self.components or {}
        values = {name: float(stored.get(name) or 0.0) for name in COMPONENTS}
        values["learned"] = stored.get("learned")
        return RecommendationComponents(**values)

    def resolve_reasons(self, info):
        return list(self.reasons(request_language()))

    def resolve_partner(self, info):
        return self.partner  # select_related by the selector


def with_recommendation_prefetches(qs: QuerySet, info) -> QuerySet:
    """One query for the partners' channel types of the whole page (public: types only)."""
    if selects(info, "channelTypes"):
        qs = qs.prefetch_related(
            Prefetch(
                "partner__channels",
                queryset=Channel.objects.only("id", "brand_id", "type").order_by("type"),
                to_attr=PREFETCHED_CHANNELS,
            )
        )
    return qs


# --- Model lifecycle (platform admins) ----------------------------------------------------------
class MatcherModelNode(ScopedObjectType):
    features = graphene.List(graphene.NonNull(graphene.String), required=True)
    metrics = GenericScalar(
        required=True,
        description="Offline metrics. The ranking gate: ndcg / recall (NDCG@10, recall@10 on held-out brands), "
        "ndcg_baseline / recall_baseline of the ranker it was compared with (baseline: heuristic | model, "
        "compared_version), ndcg_diff with its 95% bootstrap interval ndcg_diff_low / ndcg_diff_high, gate "
        "(passed | not_better | too_few_queries), eval_queries, folds, ndcg_by_blend, blend_weight, group_weights; "
        "also outcomes, positives, auc / auc_heuristic (held-out tried pairs). Models trained before the gate carry "
        "auc, auc_heuristic, auc_learned, auc_active, train/holdout sizes.",
    )
    training_size = BigInt(required=True, description="Outcomes it was trained on.")
    blend_weight = graphene.Float(required=True, description="Share of the learned score in the final score.")

    class Meta:
        model = MatcherModel
        name = "MatcherModel"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "version",
            "created_at",
            "training_size",
            "features",
            "metrics",
            "blend_weight",
            "is_active",
            "activated_at",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.matcher_model_visible(actor=actor)

    def resolve_features(self, info):
        return list(self.features or [])

    def resolve_metrics(self, info):
        return self.metrics or {}


class TrainingRunNode(ScopedObjectType):
    state = graphene.String(required=True, description="queued, running, succeeded or failed.")
    progress = graphene.Float(required=True, description="0–1, updated by the worker as it trains.")
    model = graphene.Field(MatcherModelNode, description="The model it trained (once succeeded).")
    metrics = GenericScalar(required=True)
    requested_by = graphene.String(description="The admin who asked for it (e-mail).")
    message = graphene.String(required=True, description="What the run is doing, or how it ended, in your language.")
    message_code = graphene.String(
        description="The message as a code (starting, training, …, activated, not_enough_outcomes, internal_error)."
    )

    class Meta:
        model = TrainingRun
        name = "TrainingRun"
        interfaces = (graphene.relay.Node,)
        fields = (
            "id",
            "state",
            "progress",
            "message",
            "message_code",
            "force",
            "model",
            "activated",
            "metrics",
            "requested_by",
            "created_at",
            "finished_at",
        )

    @classmethod
    def scope(cls, actor: Actor) -> QuerySet:
        return selectors.training_run_visible(actor=actor)

    def resolve_state(self, info):
        return self.state

    def resolve_model(self, info):
        return self.model  # select_related (without the artefact) by the selector

    def resolve_metrics(self, info):
        return self.metrics or {}

    def resolve_requested_by(self, info):
        return self.requested_by.email if self.requested_by_id else None

    def resolve_message(self, info):
        return self.message_text()

    def resolve_message_code(self, info):
        return self.message_code or None
