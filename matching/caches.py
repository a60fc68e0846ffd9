"""The per-process caches of matching, and the one way to empty them all.

Each process keeps the market matrix (``matching.market``) and the active model's artefact
(``matching.refresh``). Tests reset them whenever the database under them was rolled back.
"""

from __future__ import annotations

from matching import market, refresh


def reset_caches() -> None:
    """Forget the cached market and model artefact: the next read rebuilds them from the database."""
    market.reset_cache()
    refresh.reset_artefact_cache()
