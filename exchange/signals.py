"""Signals the exchange sends for its own later stages (campaigns take an accepted proposal)."""

from django.dispatch import Signal

# Sent on commit with ``proposal_id`` when a proposal is accepted.
proposal_accepted = Signal()
