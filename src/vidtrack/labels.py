"""What each detection is called, and the per-class facts derived from it: one owner for all stages.

Rows of ``sv.Detections`` are named by ``data["class_name"]`` (every vidtrack detector
fills it); detections built elsewhere without it fall back to the class id as text.
numpy only: importable without cv2 or supervision.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import numpy as np

if TYPE_CHECKING:
    import supervision as sv


def class_names(detections: "sv.Detections") -> list[str]:
    """The class name of each row, in row order (``str(class_id)`` when no names are attached)."""
    names = detections.data.get("class_name") if detections.data else None
    if names is not None:
        return [str(n) for n in names]
    if detections.class_id is None:
        return ["object"] * len(detections)
    return [str(int(c)) for c in detections.class_id]


def class_counts(detections: "sv.Detections") -> dict[str, int]:
    """How many objects of each class are in this frame, most frequent first (ties: by name)."""
    if len(detections) == 0:
        return {}
    # A dict count, not np.unique on a string array: this runs twice a frame (about 0.1 ms
    # instead of 0.3 ms for a few boxes); names compare by code point either way.
    counts: dict[str, int] = {}
    for name in class_names(detections):
        counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def confidence_tags(best: Mapping[str, float]) -> dict[str, int]:
    """Best confidence per class (0-1) → image-tagging style ``{"person": 98}`` (0-100), best first."""
    return {name: int(round(conf * 100)) for name, conf in sorted(best.items(), key=lambda kv: -kv[1])}


def tags(detections: "sv.Detections") -> dict[str, int]:
    """Image-tagging style summary of one frame: each class seen → its best confidence, 0-100.

    ``{"person": 98, "car": 91}``, most confident first; the same numbers as the ``tags`` of
    ``--summary`` (which takes the best over all frames). Rows without a confidence count as 1.0.
    """
    best: dict[str, float] = {}
    conf = detections.confidence if detections.confidence is not None else np.ones(len(detections))
    for name, c in zip(class_names(detections), conf):
        if float(c) > best.get(name, -1.0):
            best[name] = float(c)
    return confidence_tags(best)
