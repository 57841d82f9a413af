"""Maximum-weight one-to-one assignment between detections and tracks."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

_EMPTY = np.empty(0, dtype=np.intp)


def assign(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pairs ``(rows, cols)`` maximising the total weight; zero entries are forbidden.

    Most frames are unambiguous: every row and every column has at most one allowed
    entry. Those pairs are then exactly what the Hungarian algorithm would return, so
    they are taken directly and ``linear_sum_assignment`` only runs on real conflicts.
    """
    allowed = weights > 0.0
    per_row = np.count_nonzero(allowed, axis=1)
    if per_row.size == 0 or per_row.max() == 0:
        return _EMPTY, _EMPTY
    if per_row.max() == 1 and np.count_nonzero(allowed, axis=0).max() == 1:
        rows, cols = np.nonzero(allowed)
        return rows, cols
    rows, cols = linear_sum_assignment(weights, maximize=True)
    keep = allowed[rows, cols]
    return rows[keep], cols[keep]
