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


def hungarian_solver() -> Callable[..., tuple[np.ndarray, np.ndarray]]:
    """scipy's ``linear_sum_assignment``, imported on first use: scipy takes ~0.4 s to
    load, which ``import vidtrack`` must not pay. Timed loops call this first so the
    one-time import is not counted as tracking."""
    from scipy.optimize import linear_sum_assignment

    return linear_sum_assignment
