"""Figures every page's navigation shows: the caller's unread notifications and the proposals
waiting for one of their brands. Lazy — each is one query, run only when a template reads it
(the htmx partials never do) — and nothing at all for anonymous visitors."""

from __future__ import annotations

from functools import cached_property

from exchange import selectors
from frontend.views.common import actor_of

# The pages behind the one "Exchange admin" entry of the top bar (their tabs: exchange_admin/_nav.html).
EXCHANGE_ADMIN_SECTIONS = frozenset(
    {"proposals_admin", "deliveries_admin", "disputes_admin", "rates", "rate_edit", "settlement_admin"}
)


class ExchangeCounts:
    def __init__(self, request):
        self._request = request

    @property
    def has_brands(self) -> bool:
        """Only brand members have proposals (the actor's roles are read once per request)."""
        return bool(actor_of(self._request).brand_ids)

    @property
    def in_exchange_admin(self) -> bool:
        match = getattr(self._request, "resolver_match", None)
        return bool(match and match.url_name in EXCHANGE_ADMIN_SECTIONS)

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
