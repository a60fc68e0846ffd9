"""The demo market comes with a swap history and a trained matcher, loaded once."""

import pytest
from django.core.management import call_command

from matching.models import MatcherModel, Outcome, Recommendation
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
    active = MatcherModel.objects.get(is_active=True)
    # trained on the imported history (the demo's proposals are recorded after training)
    assert active.training_size == Outcome.objects.filter(source="import").count()
    assert Recommendation.objects.filter(model_version=active.version).exists()

    before = Outcome.objects.count()
    call_command("load_demo", generated=60, stdout=open("/dev/null", "w"))
    assert Outcome.objects.count() == before  # the history is loaded once
