"""A one-brand refresh that lands while the nightly full refresh is writing must wait for it
and then succeed — not die on a duplicate (brand, partner) row and lose its update."""

import threading
import time

import pytest
from django.db import connection

from matching import market as market_cache
from matching import refresh, storage
from matching.models import Recommendation
from tests.factories import make_brand


@pytest.mark.django_db(transaction=True)
def test_single_brand_refresh_during_a_full_refresh_waits_then_both_succeed(monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the race is between PostgreSQL transactions; SQLite has one writer at a time")
    market_cache.reset_cache()
    me = make_brand("me-coffee", "beverage.coffee")
    for i, code in enumerate(["food.bakery", "toys.collectibles", "fitness", "pets"]):
        make_brand(f"partner-{i}", code)

    started, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    real_write_all = storage.write_all

    def held_write_all(chunks):
        def gated():  # runs after the full refresh's DELETE, inside its transaction
            started.set()
            release.wait(20)
            yield from chunks

        return real_write_all(gated())

    monkeypatch.setattr(storage, "write_all", held_write_all)

    def run(fn):
        try:
            fn()
        except BaseException as exc:  # reported to the test below
            errors.append(exc)
        finally:
            connection.close()

    full = threading.Thread(target=run, args=(refresh.refresh_all,))
    single = threading.Thread(target=run, args=(lambda: refresh.refresh_brand(me.pk),))
    full.start()
    assert started.wait(20), "the full refresh never reached its write"
    single.start()
    time.sleep(0.5)  # the single refresh is now blocked behind the full one
    release.set()
    full.join(30)
    single.join(30)
    market_cache.reset_cache()
    assert not errors, errors
    assert Recommendation.objects.filter(brand=me).count() == 4
