"""The rollups writer: deltas accumulate per leg and day, visitors are counted once a day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from exchange.models import LegDayMetrics
from exchange.services.rollups import day_of, deltas_merge, rollup_add, visitors_add

pytestmark = pytest.mark.django_db

DAY = date(2026, 12, 1)


@pytest.fixture
def leg(campaign):
    return campaign.legs.first()


def test_deltas_accumulate_on_one_row_per_leg_and_day(leg):
    rollup_add({(leg.pk, DAY): {"clicks": 3, "gmv_cents": 1_000}})
    rollup_add({(leg.pk, DAY): {"clicks": 2, "conversions": 1}, (leg.pk, date(2026, 12, 2)): {"clicks": 1}})
    rows = {r.day: r for r in LegDayMetrics.objects.filter(leg=leg)}
    assert (rows[DAY].clicks, rows[DAY].conversions, rows[DAY].gmv_cents) == (5, 1, 1_000)
    assert rows[date(2026, 12, 2)].clicks == 1


def test_negative_delta_takes_back_a_reversed_order(leg):
    rollup_add({(leg.pk, DAY): {"conversions": 2, "gmv_cents": 5_000}})
    rollup_add({(leg.pk, DAY): {"conversions": -1, "gmv_cents": -2_000}})
    row = LegDayMetrics.objects.get(leg=leg, day=DAY)
    assert (row.conversions, row.gmv_cents) == (1, 3_000)


def test_unknown_metric_is_refused_and_writes_nothing(leg):
    with pytest.raises(ValueError, match="unknown metrics"):
        rollup_add({(leg.pk, DAY): {"clicks": 1, "likes": 1}})
    assert not LegDayMetrics.objects.exists()


def test_visitors_count_once_per_leg_and_day(leg):
    assert visitors_add([(leg.pk, DAY, "v1"), (leg.pk, DAY, "v2"), (leg.pk, DAY, "v1")]) == {(leg.pk, DAY): 2}
    assert visitors_add([(leg.pk, DAY, "v2"), (leg.pk, DAY, "v3"), (leg.pk, date(2026, 12, 2), "v1")]) == {
        (leg.pk, DAY): 1,
        (leg.pk, date(2026, 12, 2)): 1,
    }


def test_day_is_the_date_in_shanghai():
    assert day_of(datetime(2026, 11, 30, 16, 30, tzinfo=UTC)) == date(2026, 12, 1)
    assert day_of(datetime(2026, 11, 30, 15, 59, tzinfo=UTC)) == date(2026, 11, 30)


def test_merge_sums_parts():
    merged = deltas_merge({(1, DAY): {"clicks": 1}}, {(1, DAY): {"clicks": 2, "new_members": 1}})
    assert merged == {(1, DAY): {"clicks": 3, "new_members": 1}}
