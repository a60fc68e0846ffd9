"""Batch loading for lists without module-level state.

graphene 3's DataLoader is asyncio-based and the view executes synchronously, so lists are
batched with prefetches chosen from the query itself: ``selects(info, "auditEvents")`` tells
a list resolver whether a costly relation was asked for, and the resolver adds one
``Prefetch`` for the whole page instead of one query per row. Everything is per request —
nothing is cached across callers.
"""

from __future__ import annotations

from graphql import FieldNode, FragmentSpreadNode, GraphQLResolveInfo, InlineFragmentNode


def selects(info: GraphQLResolveInfo, name: str) -> bool:
    """True if ``name`` is selected anywhere below the current field (fragments included)."""
    seen: set[str] = set()

    def walk(selection_set) -> bool:
        if selection_set is None:
            return False
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value == name or walk(node.selection_set):
                    return True
            elif isinstance(node, InlineFragmentNode):
                if walk(node.selection_set):
                    return True
            elif isinstance(node, FragmentSpreadNode):
                fragment = info.fragments.get(node.name.value)
                if fragment is not None and node.name.value not in seen:
                    seen.add(node.name.value)
                    if walk(fragment.selection_set):
                        return True
        return False

    return any(walk(node.selection_set) for node in info.field_nodes)
