"""One frame of tracked objects as the counting logic reads it: anchor points, sizes, classes, time.

Built from any ``sv.Detections``-like object (``xyxy``, ``tracker_id``, ``confidence``,
``class_id``, ``data["class_name"]``) without importing supervision or cv2.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from vidtrack.analytics.geometry import anchor_points
from vidtrack.labels import class_names


@dataclass(frozen=True)
class Observations:
    """Tracked objects in one frame.

    Attributes:
        t: the frame's presentation time in seconds (stream time; capture time for live).
        frame: the frame's 0-based index.
        track_ids: (N,) int tracker ids (rows without an id are dropped when built).
        anchors: (N,2) float pixels, the counted point of each box (bottom-centre by default).
        heights: (N,) float box heights in pixels (margins and link distances scale with them).
        classes: N class names (``str(class_id)`` when the detections carry no names).
        confidences: (N,) float detection scores, NaN when unknown.
        boxes: (N,4) float xyxy pixel boxes the anchors come from (None when not given).
    """

    t: float
    frame: int
    track_ids: np.ndarray
    anchors: np.ndarray
    heights: np.ndarray
    classes: tuple[str, ...]
    confidences: np.ndarray
    boxes: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.track_ids)

    @classmethod
    def from_detections(cls, detections: Any, t: float, frame: int, anchor: str = "bottom-center") -> "Observations":
        """Tracked rows of an ``sv.Detections`` (rows with no ``tracker_id`` or a negative one are skipped)."""
        n = len(detections)
        ids = detections.tracker_id
        if n == 0 or ids is None:
            return cls.empty(t, frame)
        ids = np.asarray(ids).astype(np.int64)
        keep = ids >= 0
        xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)[keep]
        classes = tuple(name for name, kept in zip(class_names(detections), keep) if kept)
        conf = (
            np.full(int(keep.sum()), np.nan)
            if detections.confidence is None
            else np.asarray(detections.confidence, dtype=np.float64)[keep]
        )
        return cls.from_arrays(ids[keep], xyxy, classes, conf, t, frame, anchor)

    @classmethod
    def from_arrays(
        cls,
        track_ids: np.ndarray,
        xyxy: np.ndarray,
        classes: tuple[str, ...] | list[str],
        confidences: np.ndarray | None,
        t: float,
        frame: int,
        anchor: str = "bottom-center",
    ) -> "Observations":
        """From (N,) ids and (N,4) xyxy pixel boxes."""
        boxes = np.asarray(xyxy, dtype=np.float64).reshape(-1, 4)
        conf = np.full(len(boxes), np.nan) if confidences is None else np.asarray(confidences, dtype=np.float64)
        return cls(
            t=float(t),
            frame=int(frame),
            track_ids=np.asarray(track_ids, dtype=np.int64).reshape(-1),
            anchors=anchor_points(boxes, anchor),
            heights=boxes[:, 3] - boxes[:, 1],
            classes=tuple(classes),
            confidences=conf,
            boxes=boxes,
        )

    @classmethod
    def empty(cls, t: float, frame: int) -> "Observations":
        """No objects at ``t`` seconds, frame ``frame``: (0,) ids, (0, 2) anchors, no classes."""
        return cls(float(t), int(frame), np.zeros(0, np.int64), np.zeros((0, 2)), np.zeros(0), (), np.zeros(0))
