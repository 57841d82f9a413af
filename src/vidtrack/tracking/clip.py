"""Reported boxes lie inside the picture.

A smoothed track box can overshoot the frame (its velocity carries it past an edge as
the object leaves), and detectors return boxes a fraction of a pixel outside. Outputs
promise pixel boxes of the image: ``frame[y1:y2, x1:x2]`` must be the object, and a
negative ``x`` slices from the other side. The pipeline applies :func:`clip_to_frame`
once, at the end of each lane, so the video, JSONL, MOT and summary agree.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import supervision as sv


def clip_to_frame(detections: "sv.Detections", width: int, height: int) -> "sv.Detections":
    """``detections`` with ``xyxy`` clipped to ``[0, width] x [0, height]`` (pixels).

    Rows left with no area (a box entirely outside the picture) are dropped: nothing of
    the object is visible. Returns the input itself when every box already fits
    (the common case costs two comparisons), else a copy; the input is not modified.
    """
    xyxy = np.asarray(detections.xyxy)
    if len(xyxy) == 0:
        return detections
    limits = np.array([width, height, width, height], dtype=xyxy.dtype)
    if xyxy.min() >= 0 and np.count_nonzero(xyxy > limits) == 0:
        return detections
    clipped = np.clip(xyxy, 0, limits)
    visible = (clipped[:, 2] > clipped[:, 0]) & (clipped[:, 3] > clipped[:, 1])
    out = detections[visible] if np.count_nonzero(visible) < len(visible) else detections[np.arange(len(xyxy))]
    out.xyxy = clipped[visible]
    return out
