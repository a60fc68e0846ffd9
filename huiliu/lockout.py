"""Sign-in lockout with django-axes: after ``AXES_FAILURE_LIMIT`` wrong passwords an account,
and separately a client address, is locked out for ``AXES_COOLOFF_TIME`` (counted in
``THROTTLE_CACHE``; see huiliu/throttle.py for the other limits). When that cache cannot be
reached, sign-in goes on without the lockout (logged) rather than failing for everyone."""

from __future__ import annotations

import math

from axes.backends import AxesStandaloneBackend
from axes.handlers.cache import AxesCacheHandler
from django.conf import settings
from django.http import HttpResponse
from django.utils.translation import ngettext

from huiliu.throttle import CACHE_ERRORS, log, throttled_response


class LockoutCacheHandler(AxesCacheHandler):
    """django-axes' cache handler (``AXES_HANDLER``), failing open when the cache is down."""

    def get_failures(self, request, credentials=None) -> int:
        try:
            return super().get_failures(request, credentials)
        except CACHE_ERRORS:
            log.warning("sign-in lockout: the cache is unavailable; attempt allowed", exc_info=True)
            return 0

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        try:
            super().user_login_failed(sender, credentials, request, **kwargs)
        except CACHE_ERRORS:
            log.warning("sign-in lockout: the cache is unavailable; failure not counted", exc_info=True)

    def user_logged_in(self, sender, request, user, **kwargs):
        try:
            super().user_logged_in(sender, request, user, **kwargs)
        except CACHE_ERRORS:
            log.warning("sign-in lockout: the cache is unavailable", exc_info=True)


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' lockout check (first in ``AUTHENTICATION_BACKENDS``). ``authenticate``
    without a request (a shell, a management command) has no caller to lock out, so it passes
    on to the next backend instead of failing."""

    def authenticate(self, request, *args, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """django-axes' answer to a locked-out sign-in (``AXES_LOCKOUT_CALLABLE``)."""
    seconds = int(settings.AXES_COOLOFF_TIME.total_seconds())
    minutes = math.ceil(seconds / 60)
    message = ngettext(
        "Too many failed sign-in attempts. Try again in %(n)d minute.",
        "Too many failed sign-in attempts. Try again in %(n)d minutes.",
        minutes,
    ) % {"n": minutes}
    return throttled_response(request, message, seconds)
