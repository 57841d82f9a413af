"""Vectorised box overlap (IoU) between two sets of ``xyxy`` boxes."""

from __future__ import annotations

import numpy as np


def box_area(boxes: np.ndarray) -> np.ndarray:
    """Area of each ``xyxy`` box; inverted or degenerate boxes have area 0."""
    wh = np.maximum(boxes[:, 2:4] - boxes[:, 0:2], 0.0)
    return wh[:, 0] * wh[:, 1]


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """IoU of every box in ``boxes_a`` (N,4) with every box in ``boxes_b`` (M,4) -> (N,M).

    Boxes are ``x1, y1, x2, y2``. Pairs whose union is empty (two zero-area boxes) get 0,
    never NaN, so degenerate detections simply never match.
    """
    a = np.asarray(boxes_a, dtype=np.float64).reshape(-1, 4)
    b = np.asarray(boxes_b, dtype=np.float64).reshape(-1, 4)
    top_left = np.maximum(a[:, None, 0:2], b[None, :, 0:2])
    bottom_right = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    wh = np.maximum(bottom_right - top_left, 0.0)
    inter = wh[..., 0] * wh[..., 1]
    union = box_area(a)[:, None] + box_area(b)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0.0)


def greedy_match(
    boxes_a: np.ndarray,
    boxes_b: np.ndarray,
    min_iou: float,
    classes_a: np.ndarray | None = None,
    classes_b: np.ndarray | None = None,
) -> np.ndarray:
    """Pair boxes of two sets, highest IoU first, each box at most once.

    Args:
        boxes_a: (N, 4) xyxy pixels. boxes_b: (M, 4) xyxy pixels.
        min_iou: pairs below this IoU are never made.
        classes_a, classes_b: optional (N,) / (M,) class ids; boxes of different classes never pair.

    Returns:
        (K, 2) int array of (index in a, index in b), K <= min(N, M), in order of decreasing IoU.
        For comparing two detectors' outputs (tests, benchmarks), not for tracking.
    """
    iou = iou_matrix(np.asarray(boxes_a, np.float64).reshape(-1, 4), np.asarray(boxes_b, np.float64).reshape(-1, 4))
    if classes_a is not None and classes_b is not None and iou.size:
        iou = np.where(np.asarray(classes_a)[:, None] == np.asarray(classes_b)[None, :], iou, 0.0)
    pairs: list[tuple[int, int]] = []
    if iou.size:
        order = np.argsort(-iou, axis=None, kind="stable")
        used_a, used_b = set(), set()
        for flat in order:
            i, j = divmod(int(flat), iou.shape[1])
            if iou[i, j] < min_iou or iou[i, j] <= 0:
                break
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            pairs.append((i, j))
    return np.array(pairs, dtype=int).reshape(-1, 2)
