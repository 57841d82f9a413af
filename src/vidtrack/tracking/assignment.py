"""Maximum-weight one-to-one assignment between detections (rows) and tracks (columns)."""

from __future__ import annotations

from typing import Callable

import numpy as np


def assign(
    allowed: np.ndarray, overlap: np.ndarray, priority: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(rows, cols)`` maximising the summed weight over ``allowed`` pairs.

    A pair's weight is its ``overlap`` plus its row's ``priority`` (so a priority of 1
    makes any match of that row outweigh any match of a row with priority 0).

    Most frames are unambiguous: every row and every column has at most one allowed
    pair. The maximum-weight matching is then exactly the set of allowed pairs, so it is
    returned directly and the Hungarian algorithm (``linear_sum_assignment``) only runs
    when there is a real conflict.
    """
    rows, cols = allowed.nonzero()
    row_list, col_list = rows.tolist(), cols.tolist()
    if len(set(row_list)) == len(row_list) and len(set(col_list)) == len(col_list):
        return rows, cols
    linear_sum_assignment = hungarian_solver()
    weights = overlap if priority is None else overlap + priority[:, None]
    weights = np.where(allowed, weights, 0.0)
    rows, cols = linear_sum_assignment(weights, maximize=True)
    keep = allowed[rows, cols]
    return rows[keep], cols[keep]


def assign_listed(
    n_rows: int, n_cols: int, rows: list[int], cols: list[int], weights: list[float]
) -> tuple[list[int], list[int]]:
    """:func:`assign` for allowed pairs given as lists: ``(rows[k], cols[k])`` with weight
    ``weights[k]`` (its overlap plus its row's priority), every other pair not allowed.

    The same result as :func:`assign` on the equivalent matrices (the solver gets the same
    weight matrix), for callers that work on lists: one array is built instead of four.
    """
    if len(set(rows)) == len(rows) and len(set(cols)) == len(cols):
        return rows, cols
    stars = _star_matching(rows, cols, weights)
    if stars is not None:
        return stars
    matrix = np.zeros((n_rows, n_cols))
    matrix[rows, cols] = weights
    linear_sum_assignment = hungarian_solver()
    solved_rows, solved_cols = linear_sum_assignment(matrix, maximize=True)
    allowed = set(zip(rows, cols))
    pairs = [(i, j) for i, j in zip(solved_rows.tolist(), solved_cols.tolist()) if (i, j) in allowed]
    return [i for i, _ in pairs], [j for _, j in pairs]


#: A maximum-weight matching taken without the solver must beat every other matching by more
#: than this. The solver works in float64 on weights of at most 2 (IoU or closeness plus a
#: priority of 1) and a few rows: its rounding is some 1e-15, far below this margin, so it
#: cannot prefer another matching; ties and near-ties still go to the solver.
_MARGIN = 1e-9


def _star_matching(rows: list[int], cols: list[int], weights: list[float]) -> tuple[list[int], list[int]] | None:
    """The maximum-weight matching of the allowed pairs when it is plain and unique, else None.

    Plain: every connected group of pairs is a star (a row or a column shared by all its
    pairs; one detection overlapping two tracks, two detections overlapping one track), so
    a matching takes at most one pair per star and the best takes each star's heaviest.
    Unique: each star's heaviest beats its next by more than :data:`_MARGIN`, and every
    pair taken weighs more than that (the empty choice weighs 0). The solver, which finds a
    maximum-weight assignment of the whole matrix (not-allowed pairs weigh 0), then returns
    exactly these pairs among the allowed ones, in its order (rows ascending).
    """
    row_count: dict[int, int] = {}
    col_count: dict[int, int] = {}
    for i in rows:
        row_count[i] = row_count.get(i, 0) + 1
    for j in cols:
        col_count[j] = col_count.get(j, 0) + 1
    best: dict[tuple[bool, int], list] = {}  # star centre -> [weight, next weight, row, col]
    for i, j, w in zip(rows, cols, weights):
        if not w > _MARGIN:  # also NaN
            return None
        if row_count[i] > 1:
            if col_count[j] > 1:
                return None  # a pair joining two shared ends: not a star
            centre = (True, i)
        else:
            centre = (False, j)
        held = best.get(centre)
        if held is None:
            best[centre] = [w, 0.0, i, j]
        elif w > held[0]:
            held[:] = [w, held[0], i, j]
        elif w > held[1]:
            held[1] = w
    taken = []
    for w, runner_up, i, j in best.values():
        if not w - runner_up > _MARGIN:
            return None
        taken.append((i, j))
    taken.sort()
    return [i for i, _ in taken], [j for _, j in taken]


def hungarian_solver() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """scipy's ``linear_sum_assignment``, imported on first use: scipy takes ~0.4 s to
    load, which ``import vidtrack`` must not pay. Timed loops call this first so the
    one-time import is not counted as tracking."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment
