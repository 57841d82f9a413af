"""Boxes the tracker leaves out as repeats of one object (a truck box on a tracked car).

Kept apart from :mod:`vidtrack.tracking.classes` (which the tracker imports) because it
reads the tracker's own rule, :func:`vidtrack.tracking.tracker.duplicates`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vidtrack.tracking.classes import group_of
from vidtrack.tracking.tracker import duplicates

if TYPE_CHECKING:
    import supervision as sv


def repeated_boxes(detections: "sv.Detections") -> dict[str, int]:
    """Per class name: the frame's boxes the tracker leaves out as repeats of one object.

    The detector's per-class NMS can keep a ``car`` box and a ``truck`` box on one vehicle;
    the tracker keeps the stronger and leaves the other out
    (:func:`vidtrack.tracking.tracker.duplicates`: IoU >= ``DUPLICATE_IOU`` within one group
    of :data:`vidtrack.tracking.classes.CONFUSABLE`). Those boxes are not lost objects, so the summary counts them apart from its
    dropped detections. ``detections`` needs ``data["class_name"]``; without names, or with
    fewer than two boxes of one group, the result is ``{}``.
    """
    names = detections.data.get("class_name") if detections.data else None
    if names is None or len(detections) < 2:
        return {}
    names = [str(name) for name in names]
    groups = [group_of(name) for name in names]
    if sum(group is not None for group in groups) < 2:
        return {}
    ids = np.zeros(len(names)) if detections.class_id is None else np.asarray(detections.class_id, np.float64)
    classes = [group if group is not None else float(cid) for group, cid in zip(groups, ids.tolist())]
    scores = np.ones(len(names)) if detections.confidence is None else np.asarray(detections.confidence, np.float64)
    boxes = np.asarray(detections.xyxy, np.float64).reshape(-1, 4)
    out: dict[str, int] = {}
    for row in duplicates(boxes.tolist(), scores.tolist(), classes):
        out[names[row]] = out.get(names[row], 0) + 1
    return out
