"""How deeply a document's fragments spread into one another, counted without recursion.

Strawberry's depth rule follows fragment spreads recursively, so a chain of a few
hundred fragments (`fragment F0 on User { ...F1 }`, `fragment F1 ...`) overflowed
Python's stack inside validation. The chain is measured here first, iteratively.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    SelectionSetNode,
)

MAX_FRAGMENT_NESTING = 50


def _spreads(selection_set: SelectionSetNode) -> set[str]:
    """Names of the fragments spread anywhere inside `selection_set`."""
    found: set[str] = set()
    stack = [selection_set]
    while stack:
        current = stack.pop()
        for selection in current.selections:
            if isinstance(selection, FragmentSpreadNode):
                found.add(selection.name.value)
            sub = getattr(selection, "selection_set", None)
            if sub is not None:
                stack.append(sub)
    return found


def fragment_nesting(document: DocumentNode) -> int:
    """The longest chain of fragments spreading into one another (cycles are cut; the
    NoFragmentCycles rule reports them)."""
    spreads = {
        d.name.value: _spreads(d.selection_set)
        for d in document.definitions
        if isinstance(d, FragmentDefinitionNode)
    }
    depth: dict[str, int] = {}
    for start in spreads:
        if start in depth:
            continue
        on_path = {start}
        stack: list[tuple[str, list[str]]] = [(start, sorted(spreads[start]))]
        while stack:
            name, pending = stack[-1]
            if pending:
                child = pending.pop()
                if child in spreads and child not in depth and child not in on_path:
                    on_path.add(child)
                    stack.append((child, sorted(spreads[child])))
                continue
            stack.pop()
            on_path.discard(name)
            depth[name] = 1 + max((depth.get(c, 0) for c in spreads[name]), default=0)
    return max(depth.values(), default=0)


def fragment_nesting_errors(document: DocumentNode | None) -> list[GraphQLError] | None:
    """A refusal when fragments nest deeper than MAX_FRAGMENT_NESTING, else None."""
    if document is None:
        return None
    nesting = fragment_nesting(document)
    if nesting <= MAX_FRAGMENT_NESTING:
        return None
    return [
        GraphQLError(
            f"fragments spread into one another {nesting} deep; at most "
            f"{MAX_FRAGMENT_NESTING} are allowed"
        )
    ]
