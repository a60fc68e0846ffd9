"""Figures every page's navigation shows: the caller's unread notifications and the proposals
waiting for one of their brands. Lazy — each is one query, run only when a template reads it
(the htmx partials never do) — and nothing at all for anonymous visitors."""

from __future__ import annotations

from functools import cached_property

from exchange import selectors
from frontend.views.common import actor_of


class ExchangeCounts:
    def __init__(self, request):
        self._request = request

    @property
    def has_brands(self) -> bool:
        """Only brand members have proposals (the actor's roles are read once per request)."""
        return bool(actor_of(self._request).brand_ids)

    @cached_property
    def unread(self) -> int:
        return selectors.unread_count(actor=actor_of(self._request))

    @cached_property
    def action(self) -> int:
        return selectors.action_count(actor=actor_of(self._request))


def exchange_counts(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"exchange_counts": ExchangeCounts(request)}
