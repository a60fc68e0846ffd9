"""The demo market comes with a swap history and a trained matcher, loaded once."""

import pytest
from django.core.management import call_command

from matching.models import MatcherModel, Outcome, Recommendation
from matching.selectors import matcher_serving
from partners.models import Brand, BrandStatus
from partners.selectors import brands_compete, competing_category_map

pytestmark = pytest.mark.django_db


def test_load_demo_trains_a_model_from_a_history_without_competitor_pairs():
    call_command("load_demo", generated=60, stdout=open("/dev/null", "w"))
    assert Outcome.objects.count() > 100
    outcomes = set(Outcome.objects.values_list("outcome", flat=True))
    assert {"declined", "completed"} <= outcomes
    cmap = competing_category_map()
    brands = Brand.objects.in_bulk()
    for a, b in Outcome.objects.values_list("brand_a_id", "brand_b_id"):
        assert brands[a].status == brands[b].status == BrandStatus.APPROVED
        assert not brands_compete(brands[a], brands[b], category_map=cmap)
    model = MatcherModel.objects.get()
    # trained on the imported history (the demo's proposals are recorded after training)
    assert model.training_size == Outcome.objects.filter(source="import").count()
    # Activated only if it scores no lower than the heuristic on its hold-out set (not forced);
    # the recommendations come from whichever serves.
    assert model.is_active == (model.metrics["auc"] >= model.metrics["auc_heuristic"])
    serving = matcher_serving()
    assert serving.version == model.version and (serving.model is not None) == model.is_active
    served = model.version if model.is_active else 0
    assert set(Recommendation.objects.values_list("model_version", flat=True)) == {served}

    before = Outcome.objects.count()
    call_command("load_demo", generated=60, stdout=open("/dev/null", "w"))
    assert Outcome.objects.count() == before  # the history is loaded once
