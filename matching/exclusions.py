"""Pairs that an app above matching wants kept out of recommendations: a seam owned by matching.

Matching must not import the exchange (apps depend downwards only), yet a pair with an open
proposal or a live campaign should not be recommended again. So the exchange registers a
source here from ``ExchangeConfig.ready()``::

    from matching.exclusions import register_excluded_pairs_source

    register_excluded_pairs_source(selectors.open_pairs)

A source is called with the brand ids being refreshed (``None``: every brand) and returns
``(brand id, brand id)`` pairs in either order. With no source registered nothing is
excluded (the exchange registers its open proposals).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from django.conf import settings

ExcludedPairsSource = Callable[[list[int] | None], Iterable[tuple[int, int]]]

_sources: list[ExcludedPairsSource] = []


def register_excluded_pairs_source(source: ExcludedPairsSource) -> ExcludedPairsSource:
    """Add ``source`` (once: ``ready()`` may run more than once). Returns it, so it also
    works as a decorator."""
    if source not in _sources:
        _sources.append(source)
    return source


def clear_excluded_pairs_sources() -> list[ExcludedPairsSource]:
    """Remove every registered source and return them, so a test can start from none and put
    them back afterwards."""
    removed = list(_sources)
    _sources.clear()
    return removed


def excluded_open_pairs(brand_ids: Iterable[int] | None = None) -> set[tuple[int, int]]:
    """Pairs every registered source reports for ``brand_ids`` (``None``: all brands), in both
    orders; empty when ``settings.MATCHING_EXCLUDE_OPEN_PAIRS`` is off or nothing is registered."""
    if not settings.MATCHING_EXCLUDE_OPEN_PAIRS or not _sources:
        return set()
    ids = list(brand_ids) if brand_ids is not None else None
    out: set[tuple[int, int]] = set()
    for source in _sources:
        for a, b in source(ids):
            out.add((a, b))
            out.add((b, a))
    return out
