"""Extra validation rules for incoming documents (the depth limit comes from graphene)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from graphql import GraphQLError, ValidationRule


def max_aliases_rule(limit: int) -> type[ValidationRule]:
    """Refuse documents with more than ``limit`` aliased fields.

    Aliases let one small request ask for the same expensive field hundreds of times
    (``a1: brands(first: 100) … a500: brands(first: 100)``); the size and depth limits do not
    catch that.
    """

    class MaxAliases(ValidationRule):
        def __init__(self, context):
            super().__init__(context)
            self.count = 0

        def enter_field(self, node, *_args):
            if node.alias is not None:
                self.count += 1
                if self.count == limit + 1:
                    self.report_error(
                        GraphQLError(
                            _("Too many aliased fields (limit %(n)d).") % {"n": limit},
                            node,
                            extensions={"code": "too_many_aliases"},
                        )
                    )

    return MaxAliases


# --- query cost ---------------------------------------------------------------------------------
def _page_size(node, variables: dict, cap: int) -> int:
    """The page a connection field asks for: ``first`` or ``last`` (a literal or a variable),
    the cap when absent or unreadable — the cost is an upper bound, never an underestimate."""
    for argument in node.arguments or ():
        if argument.name.value not in ("first", "last"):
            continue
        value = argument.value
        if value.kind == "variable":
            raw = variables.get(value.name.value)
        else:
            raw = getattr(value, "value", None)
        try:
            return max(1, min(int(raw), cap))
        except (TypeError, ValueError):
            return cap
    return cap


def query_cost(document, schema, *, variables: dict | None = None, cap: int = 100) -> int:
    """An upper bound on the work a document asks for, before it runs: every field costs 1,
    and a connection multiplies what is selected under it by the page it asks for (``first`` /
    ``last``, at most ``cap``). Fragments count where they are spread; each operation is
    costed and the dearest one counts. Unknown fields cost 1 (validation reports them).

    Linear in the document's size: a fragment's cost is computed once per type it is spread
    on (a chain of fragments each spreading the next twice is costed, not expanded)."""
    from graphql import FragmentDefinitionNode, OperationDefinitionNode, get_named_type

    variables = variables or {}
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    memo: dict[tuple[str, str], int] = {}

    def fragment_cost(name: str, parent, seen: frozenset[str]) -> int:
        fragment = fragments.get(name)
        if fragment is None or name in seen:  # unknown or cyclic: validation refuses it
            return 0
        target = schema.get_type(fragment.type_condition.name.value) or parent
        key = (name, getattr(target, "name", ""))
        if key not in memo:
            memo[key] = cost(fragment.selection_set, target, seen | {name})
        return memo[key]

    def cost(selection_set, parent, seen: frozenset[str]) -> int:
        total = 0
        for selection in selection_set.selections:
            kind = selection.kind
            if kind == "field":
                fields = getattr(parent, "fields", None) or {}
                definition = fields.get(selection.name.value)
                sub = 0
                if selection.selection_set is not None and definition is not None:
                    sub = cost(selection.selection_set, get_named_type(definition.type), seen)
                multiplier = 1
                if definition is not None and get_named_type(definition.type).name.endswith("Connection"):
                    multiplier = _page_size(selection, variables, cap)
                total += 1 + multiplier * sub
            elif kind == "inline_fragment":
                condition = selection.type_condition
                target = schema.get_type(condition.name.value) if condition is not None else parent
                total += cost(selection.selection_set, target or parent, seen)
            elif kind == "fragment_spread":
                total += fragment_cost(selection.name.value, parent, seen)
        return total

    roots = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}
    best = 0
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = roots.get(definition.operation.value)
            if root is not None:
                best = max(best, cost(definition.selection_set, root, frozenset()))
    return best


def cost_error(document, schema, *, budget: int, variables: dict | None) -> GraphQLError | None:
    """The refusal of a document whose estimated cost (``query_cost``) is above ``budget``, or
    None. Checked before validation runs: the depth rule expands fragments, and a small
    document of nested fragment spreads would otherwise keep a worker busy for minutes."""
    estimated = query_cost(document, schema, variables=variables)
    if estimated <= budget:
        return None
    return GraphQLError(
        _("Query too expensive: estimated cost %(cost)d, budget %(budget)d. Ask for smaller pages.")
        % {"cost": estimated, "budget": budget},
        extensions={"code": "query_too_expensive", "cost": estimated, "budget": budget},
    )
