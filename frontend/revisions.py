"""What changed between two consecutive revisions of a proposal, for the revision history.

Revisions are immutable snapshots and a counter does not record which placement it was
based on, so placements are paired by side and channel: first those whose format is also
unchanged, then the rest in order. A pair is "changed" when its quantity, window or format
differs; the unpaired ones were added or removed. Pure presentation: no database access
(the proposal page prefetches every revision with its placements).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from exchange.models import Placement, Proposal, Revision

ADDED, REMOVED, CHANGED, SAME = "added", "removed", "changed", "same"


@dataclass
class Entry:
    placement: Placement  # as it stands in this revision (the old one, for a removed placement)
    status: str
    previous: Placement | None = None

    @property
    def quantity_changed(self) -> bool:
        return self.previous is not None and self.previous.quantity != self.placement.quantity

    @property
    def window_changed(self) -> bool:
        p, q = self.previous, self.placement
        return p is not None and (p.starts_on, p.ends_on) != (q.starts_on, q.ends_on)

    @property
    def format_changed(self) -> bool:
        return self.previous is not None and self.previous.format != self.placement.format

    @property
    def notes_changed(self) -> bool:
        return self.previous is not None and self.previous.notes != self.placement.notes


def _channel_key(p: Placement) -> tuple:
    return (p.brand_id, p.channel_id) if p.channel_id is not None else (p.brand_id, p.channel_type, p.channel_label)


def diff_placements(previous: list[Placement] | None, current: list[Placement]) -> list[Entry]:
    """``current`` in order, each marked added / changed / same, then the removed ones.
    With no previous revision every placement is simply shown (``same``)."""
    if previous is None:
        return [Entry(p, SAME) for p in current]
    left = list(previous)
    paired: dict[int, Placement] = {}
    for exact in (True, False):
        for p in current:
            if p.pk in paired:
                continue
            for old in left:
                if _channel_key(old) == _channel_key(p) and (not exact or old.format == p.format):
                    paired[p.pk] = old
                    left.remove(old)
                    break
    entries = []
    for p in current:
        old = paired.get(p.pk)
        if old is None:
            entries.append(Entry(p, ADDED))
        else:
            entry = Entry(p, SAME, old)
            if entry.quantity_changed or entry.window_changed or entry.format_changed or entry.notes_changed:
                entry.status = CHANGED
            entries.append(entry)
    entries.extend(Entry(old, REMOVED) for old in left)
    return entries


@dataclass
class Side:
    brand_id: int
    entries: list[Entry]
    value_cents: int

    @property
    def shown(self) -> list[Entry]:
        """The placements of this revision (the removed ones are listed apart)."""
        return [e for e in self.entries if e.status != REMOVED]

    @property
    def removed(self) -> list[Entry]:
        return [e for e in self.entries if e.status == REMOVED]

    @property
    def changed(self) -> bool:
        return any(e.status != SAME for e in self.entries)


@dataclass
class RevisionView:
    revision: Revision
    sides: list[Side]  # the initiator's first
    previous: Revision | None = None
    is_current: bool = False
    changes: int = field(default=0)

    @property
    def topup_changed(self) -> bool:
        if self.previous is None:
            return False
        return (self.previous.topup_cents, self.previous.topup_from_id) != (
            self.revision.topup_cents,
            self.revision.topup_from_id,
        )


def revision_views(proposal: Proposal, revisions: list[Revision]) -> list[RevisionView]:
    """Every revision with its placements per side and what changed since the one before."""
    views = []
    before: Revision | None = None
    for rev in revisions:
        placements = list(rev.placements.all())
        old = list(before.placements.all()) if before is not None else None
        sides = []
        for brand_id, value in (
            (proposal.initiator_id, rev.initiator_value_cents),
            (proposal.counterparty_id, rev.counterparty_value_cents),
        ):
            mine = [p for p in placements if p.brand_id == brand_id]
            mine_old = [p for p in old if p.brand_id == brand_id] if old is not None else None
            sides.append(Side(brand_id, diff_placements(mine_old, mine), value))
        view = RevisionView(rev, sides, previous=before, is_current=rev.number == proposal.revision_number)
        view.changes = sum(1 for s in sides for e in s.entries if e.status != SAME) + (1 if view.topup_changed else 0)
        views.append(view)
        before = rev
    return views
