"""Rules about a brand's channels that every writer shares (``brand_channels_set`` and the
bulk import): one place, so the tolerance cannot be fixed in one and not the other."""

from __future__ import annotations

# The web editor shows the active rate as a percentage with 4 decimals, so a rate sent back
# unchanged from it may differ from the stored one by that rounding.
ACTIVE_RATE_TOLERANCE = 1e-4


def same_channel_numbers(old_size: int, old_rate: float, new_size: int, new_rate: float) -> bool:
    """True if a channel's size and active rate are unchanged, so it keeps the verification
    on file; a channel whose numbers changed goes back to ``self_reported``."""
    return old_size == new_size and abs(old_rate - new_rate) < ACTIVE_RATE_TOLERANCE
