"""Checks on a parsed document that must run before validation.

How deeply fragments spread into one another is counted here without recursion:
Strawberry's depth rule follows fragment spreads recursively, so a chain of a few
hundred fragments (`fragment F0 on User { ...F1 }`, `fragment F1 ...`) overflowed
Python's stack inside validation.
"""

from __future__ import annotations

from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    OperationDefinitionNode,
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


def operation_choice_errors(
    document: DocumentNode | None, operation_name: str | None
) -> list[GraphQLError] | None:
    """A refusal when a document holds several operations and none is named.

    Strawberry falls back to the first operation then; the GraphQL spec asks for an
    error, and a client sending 300 mutations should not find out afterwards which one ran.
    """
    if document is None or operation_name is not None:
        return None
    count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
    if count <= 1:
        return None
    return [
        GraphQLError(
            f"the document holds {count} operations: name the one to run with operationName"
        )
    ]
