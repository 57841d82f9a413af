"""Where a new object was before its track began: detections the tracker did not take, chained back.

A tracker starts a track only from a confident detection and reports it only once
confirmed, so an object is often seen by the detector a few frames before its track
begins: its weaker boxes before that belong to no track. When that happens just before
a counting line, the track begins past the line and the crossing is never seen.

:class:`BackFill` keeps each frame's *spare* detections (those in no reported track) for
:data:`WINDOW_S` seconds. When a new object appears, its first box is chained back
through them, frame by frame, to the spare box of the same class that overlaps it most
at IoU >= :data:`MIN_IOU` (the tracker's own default ``iou_threshold``: the chain links
boxes the way the tracker links a track's boxes), until a frame has none. Each spare
box joins at most one chain. The line counters then see the chained boxes as the object's
earlier observations, oldest first (:class:`~vidtrack.analytics.scene.Scene`), so a
crossing just before the track began counts, with the time it happened. Numpy only.

Measured on MOT15 (``vidtrack eval --line 0.5,0,0.5,1 --line 0,0.6,1,0.6``): see
``docs/perf/tracker-framerate.md``, section "Line counting".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

#: Seconds of spare detections kept (the tracker's default ``max_age``: how long it remembers).
WINDOW_S = 1.0
#: Least IoU between two chained boxes (the tracker's default ``iou_threshold``).
MIN_IOU = 0.3


@dataclass
class _Spare:
    t: float
    frame: int
    boxes: np.ndarray  # (M, 4) xyxy pixels
    classes: tuple[str, ...]
    taken: np.ndarray  # (M,) bool: already in a chain


@dataclass(frozen=True)
class Earlier:
    """One chained box of a new object: time (s), frame index, xyxy (4,) pixels."""

    t: float
    frame: int
    box: np.ndarray


def _iou(box: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """IoU of one (4,) xyxy box with (M, 4) boxes; 0 where a union is empty."""
    x1 = np.maximum(box[0], boxes[:, 0])
    y1 = np.maximum(box[1], boxes[:, 1])
    x2 = np.minimum(box[2], boxes[:, 2])
    y2 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


class BackFill:
    """Spare detections of the last :data:`WINDOW_S` seconds and the chains back from new objects.

    One instance per source. Call :meth:`chain` for the frame's new objects first, then
    :meth:`add` with the frame's own spare detections.
    """

    def __init__(self, window_s: float = WINDOW_S, min_iou: float = MIN_IOU) -> None:
        self.window_s = window_s
        self.min_iou = min_iou
        self._frames: deque[_Spare] = deque()

    def add(self, t: float, frame: int, boxes: np.ndarray, classes: tuple[str, ...] | list[str]) -> None:
        """Remember one frame's spare detections ((M, 4) xyxy pixels and their M class names)."""
        while self._frames and t - self._frames[0].t > self.window_s:
            self._frames.popleft()
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        self._frames.append(_Spare(float(t), int(frame), boxes, tuple(classes), np.zeros(len(boxes), dtype=bool)))

    def chain(self, box: np.ndarray, cls: str, t: float) -> list[Earlier]:
        """The spare boxes chained back from ``box`` (class ``cls``, seen at ``t`` s), oldest first.

        Only frames within :data:`WINDOW_S` seconds before ``t`` are searched; the chain
        stops at the first frame (going back) with no spare box of the class overlapping
        the previous link at IoU >= ``min_iou``. The boxes taken are not offered again.
        """
        found: list[Earlier] = []
        current = np.asarray(box, dtype=np.float64)
        for spare in reversed(self._frames):
            if spare.t >= t:
                continue
            if t - spare.t > self.window_s or not len(spare.boxes):
                break
            iou = _iou(current, spare.boxes)
            iou[spare.taken] = 0.0
            iou[[c != cls for c in spare.classes]] = 0.0
            best = int(np.argmax(iou))
            if iou[best] < self.min_iou:
                break
            spare.taken[best] = True
            current = spare.boxes[best]
            found.append(Earlier(spare.t, spare.frame, current.copy()))
        found.reverse()
        return found
