"""Pure valuation rules of the exchange — one place for "what is a placement worth", "how much
can a channel carry" and "how balanced is a revision". No database access: services, the
GraphQL API and the composer's live meter all call these with rows they already loaded.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from exchange.models.rates import PlacementFormat, PricingUnit, unit_for
from exchange.states import Side

# The swap is shown as balanced when the gap is at most this percentage of the larger side —
# the settlement tolerance, an admin setting (SettlementPolicy); this is its default, for
# callers that have no policy at hand. Callers pass the policy's (exchange.selectors.tolerance_percent).
BALANCED_PERCENT = 10
DEFAULT_WINDOW_DAYS = 7


def placement_value(quantity: int, rate_cents: int, unit: str) -> int:
    """Value in integer cents of ``quantity`` units at ``rate_cents`` per ``unit.basis``
    (rounded half up, never a float)."""
    basis = PricingUnit(unit).basis
    return (int(quantity) * int(rate_cents) * 2 + basis) // (2 * basis)


def channel_capacity(*, channel_type: str, size: int, active_rate: float, fmt: str, days: int) -> int:
    """The most a channel can promise for one placement.

    Reach-priced formats and SMS are capped by the channel's active audience (Σ size × active
    rate, the figure brands are matched on); parcel inserts by the parcels the channel ships
    (its size); in-store displays by stores × days in the window.
    """
    unit = unit_for(fmt)
    if unit == PricingUnit.STORE_DAY:
        return int(size) * max(1, int(days))
    if unit == PricingUnit.PARCEL:
        return int(size)
    return round(int(size) * float(active_rate))


def quantity_for_value(value_cents: int, rate_cents: int, unit: str) -> int:
    """The smallest quantity worth at least ``value_cents``."""
    basis = PricingUnit(unit).basis
    return max(1, -(-int(value_cents) * basis // int(rate_cents)))  # integer ceiling, exact at any size


def _nice(quantity: int, unit: str) -> int:
    """Round a suggested quantity up to a figure people write (8,000 not 7,913)."""
    if PricingUnit(unit) == PricingUnit.STORE_DAY or quantity < 1000:
        return quantity if quantity < 100 else int(math.ceil(quantity / 10) * 10)
    step = 100 if quantity < 10_000 else 1000
    return int(math.ceil(quantity / step) * step)


@dataclass(frozen=True)
class Balance:
    """Value each side gives (benchmark CNY cents), the cash top-up, the gap and its share."""

    initiator_cents: int
    counterparty_cents: int
    topup_cents: int
    topup_from: str | None  # a Side, or None
    gap_cents: int  # after the top-up
    gap_share: float  # gap / the larger side, 0..1
    lighter: str | None  # the Side giving less, None when equal
    tolerance_percent: int = BALANCED_PERCENT  # the settlement tolerance it is judged by

    @property
    def balanced(self) -> bool:
        # Integers only: a float share never decides whether a swap is fair. The same rule as
        # settlement's (exchange.services.settlements.Gap.above): a gap within the tolerance
        # opens no settlement, so it is what "balanced" means here too.
        return self.gap_cents * 100 <= self.tolerance_percent * max(self.initiator_cents, self.counterparty_cents)

    @property
    def gap_percent(self) -> float:
        return round(self.gap_share * 100, 1)


def balance(
    initiator_cents: int, counterparty_cents: int, topup_cents: int = 0, *, tolerance_percent: int = BALANCED_PERCENT
) -> Balance:
    """The balance of a revision. A top-up is cash paid by the lighter side and counts toward
    its value (1 value cent = 1 CNY cent at benchmark rates)."""
    if initiator_cents == counterparty_cents:
        lighter = None
    else:
        lighter = Side.INITIATOR if initiator_cents < counterparty_cents else Side.COUNTERPARTY
    raw_gap = abs(initiator_cents - counterparty_cents)
    topup = min(max(0, int(topup_cents)), raw_gap) if lighter else 0
    gap = raw_gap - topup
    larger = max(initiator_cents, counterparty_cents)
    share = (gap / larger) if larger else 0.0
    return Balance(
        initiator_cents=int(initiator_cents),
        counterparty_cents=int(counterparty_cents),
        topup_cents=topup,
        topup_from=lighter if topup else None,
        gap_cents=gap,
        gap_share=share,
        lighter=lighter if gap else None,
        tolerance_percent=int(tolerance_percent),
    )


@dataclass(frozen=True)
class ChannelOption:
    """One channel the lighter side owns, as the suggestion helper needs it."""

    channel_id: int
    channel_type: str
    label: str
    size: int
    active_rate: float


@dataclass(frozen=True)
class Suggestion:
    channel_id: int
    channel_type: str
    channel_label: str
    format: str
    quantity: int
    unit: str
    value_cents: int
    closes_gap: bool


def suggest(
    *,
    gap_cents: int,
    channels: Iterable[ChannelOption],
    rates: Mapping[tuple[str, str], tuple[int, str]],
    days: int = DEFAULT_WINDOW_DAYS,
    limit: int = 3,
) -> list[Suggestion]:
    """Ways the lighter side could close ``gap_cents`` with ONE more placement on a channel it
    owns (``rates``: (channel type, format) → (rate cents, unit)). Placements that close the
    whole gap come first, the one overshooting least first; then the largest partial ones.
    Never suggests a channel the side does not have or a format its channel type cannot carry.
    """
    if gap_cents <= 0:
        return []
    full: list[Suggestion] = []
    partial: list[Suggestion] = []
    for ch in channels:
        for fmt in PlacementFormat.values:
            rate = rates.get((ch.channel_type, fmt))
            if rate is None:
                continue
            rate_cents, unit = rate
            cap = channel_capacity(
                channel_type=ch.channel_type, size=ch.size, active_rate=ch.active_rate, fmt=fmt, days=days
            )
            if cap <= 0:
                continue
            need = quantity_for_value(gap_cents, rate_cents, unit)
            qty = min(cap, _nice(need, unit))
            if qty < need:
                qty = min(cap, need)
            value = placement_value(qty, rate_cents, unit)
            item = Suggestion(ch.channel_id, ch.channel_type, ch.label, fmt, qty, unit, value, value >= gap_cents)
            (full if item.closes_gap else partial).append(item)
    full.sort(key=lambda s: (s.value_cents - gap_cents, s.channel_id, s.format))
    partial.sort(key=lambda s: (-s.value_cents, s.channel_id, s.format))
    return (full + partial)[:limit]
