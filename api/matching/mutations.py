"""Write side of the matching domain: dismiss a recommended partner or undo it (a brand's editors),
retrain the matcher (platform admins). One service call each; the services decide
object-level permission and validate."""

from __future__ import annotations

import graphene

from api.core.ids import brand_for, encode_id
from api.core.mutations import BaseMutation, Permission
from api.matching.types import PartnerProfile, TrainingRunNode
from matching import services


class DismissRecommendation(BaseMutation):
    """Never recommend ``partner`` to ``brand`` again (survives every refresh; idempotent).
    Owners, marketers and write keys of ``brand``, or admins."""

    dismissed_partner_id = graphene.ID(description="The dismissed partner's Brand ID.")
    partner = graphene.Field(PartnerProfile)

    class Arguments:
        brand = graphene.ID(required=True, description="Your brand.")
        partner = graphene.ID(required=True, description="The recommended partner's Brand ID (partner.id).")

    @classmethod
    def perform(cls, actor, info, brand, partner):
        target = brand_for(actor, brand)
        other = brand_for(actor, partner, field="partner")
        services.recommendation_dismiss(actor=actor, brand=target, partner=other)
        return {"dismissed_partner_id": encode_id("Brand", other.pk), "partner": other}


class UndismissRecommendation(BaseMutation):
    """Undo ``dismissRecommendation``: ``partner`` may be recommended to ``brand`` again from
    the next refresh (idempotent). The same callers as dismissing."""

    restored_partner_id = graphene.ID(description="The partner's Brand ID.")

    class Arguments:
        brand = graphene.ID(required=True, description="Your brand.")
        partner = graphene.ID(required=True, description="The dismissed partner's Brand ID.")

    @classmethod
    def perform(cls, actor, info, brand, partner):
        target = brand_for(actor, brand)
        other = brand_for(actor, partner, field="partner")
        services.recommendation_undismiss(actor=actor, brand=target, partner=other)
        return {"restored_partner_id": encode_id("Brand", other.pk)}


class RetrainMatcher(BaseMutation):
    """Queue a training run from the outcomes in the database (platform admins). Poll
    ``trainingRun(id)`` for ``state`` and ``progress``. The new model is activated if on its
    hold-out set it scores no lower than the heuristic and the active model, or always with
    ``force``; otherwise ``message`` says why not."""

    permission = Permission.ADMIN
    training_run = graphene.Field(TrainingRunNode)

    class Arguments:
        force = graphene.Boolean(default_value=False, description="Activate the new model even if it scores lower.")

    @classmethod
    def perform(cls, actor, info, force=False):
        return {"training_run": services.training_run_start(actor=actor, force=bool(force))}


class MatchingMutation(graphene.ObjectType):
    dismiss_recommendation = DismissRecommendation.Field()
    undismiss_recommendation = UndismissRecommendation.Field()
    retrain_matcher = RetrainMatcher.Field()
