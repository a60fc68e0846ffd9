"""The matching ``<noun>_visible(*, actor)`` selectors: a brand's recommendations are its
own, recommended partners are approved brands' public profiles, and the model lifecycle is
the platform admins'."""

from __future__ import annotations

import pytest

from matching import selectors
from matching.models import MatcherModel, Recommendation, TrainingRun, TrainingState
from partners import services
from partners.actors import Actor
from partners.models import BrandStatus
from tests.factories import BrandFactory, category


@pytest.fixture
def recs(brand, other_brand):
    partner = BrandFactory(slug="partner", category=category("food.bakery"))
    for owner_brand in (brand, other_brand):
        Recommendation.objects.create(brand=owner_brand, partner=partner, rank=1, score=0.5, components={})
    return partner


@pytest.fixture
def lifecycle(db):
    model = MatcherModel.objects.create(version=1, artefact=b"blob", is_active=True)
    TrainingRun.objects.create(state=TrainingState.SUCCEEDED, model=model, progress=1.0)
    return model


def test_recommendation_visible_to_own_brand_and_admins_only(
    recs, brand, other_brand, owner_actor, other_actor, admin_actor
):
    assert set(selectors.recommendation_visible(actor=owner_actor).values_list("brand_id", flat=True)) == {brand.pk}
    assert set(selectors.recommendation_visible(actor=other_actor).values_list("brand_id", flat=True)) == {
        other_brand.pk
    }
    assert not selectors.recommendation_visible(actor=Actor()).exists()
    assert selectors.recommendation_visible(actor=admin_actor).count() == Recommendation.objects.count() == 2


def test_recommendation_visible_to_the_brands_own_api_key(recs, brand, owner_actor):
    key, _raw = services.api_key_create(actor=owner_actor, brand=brand, name="k", scopes=["read"])
    assert set(selectors.recommendation_visible(actor=Actor(api_key=key)).values_list("brand_id", flat=True)) == {
        brand.pk
    }


def test_recommendation_list_of_another_brand_is_empty(recs, brand, other_actor):
    assert not selectors.recommendation_list(actor=other_actor, brand=brand).exists()


def test_partner_profile_visible_is_approved_brands_only(recs, other_actor, admin_actor):
    hidden = BrandFactory(slug="pending-partner", status=BrandStatus.PENDING)
    for actor in (other_actor, admin_actor, Actor()):
        visible = selectors.partner_profile_visible(actor=actor)
        assert recs in visible and hidden not in visible


@pytest.mark.parametrize("model_selector", [selectors.matcher_model_visible, selectors.training_run_visible])
def test_model_lifecycle_is_visible_to_admins_only(lifecycle, owner_actor, brand, model_selector, admin_actor):
    key, _raw = services.api_key_create(actor=owner_actor, brand=brand, name="k", scopes=["read", "write"])
    for outsider in (owner_actor, Actor(api_key=key), Actor()):
        assert not model_selector(actor=outsider).exists()
    assert model_selector(actor=admin_actor).count() == 1


def test_matcher_model_visible_leaves_the_artefact_unloaded(lifecycle, admin_actor):
    model = selectors.matcher_model_visible(actor=admin_actor).get()
    assert "artefact" in model.get_deferred_fields()
