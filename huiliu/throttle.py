"""Request throttling, counted in the cache (``settings.THROTTLE_CACHE``: Redis in production,
local memory in the embedded default).

Two maintained libraries do the counting:

- django-axes locks sign-in out after ``AXES_FAILURE_LIMIT`` wrong passwords, per account and
  per client address (the web sign-in and the Django admin alike; huiliu/lockout.py).
- django-ratelimit counts the other limits, ``THROTTLE_RATES[scope]`` ("20/h") per key: sign-up
  per address, brand registration per user, anonymous GraphQL per address, GraphQL per API key.
  ``throttle(scope, key)`` counts one request and raises ``Throttled`` over the limit.

``Throttled`` becomes HTTP 429 with ``Retry-After``: a page through ``ThrottleMiddleware`` on
the web, ``rate_limited`` in GraphQL (api/views.py). The client address is ``client_ip``, the
one answer for both libraries.
"""

from __future__ import annotations

import logging
import math
from enum import StrEnum

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import ngettext
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
# What a cache that cannot be reached raises (django-redis re-raises redis' own errors).
CACHE_ERRORS = (RedisError, OSError)


class ThrottleScope(StrEnum):
    """What is counted; ``settings.THROTTLE_RATES`` holds each one's limit."""

    SIGNUP = "signup"  # per client address
    BRAND_REGISTER = "brand_register"  # per user
    GRAPHQL_ANONYMOUS = "graphql_anonymous"  # per client address
    # API keys have a token bucket of their own (huiliu/buckets.py, partners/usage.py).


class Throttled(Exception):
    """Over a limit: try again in ``retry_after`` seconds."""

    def __init__(self, scope: str, retry_after: int):
        super().__init__(f"{scope}: retry after {retry_after}s")
        self.scope = scope
        self.retry_after = max(1, int(retry_after))

    @property
    def message(self) -> str:
        """What to tell the person, in the active language."""
        if self.retry_after < 60:
            n = self.retry_after
            return ngettext(
                "Too many requests. Try again in %(n)d second.", "Too many requests. Try again in %(n)d seconds.", n
            ) % {"n": n}
        n = math.ceil(self.retry_after / 60)
        return ngettext(
            "Too many requests. Try again in %(n)d minute.", "Too many requests. Try again in %(n)d minutes.", n
        ) % {"n": n}


def client_ip(request: HttpRequest) -> str:
    """The caller's address: ``REMOTE_ADDR``, or, behind ``THROTTLE_TRUSTED_PROXIES`` reverse
    proxies, the address the outermost trusted proxy saw (counted from the right of
    ``X-Forwarded-For``, which a client can only prepend to)."""
    proxies = settings.THROTTLE_TRUSTED_PROXIES
    if proxies:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def throttle(scope: ThrottleScope, key: str) -> None:
    """Count one request of ``scope`` by ``key``; raise ``Throttled`` when it is over the limit.

    No limit set for the scope: nothing is counted. A cache that cannot be reached lets the
    request through (logged): an outage of Redis must not lock everyone out.
    """
    rate = settings.THROTTLE_RATES.get(scope)
    if not rate:
        return
    try:
        usage = get_usage(None, group=f"huiliu.{scope}", key=lambda _group, _request: key, rate=rate, increment=True)
    except CACHE_ERRORS:
        log.warning("throttle %s: the cache is unavailable; request let through", scope, exc_info=True)
        return
    if usage is not None and usage["should_limit"]:
        raise Throttled(scope, usage["time_left"])


def throttled_response(request: HttpRequest, message: str, retry_after: int) -> HttpResponse:
    response = render(request, "429.html", {"message": message}, status=429)
    response["Retry-After"] = str(retry_after)
    return response


class ThrottleMiddleware:
    """``Throttled`` raised by a view (or a service it called) → the 429 page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, Throttled):
            return throttled_response(request, exception.message, exception.retry_after)
        return None


def throttle_reset() -> None:
    """Forget every count, bucket and lockout (tests; an operator after an incident)."""
    from huiliu import buckets

    buckets.reset_local()
    cache = caches[settings.THROTTLE_CACHE]
    if hasattr(cache, "delete_pattern"):  # django-redis: only this cache's prefixed keys
        cache.delete_pattern("*")
    else:
        cache.clear()
