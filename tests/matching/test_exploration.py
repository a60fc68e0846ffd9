"""Exploration slots: 1 in MATCHING_EXPLORE_EVERY stored slots goes to a plausible partner few
brands have tried (新发现 / New), and the exchange's outcomes record which slot they came from."""

from __future__ import annotations

import pytest

from matching import services
from matching.models import Outcome, OutcomeKind, Recommendation, SlotType
from tests.factories import make_brand

pytestmark = pytest.mark.django_db

CATEGORIES = ["food.bakery", "beauty.skincare", "apparel.sportswear", "home.furniture", "travel.hotels", "pets"]


@pytest.fixture
def market(settings):
    settings.MATCHING_TOP_K, settings.MATCHING_EXPLORE_EVERY = 4, 4
    me = make_brand("me-coffee", "beverage.coffee", scale=100_000)
    partners = [make_brand(f"p-{i}", CATEGORIES[i % len(CATEGORIES)], scale=100_000 + 3_000 * i) for i in range(12)]
    # every partner but the last few has been tried a lot
    other = make_brand("other-tea", "beverage.tea_leaf")
    for p in partners[:8]:
        for _ in range(3):
            Outcome.objects.create(brand_a=other, brand_b=p, outcome=OutcomeKind.DECLINED)
    return me, partners


def test_one_slot_in_n_goes_to_an_under_explored_partner_marked_new(market):
    me, partners = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    recs = list(Recommendation.objects.filter(brand=me).order_by("rank"))
    assert [r.rank for r in recs] == [1, 2, 3, 4]
    explored = [r for r in recs if r.slot == SlotType.EXPLORE]
    assert [r.rank for r in explored] == [4]
    assert explored[0].partner.slug in {p.slug for p in partners[8:]} | {"other-tea"}
    assert explored[0].reasons_zh[0].startswith("新发现：") and explored[0].reasons_en[0].startswith("New: ")
    assert 2 <= len(explored[0].reasons_zh) <= 4
    assert all(not r.reasons_zh[0].startswith("新发现") for r in recs if r.slot == SlotType.RANKED)


def test_exploration_can_be_switched_off(market, settings):
    me, _ = market
    settings.MATCHING_EXPLORE_EVERY = 0
    services.recommendations_refresh_brand(brand_id=me.pk)
    assert set(Recommendation.objects.filter(brand=me).values_list("slot", flat=True)) == {SlotType.RANKED}


def test_an_exchange_outcome_records_the_slot_its_pair_was_shown_in(market):
    me, _ = market
    services.recommendations_refresh_brand(brand_id=me.pk)
    explored = Recommendation.objects.get(brand=me, slot=SlotType.EXPLORE)
    ranked = Recommendation.objects.filter(brand=me, slot=SlotType.RANKED).first()
    a = services.outcome_record(brand_a_id=me.pk, brand_b_id=explored.partner_id, kind="proposed", key="x:1")
    b = services.outcome_record(brand_a_id=me.pk, brand_b_id=ranked.partner_id, kind="proposed", key="x:2")
    c = services.outcome_record(brand_a_id=explored.partner_id, brand_b_id=me.pk, kind="proposed", key="x:3")
    assert (a.slot, b.slot, c.slot) == (SlotType.EXPLORE, SlotType.RANKED, "")
