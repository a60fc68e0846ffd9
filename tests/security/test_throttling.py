"""Throttling, backed by the cache: login lockout per account and per IP (django-axes), and
per-IP / per-user / per-key limits (django-ratelimit) on sign-up, brand registration (web
wizard and GraphQL), anonymous GraphQL and API keys. A throttled request gets HTTP 429 with
``Retry-After``; in GraphQL the error code ``rate_limited``. The limits are settings: each test
sets a low one."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from partners import services
from partners.actors import Actor
from partners.models import ApiKeyScope, Brand
from tests.api.conftest import session, with_key
from tests.factories import UserFactory, valid_credit_code
from tests.frontend.test_wizard import AUDIENCE, CHANNELS, PROFILE

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "correct-horse-battery"  # tests.factories.UserFactory's


def from_ip(ip: str) -> Client:
    return Client(REMOTE_ADDR=ip, HTTP_ACCEPT_LANGUAGE="en")


def sign_in(client: Client, email: str, password: str):
    return client.post(reverse("frontend:login"), {"email": email, "password": password})


def assert_throttled(response) -> int:
    assert response.status_code == 429, response.content[:300]
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    return retry_after


@pytest.fixture
def rates(settings):
    """Set low limits: ``rates(signup="2/h")``."""

    def set_rates(**kwargs):
        settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, **kwargs}

    return set_rates


# --- login: django-axes -------------------------------------------------------------------------
@pytest.fixture
def lockout(settings):
    settings.AXES_FAILURE_LIMIT = 3
    return settings


def test_wrong_passwords_lock_the_account_even_against_the_right_password(lockout, owner):
    client = from_ip("203.0.113.5")
    for _ in range(2):
        assert sign_in(client, "owner@example.com", "wrong").status_code == 200
    locked = sign_in(client, "owner@example.com", "wrong")
    retry_after = assert_throttled(locked)
    assert retry_after == lockout.AXES_COOLOFF_TIME.total_seconds()
    assert "Too many failed sign-in attempts" in locked.content.decode()
    # The right password no longer helps, from this address or any other: the account is locked.
    for ip in ("203.0.113.5", "198.51.100.7"):
        client = from_ip(ip)
        assert_throttled(sign_in(client, "owner@example.com", PASSWORD))
        assert "_auth_user_id" not in client.session


def test_wrong_passwords_from_one_address_lock_that_address_for_every_account(lockout, owner):
    attacker = from_ip("203.0.113.9")
    for n in range(3):
        sign_in(attacker, f"guess{n}@example.com", "wrong")
    assert_throttled(sign_in(attacker, "owner@example.com", PASSWORD))
    # The owner, elsewhere, is not locked out by someone else's guesses at other accounts.
    elsewhere = from_ip("198.51.100.7")
    assert sign_in(elsewhere, "owner@example.com", PASSWORD).status_code == 302
    assert "_auth_user_id" in elsewhere.session


def test_a_few_wrong_passwords_below_the_limit_still_let_the_right_one_in(lockout, owner):
    client = from_ip("203.0.113.5")
    for _ in range(2):
        sign_in(client, "owner@example.com", "wrong")
    assert sign_in(client, "owner@example.com", PASSWORD).status_code == 302


def test_an_operator_unlocks_an_account_with_axes_reset_username(lockout, owner):
    from django.core.management import call_command

    client = from_ip("203.0.113.5")
    for _ in range(3):
        sign_in(client, "owner@example.com", "wrong")
    call_command("axes_reset_username", "owner@example.com")
    assert sign_in(from_ip("198.51.100.7"), "owner@example.com", PASSWORD).status_code == 302


def test_the_django_admin_login_is_locked_out_too(lockout, admin_user):
    client = from_ip("203.0.113.5")
    for _ in range(3):
        client.post("/admin/login/", {"username": "admin@example.com", "password": "wrong"})
    response = client.post("/admin/login/", {"username": "admin@example.com", "password": PASSWORD})
    assert_throttled(response)
    assert "_auth_user_id" not in client.session


# --- sign-up --------------------------------------------------------------------------------------
def test_signups_from_one_address_are_throttled(rates):
    rates(signup="2/h")
    client = from_ip("203.0.113.5")
    for n in range(2):
        Client(REMOTE_ADDR="203.0.113.5").post(
            reverse("frontend:signup"), {"email": f"bot{n}@example.com", "password": "Tide-Pool-Lantern-42"}
        )
    response = client.post(
        reverse("frontend:signup"), {"email": "bot9@example.com", "password": "Tide-Pool-Lantern-42"}
    )
    assert_throttled(response)
    assert "Too many requests" in response.content.decode()
    assert not User.objects.filter(username="bot9@example.com").exists()
    # Another address is not affected, and neither is reading the page.
    assert from_ip("198.51.100.7").get(reverse("frontend:signup")).status_code == 200
    ok = from_ip("198.51.100.7").post(
        reverse("frontend:signup"), {"email": "mei@example.com", "password": "Tide-Pool-Lantern-42"}
    )
    assert ok.status_code == 302


# --- brand registration: one budget per user, web wizard and GraphQL -----------------------------
REGISTER = """mutation($input: RegisterBrandInput!) { registerBrand(input: $input) {
  brand { slug } errors { field code message } } }"""


def registration(n: int) -> dict:
    return {
        "slug": f"copy-{n}",
        "name": "瑞幸咖啡",
        "category": "beverage.coffee",
        "creditCode": valid_credit_code(4242),
        "channels": [{"type": "wecom", "size": 1000, "activeRate": 0.5}],
    }


def wizard_submit(client: Client, slug: str):
    client.post(reverse("frontend:wizard_profile"), {**PROFILE, "slug": slug})
    client.post(reverse("frontend:wizard_audience"), AUDIENCE)
    client.post(reverse("frontend:wizard_channels"), CHANNELS)
    return client.post(reverse("frontend:wizard_review"))


def test_brand_registrations_by_one_user_are_throttled_in_the_api(rates):
    rates(brand_register="2/h")
    user = UserFactory(username="copier@example.com")
    api = session(user)
    for n in range(2):
        assert api(REGISTER, {"input": registration(n)})["registerBrand"]["errors"] == []
    response = api.raw(REGISTER, {"input": registration(2)}, HTTP_ACCEPT_LANGUAGE="en")
    assert_throttled(response)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "rate_limited"
    assert error["extensions"]["retryAfter"] == int(response["Retry-After"])
    assert error["message"].startswith("Too many requests")
    assert Brand.objects.filter(slug__startswith="copy-").count() == 2
    # Another user has a budget of their own.
    other = session(UserFactory(username="someone@example.com"))
    assert other(REGISTER, {"input": registration(3)})["registerBrand"]["errors"] == []


def test_the_web_wizard_shares_the_users_registration_budget(rates):
    rates(brand_register="1/h")
    user = UserFactory(username="copier@example.com")
    assert session(user)(REGISTER, {"input": registration(0)})["registerBrand"]["errors"] == []
    client = from_ip("203.0.113.5")
    client.force_login(user)
    response = wizard_submit(client, "tide-coffee")
    assert_throttled(response)
    assert "Too many requests" in response.content.decode()
    assert not Brand.objects.filter(slug="tide-coffee").exists()


def test_refused_registrations_do_not_use_up_the_budget(rates):
    rates(brand_register="1/h")
    api = session(UserFactory(username="typo@example.com"))
    bad = api(REGISTER, {"input": {**registration(0), "creditCode": "123"}})["registerBrand"]
    assert bad["errors"] and bad["errors"][0]["code"] != "rate_limited"
    assert api(REGISTER, {"input": registration(1)})["registerBrand"]["errors"] == []


# --- GraphQL: anonymous callers per address, API keys per key ------------------------------------
QUERY = "{ categories(leavesOnly: true) { code } }"


def post_graphql(client: Client, query: str, **headers):
    return client.post("/graphql/", json.dumps({"query": query}), content_type="application/json", **headers)


def test_anonymous_graphql_is_throttled_per_address_before_the_query_is_parsed(rates):
    rates(graphql_anonymous="2/m")
    client = from_ip("203.0.113.5")
    for _ in range(2):
        assert post_graphql(client, QUERY).status_code == 200
    # A large query is refused without being parsed or validated.
    huge = "{ " + " ".join(f"a{n}: categories {{ code }}" for n in range(3000)) + " }"
    response = post_graphql(client, huge)
    assert_throttled(response)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "rate_limited"
    assert post_graphql(from_ip("198.51.100.7"), QUERY).status_code == 200


def test_signed_in_people_are_not_held_to_the_anonymous_limit(rates, owner):
    rates(graphql_anonymous="1/m")
    api = session(owner)
    for _ in range(3):
        api(QUERY)


def test_each_api_key_has_its_own_limit(settings, brand, owner):
    settings.API_KEY_BURST = 2
    settings.API_KEY_RATE_PER_MINUTE = 1
    keys = [
        services.api_key_create(actor=Actor(user=owner), brand=brand, name=f"k{n}", scopes=[ApiKeyScope.READ])[1]
        for n in range(2)
    ]
    first = with_key(keys[0])
    for _ in range(2):
        first(QUERY)
    response = first.raw(QUERY)
    assert_throttled(response)
    assert response.json()["errors"][0]["extensions"]["code"] == "rate_limited"
    with_key(keys[1])(QUERY)


def test_the_default_limits_are_generous(settings):
    for scope in ("signup", "brand_register", "graphql_anonymous"):
        count, _per = settings.THROTTLE_RATES[scope].split("/")
        assert int(count) >= 10, scope
    assert settings.API_KEY_RATE_PER_MINUTE >= 60 and settings.API_KEY_BURST >= 10
    assert settings.AXES_FAILURE_LIMIT >= 5


# --- the cache is down: nobody is locked out, nothing answers 500 ------------------------------
@pytest.fixture
def throttle_cache_down(settings):
    """The throttle cache on a Redis that does not answer (nothing listens on port 1)."""
    settings.CACHES = {
        **settings.CACHES,
        settings.THROTTLE_CACHE: {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
        },
    }


def test_without_the_cache_sign_in_sign_up_and_graphql_still_work(throttle_cache_down, owner, caplog):
    client = from_ip("203.0.113.5")
    assert sign_in(client, "owner@example.com", "wrong").status_code == 200
    assert sign_in(client, "owner@example.com", PASSWORD).status_code == 302
    signup = from_ip("203.0.113.6").post(
        reverse("frontend:signup"), {"email": "mei@example.com", "password": "Tide-Pool-Lantern-42"}
    )
    assert signup.status_code == 302
    assert post_graphql(from_ip("203.0.113.7"), QUERY).status_code == 200
    assert "unavailable" in caplog.text


# --- API keys: a token bucket, reported in RateLimit-* headers ----------------------------------
def test_a_key_sees_its_budget_in_the_headers_and_spends_its_burst(settings, brand, owner):
    settings.API_KEY_BURST = 3
    settings.API_KEY_RATE_PER_MINUTE = 6  # one token every 10 s
    raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=[ApiKeyScope.READ])[1]
    caller = with_key(raw)
    remaining = []
    for _ in range(3):
        response = caller.raw(QUERY)
        assert response.status_code == 200
        assert response["RateLimit-Limit"] == "3"
        remaining.append(int(response["RateLimit-Remaining"]))
    assert remaining == [2, 1, 0]
    refused = caller.raw(QUERY)
    assert_throttled(refused)
    assert refused["RateLimit-Remaining"] == "0"
    assert 1 <= int(refused["Retry-After"]) <= 10
    assert refused["RateLimit-Policy"] == "3;w=30;burst=3;rate=6/m"


def test_an_admin_raises_one_brands_rate(settings, brand, owner):
    settings.API_KEY_BURST = 2
    settings.API_KEY_RATE_PER_MINUTE = 1
    brand.api_rate_per_minute = 5
    brand.save(update_fields=["api_rate_per_minute"])
    raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=[ApiKeyScope.READ])[1]
    caller = with_key(raw)
    for _ in range(10):  # burst scaled with the rate: 2 × 5
        assert caller.raw(QUERY).status_code == 200
    assert_throttled(caller.raw(QUERY))


def test_a_tokens_refill_over_time(settings, brand, owner):
    from huiliu import buckets

    settings.API_KEY_BURST = 1
    settings.API_KEY_RATE_PER_MINUTE = 60 * 20  # 20 a second
    first = buckets.take("refill-test", capacity=1, per_minute=1200)
    second = buckets.take("refill-test", capacity=1, per_minute=1200)
    assert first.allowed and not second.allowed
    import time

    time.sleep(0.1)
    assert buckets.take("refill-test", capacity=1, per_minute=1200).allowed


def test_usage_per_key_counts_requests_and_errors_per_day(brand, owner):
    from partners.usage import usage_days

    key, raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=[ApiKeyScope.READ])
    caller = with_key(raw)
    caller(QUERY)
    caller(QUERY)
    caller.raw("{ nope }")
    today = usage_days(key.pk, days=3)
    assert len(today) == 3
    assert (today[0].requests, today[0].errors) == (3, 1)
    assert (today[1].requests, today[1].errors) == (0, 0)


def test_without_the_cache_a_key_is_let_through_without_rate_headers(throttle_cache_down, brand, owner, caplog):
    raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=[ApiKeyScope.READ])[1]
    response = with_key(raw).raw(QUERY)
    assert response.status_code == 200
    assert "RateLimit-Remaining" not in response
    assert "Redis unavailable" in caplog.text


def test_in_the_embedded_default_the_bucket_is_counted_in_process(settings, brand, owner):
    settings.CACHES = {
        **settings.CACHES,
        settings.THROTTLE_CACHE: {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "t"},
    }
    settings.API_KEY_BURST = 2
    settings.API_KEY_RATE_PER_MINUTE = 1
    raw = services.api_key_create(actor=Actor(user=owner), brand=brand, name="crm", scopes=[ApiKeyScope.READ])[1]
    caller = with_key(raw)
    assert [caller.raw(QUERY)["RateLimit-Remaining"] for _ in range(2)] == ["1", "0"]
    assert_throttled(caller.raw(QUERY))
