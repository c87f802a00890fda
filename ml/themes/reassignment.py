"""Pieces moved to the theme they fit (step 4).

A piece whose items do not satisfy its theme's conditions (a phrasing k-means put with
another concern's; when the theme has conditions on its text, satisfying those is
enough: Grouper.fits) moves to the theme whose conditions a clear majority of it does
satisfy, significantly (Fisher, Bonferroni over the pieces); so does a piece whose
theme's conditions fit it when another theme's fit too and are a much rarer (more
specific) description.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ml.themes.groups import Group, Grouper


@dataclass(frozen=True)
class _Move:
    source: int  # index of the group the piece is in
    piece: int  # index of the piece in that group's clusters
    target: int  # index of the group it moves to


def reassign(grouper: Grouper, groups: list[Group]) -> list[Group]:
    """The groups after up to `reassign_rounds` rounds of moving pieces."""
    for _ in range(grouper.settings.reassign_rounds):
        if not any(g.conditions for g in groups):
            break
        moves = _moves(grouper, groups)
        if not moves:
            break
        groups = _moved(grouper, groups, moves)
    return groups


def _moves(grouper: Grouper, groups: list[Group]) -> list[_Move]:
    """A move for each piece that belongs elsewhere."""
    s = grouper.settings
    pieces = [(gi, pi) for gi, g in enumerate(groups) for pi in range(len(g.clusters))]
    alpha = s.alpha / max(1, len(pieces))
    moves: list[_Move] = []
    for gi, pi in pieces:
        g = groups[gi]
        piece = g.clusters[pi]
        if len(piece) < 2:
            continue
        # where it is: fine if its theme's conditions fit it, unless another
        # theme's fit too and are a much rarer (more specific) description
        ceiling = 1.0
        if g.conditions and grouper.fits(g, piece):
            ceiling = s.specificity * g.base
        best: tuple[float, float, int] | None = None  # (base, -rate, group)
        for ai, a in enumerate(groups):
            if ai == gi or not a.conditions or a.base >= ceiling:
                continue
            rate = grouper.absorbs(a, piece, alpha)
            if rate is not None and (best is None or (a.base, -rate) < best[:2]):
                best = (a.base, -rate, ai)
        if best is not None:
            moves.append(_Move(gi, pi, best[2]))
    return moves


def _moved(grouper: Grouper, groups: list[Group], moves: list[_Move]) -> list[Group]:
    """The groups with the pieces moved; a group left empty is gone."""
    taken: dict[int, set[int]] = {}
    given: dict[int, list[np.ndarray]] = {}
    for move in moves:
        taken.setdefault(move.source, set()).add(move.piece)
        given.setdefault(move.target, []).append(groups[move.source].clusters[move.piece])
    rebuilt: list[Group] = []
    for gi, g in enumerate(groups):
        if gi not in taken and gi not in given:
            rebuilt.append(g)
            continue
        kept = [c for pi, c in enumerate(g.clusters) if pi not in taken.get(gi, set())]
        kept += given.get(gi, [])
        if kept:
            rebuilt.append(grouper.group(kept))
    return rebuilt
