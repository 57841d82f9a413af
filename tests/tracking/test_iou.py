"""IoU matrix and assignment."""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from vidtrack.tracking.assignment import assign
from vidtrack.tracking.iou import iou_matrix


def _brute_iou(a: np.ndarray, b: np.ndarray) -> float:
    w = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = w * h
    union = max(0.0, a[2] - a[0]) * max(0.0, a[3] - a[1]) + max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def test_known_values() -> None:
    boxes = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    iou = iou_matrix(boxes, boxes)
    assert iou.shape == (3, 3)
    np.testing.assert_allclose(np.diag(iou), 1.0)
    assert iou[0, 1] == iou[1, 0] == 50 / 150
    assert iou[0, 2] == 0.0 and iou[1, 2] == 0.0


def test_matches_brute_force_on_random_boxes(rng: np.random.Generator) -> None:
    a = rng.uniform(0, 100, (17, 2))
    a = np.hstack([a, a + rng.uniform(0, 40, (17, 2))])
    b = rng.uniform(0, 100, (9, 2))
    b = np.hstack([b, b + rng.uniform(0, 40, (9, 2))])
    expected = np.array([[_brute_iou(x, y) for y in b] for x in a])
    np.testing.assert_allclose(iou_matrix(a, b), expected, atol=1e-12)


def test_degenerate_boxes_give_zero_not_nan() -> None:
    zero = np.array([[5, 5, 5, 5], [3, 3, 1, 1]], dtype=float)  # zero-area and inverted
    normal = np.array([[0, 0, 10, 10]], dtype=float)
    with np.errstate(all="raise"):
        iou = iou_matrix(zero, np.vstack([zero, normal]))
    assert np.isfinite(iou).all()
    assert (iou == 0).all()


def test_empty_inputs_keep_their_shape() -> None:
    boxes = np.array([[0, 0, 1, 1]], dtype=float)
    assert iou_matrix(np.empty((0, 4)), boxes).shape == (0, 1)
    assert iou_matrix(boxes, np.empty((0, 4))).shape == (1, 0)


def test_assign_fast_path_equals_hungarian(rng: np.random.Generator) -> None:
    for _ in range(300):
        n, m = rng.integers(1, 8, size=2)
        overlap = rng.uniform(0, 1, (n, m)) * (rng.uniform(0, 1, (n, m)) < 0.3)
        allowed = overlap > 0.2
        rows, cols = assign(allowed, overlap)
        # Reference: Hungarian on the gated weights, zero pairs dropped.
        ref_r, ref_c = linear_sum_assignment(np.where(allowed, overlap, 0), maximize=True)
        keep = allowed[ref_r, ref_c]
        assert np.isclose(overlap[rows, cols].sum(), overlap[ref_r[keep], ref_c[keep]].sum())
        assert len(set(rows.tolist())) == len(rows) and len(set(cols.tolist())) == len(cols)
        assert allowed[rows, cols].all()


def test_assign_priority_prefers_confident_rows() -> None:
    # Row 0 (weak) overlaps the only track better than row 1 (confident).
    overlap = np.array([[0.9], [0.4]])
    rows, cols = assign(overlap > 0.3, overlap, np.array([0.0, 1.0]))
    assert rows.tolist() == [1] and cols.tolist() == [0]
    rows, _ = assign(overlap > 0.3, overlap)
    assert rows.tolist() == [0]
