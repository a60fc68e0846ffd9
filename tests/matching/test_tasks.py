"""Refresh scheduling: brand_changed → one debounced refresh; a real worker writes the rows."""

from __future__ import annotations

from unittest import mock

import pytest

from matching import services, tasks
from matching.models import Recommendation
from partners.models import Brand
from partners.signals import brand_changed, brands_imported
from tests.conftest import wait_for
from tests.factories import make_brand


@pytest.mark.django_db
def test_five_changes_in_a_row_schedule_one_refresh(settings):
    settings.MATCHING_REFRESH_DEBOUNCE = 30
    brand, other = make_brand("a-coffee", "beverage.coffee"), make_brand("b-bakery")
    with mock.patch.object(tasks.recommendations_refresh_brand_task, "apply_async") as enqueue:
        for change in ("profile", "channels", "profile", "blocks", "status"):
            brand_changed.send(sender=Brand, brand_id=brand.pk, change=change)
        assert enqueue.call_count == 1
        assert enqueue.call_args == mock.call((brand.pk,), countdown=30)
        brand_changed.send(sender=Brand, brand_id=other.pk, change="profile")
        assert enqueue.call_count == 2


@pytest.mark.django_db
def test_a_change_after_the_refresh_started_schedules_another(settings):
    brand = make_brand("a-coffee", "beverage.coffee")
    make_brand("b-bakery")
    with mock.patch.object(tasks.recommendations_refresh_brand_task, "apply_async") as enqueue:
        brand_changed.send(sender=Brand, brand_id=brand.pk, change="profile")
        tasks.recommendations_refresh_brand_task.run(brand.pk)  # the worker runs it: clears the key
        brand_changed.send(sender=Brand, brand_id=brand.pk, change="profile")
        assert enqueue.call_count == 2
    assert Recommendation.objects.filter(brand=brand).exists()


@pytest.mark.django_db
def test_bulk_import_schedules_one_full_refresh():
    with mock.patch.object(tasks.recommendations_refresh_all_task, "apply_async") as enqueue:
        brands_imported.send(sender=Brand, brand_ids=[1, 2, 3])
        brands_imported.send(sender=Brand, brand_ids=[4])
    assert enqueue.call_count == 1


@pytest.mark.django_db
def test_channel_change_through_the_service_refreshes_the_brand(admin_actor, django_capture_on_commit_callbacks):
    from partners.services import brand_channels_set

    brand = make_brand("a-coffee", "beverage.coffee", scale=100_000)
    make_brand("b-bakery", scale=400_000)
    services.recommendations_refresh_brand(brand_id=brand.pk)
    assert Recommendation.objects.get(brand=brand).components["scale"] < 0.5  # 10万 vs 40万: 4× apart
    with django_capture_on_commit_callbacks(execute=True):  # eager Celery: the task runs inline
        brand_channels_set(
            actor=admin_actor, brand=brand, channels=[{"type": "wecom", "size": 800_000, "active_rate": 0.5}]
        )
    rec = Recommendation.objects.get(brand=brand)
    assert rec.components["scale"] == 1.0
    assert "规模相当：活跃受众 40万 vs 40万" in rec.reasons_zh


def test_nightly_full_refresh_is_scheduled_with_an_expiry(settings):
    entry = settings.CELERY_BEAT_SCHEDULE["matching-refresh-all"]
    assert entry["task"] == "matching.tasks.recommendations_refresh_all_task"
    assert entry["options"]["expires"] > 0


@pytest.mark.worker
def test_worker_refreshes_recommendations_after_a_channel_change(celery_worker, admin_user, settings):
    from partners.actors import Actor
    from partners.services import brand_channels_set

    settings.MATCHING_REFRESH_DEBOUNCE = 1
    brand = make_brand("a-coffee", "beverage.coffee", scale=100_000)
    make_brand("b-bakery", scale=400_000)
    make_brand("c-snacks", "food.snacks", scale=50_000)
    brand_channels_set(
        actor=Actor(user=admin_user), brand=brand, channels=[{"type": "wecom", "size": 800_000, "active_rate": 0.5}]
    )  # commits (transactional test) → brand_changed → Redis → the worker

    def refreshed():
        rec = Recommendation.objects.filter(brand=brand, partner__slug="b-bakery").first()
        return rec if rec and "规模相当：活跃受众 40万 vs 40万" in rec.reasons_zh else None

    rec = wait_for(refreshed, timeout=60)
    assert rec.rank == 1
    assert set(Recommendation.objects.filter(brand=brand).values_list("partner__slug", flat=True)) == {
        "b-bakery",
        "c-snacks",
    }
