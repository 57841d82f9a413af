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
