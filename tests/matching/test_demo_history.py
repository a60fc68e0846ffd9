"""The demo market comes with a swap history and a trained matcher, loaded once."""

import pytest
from django.core.management import call_command

from matching.models import MatcherModel, Outcome, Recommendation
from matching.selectors import matcher_serving
from matching.training import GATE_NOT_BETTER, GATE_PASSED, GATE_TOO_FEW
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
    # The ranking gate decides (never forced): the active model beats the heuristic on the gate
    # metric — held-out brands' NDCG@10, 95 % interval of the difference above zero — or the
    # heuristic serves. The recommendations come from whichever serves.
    m = model.metrics
    assert m["baseline"] == "heuristic" and not m["forced"]
    assert model.is_active == (m["gate"] == GATE_PASSED)
    if model.is_active:
        assert m["ndcg"] > m["ndcg_heuristic"] and m["ndcg_diff_low"] > 0
    else:
        assert m["gate"] in (GATE_NOT_BETTER, GATE_TOO_FEW)
    serving = matcher_serving()
    assert serving.version == model.version and (serving.model is not None) == model.is_active
    served = model.version if model.is_active else 0
    assert set(Recommendation.objects.values_list("model_version", flat=True)) == {served}

    before = Outcome.objects.count()
    call_command("load_demo", generated=60, stdout=open("/dev/null", "w"))
    assert Outcome.objects.count() == before  # the history is loaded once
