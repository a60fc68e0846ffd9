"""Signals other domains subscribe to, so partners never imports them.

``brand_changed`` is sent after the transaction that changed a brand's profile, channels,
blocks or status has committed (the matcher refreshes that brand's recommendations).
"""

from django.dispatch import Signal

brand_changed = Signal()  # kwargs: brand_id: int, change: str

# Sent once after a bulk import committed (instead of one brand_changed per brand, which
# would mean 100,000 refreshes); receivers should rebuild in bulk.
brands_imported = Signal()  # kwargs: brand_ids: list[int]

# Sent INSIDE the transaction that changed a brand's status (not on commit), so a receiver can
# write to its own outbox atomically with the change: kwargs brand_id, previous, status, reason.
brand_status_changed = Signal()
