"""Shared fixtures: actors for each role, fresh matching caches, and a real Celery worker process."""

from __future__ import annotations

import importlib
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from huiliu.throttle import throttle_reset
from matching.caches import reset_caches
from partners.actors import Actor
from partners.models import Role
from tests.factories import AdminFactory, BrandFactory, MembershipFactory, UserFactory
from tests.support.workers import start_worker, stop_worker

ROOT = Path(__file__).resolve().parent.parent

pytest_plugins = [
    "tests.fixtures_exchange",
    "tests.fixtures_reported",
    "tests.fixtures_ledger",
    "tests.fixtures_stripe",
]


@pytest.fixture(autouse=True)
def _english_outside_requests():
    """Service and validator messages default to the site language (zh-hans); tests that
    read them outside a request compare English text. Requests still pick their own language
    through LocaleMiddleware."""
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _no_throttle_counts():
    """Request counts and sign-in lockouts live in the cache, which outlives a test: each test
    starts with none (tests/security/test_throttling.py sets low limits to prove them)."""
    throttle_reset()


@pytest.fixture(autouse=True)
def _no_cached_tolerance():
    """The settlement tolerance is cached (exchange.selectors.tolerance_percent); the policy row
    it was read from is rolled back with each test, so no test starts with another's."""
    from django.core.cache import cache

    from exchange.selectors import TOLERANCE_CACHE_KEY

    cache.delete(TOLERANCE_CACHE_KEY)


@pytest.fixture(autouse=True)
def _taxonomy_after_flush(request):
    """Tests on real transactions (a worker process, the live server) end with a flush of
    every table, which also empties the taxonomy that migration 0002 loads. Reload it for
    such tests so their order never matters."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])))
    if not transactional and not {"transactional_db", "live_server", "celery_worker"} & set(request.fixturenames):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps

    importlib.import_module("partners.migrations.0002_taxonomy").load_taxonomy(apps, None)
    importlib.import_module("exchange.migrations.0002_default_rates").load_default_rates(apps, None)


@pytest.fixture
def fresh_matching_state(db):
    """No market or model cached by an earlier test (the database under them was rolled back),
    no debounce key or market version left in the cache; the same after the test."""
    cache.clear()
    reset_caches()
    yield
    cache.clear()
    reset_caches()


@pytest.fixture
def admin_user(db):
    return AdminFactory(username="admin@example.com")


@pytest.fixture
def admin_actor(admin_user):
    return Actor(user=admin_user)


@pytest.fixture
def brand(db):
    return BrandFactory(slug="luckin-coffee", name="瑞幸咖啡", name_en="Luckin Coffee")


@pytest.fixture
def owner(brand):
    return MembershipFactory(brand=brand, role=Role.OWNER, user=UserFactory(username="owner@example.com")).user


@pytest.fixture
def owner_actor(owner):
    return Actor(user=owner)


@pytest.fixture
def other_brand(db):
    from tests.factories import category

    return BrandFactory(slug="pop-mart", name="泡泡玛特", name_en="Pop Mart", category=category("toys.collectibles"))


@pytest.fixture
def other_owner(other_brand):
    return MembershipFactory(brand=other_brand, role=Role.OWNER, user=UserFactory(username="rival@example.com")).user


@pytest.fixture
def other_actor(other_owner):
    return Actor(user=other_owner)


@pytest.fixture
def output_dir(request) -> Path:
    """A per-test folder under test-output/ for screenshots and artefacts."""
    path = ROOT / "test-output" / request.node.name
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def celery_worker(transactional_db):
    """A real `celery worker` process on Redis, for tests of task behaviour.

    Tasks enqueued during the test go through Redis to this worker, which writes to the
    test database; the fixture stops the worker afterwards.
    """
    if not settings.REDIS_URL:
        pytest.fail("the worker tests need REDIS_URL (run them with `make test`)")
    from huiliu.celery import app

    was_eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    import redis

    redis.Redis.from_url(settings.REDIS_URL).flushdb()
    try:
        proc = start_worker()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield proc
    app.conf.task_always_eager = was_eager
    stop_worker(proc)


def wait_for(predicate, timeout: float = 20.0, interval: float = 0.1):
    """Poll until ``predicate()`` is truthy; returns its value or fails the test."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout}s")
