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
    matrix = np.zeros((n_rows, n_cols))
    matrix[rows, cols] = weights
    linear_sum_assignment = hungarian_solver()
    solved_rows, solved_cols = linear_sum_assignment(matrix, maximize=True)
    allowed = set(zip(rows, cols))
    pairs = [(i, j) for i, j in zip(solved_rows.tolist(), solved_cols.tolist()) if (i, j) in allowed]
    return [i for i, _ in pairs], [j for _, j in pairs]


def hungarian_solver() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """scipy's ``linear_sum_assignment``, imported on first use: scipy takes ~0.4 s to
    load, which ``import vidtrack`` must not pay. Timed loops call this first so the
    one-time import is not counted as tracking."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment
