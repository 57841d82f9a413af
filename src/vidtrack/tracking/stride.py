"""Tracks on frames the detector skipped: interpolated (files), predicted (live) or held (no motion).

With ``--detect-every N`` (or ``auto``) and ``--motion-gate``, the detector runs on some frames
only. Every frame is still reported; what its tracks are comes from here. Numpy only.

* **Interpolated** (recorded video, the detector skipped the frame for the stride): the lane
  holds the skipped frames until the next detected frame is tracked, then each track seen in
  both detected frames gets, on skipped frame ``k`` of ``gap``, the box
  ``prev + (next - prev) * k / gap``, the straight line between its two tracked boxes, with the
  class, confidence and ids of the later frame. A track present in only one of the two detected
  frames (it started or ended in between) is not reported on the skipped frames.
* **Predicted** (live: the display is never older than the newest frame): each track's box moves
  on from its last tracked box with the velocity between its last two tracked boxes.
* **Held** (the motion gate saw nothing move): every track keeps its last box (stationary).

How lines and zones see every crossing: analytics run on every reported frame, detected or not.
A track crossing a line between two detected frames has interpolated anchor positions on the
skipped frames, so the crossing is found on the first skipped frame whose interpolated anchor is
on the other side, and timed by that frame's time (the straight path between the two detections
crosses there). The time is exact for objects moving straight at constant speed and off by less
than one detector interval otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    import supervision as sv


def _keys(detections: "sv.Detections") -> np.ndarray:
    keys = detections.data.get("track_key")
    if keys is None:
        return np.asarray(detections.tracker_id if detections.tracker_id is not None else [], dtype=np.int64)
    return np.asarray(keys, dtype=np.int64)


def interpolate(previous: "sv.Detections", following: "sv.Detections", step: int, gap: int) -> "sv.Detections":
    """Tracks on skipped frame ``step`` (1..gap-1) between two tracked frames ``gap`` frames apart.

    ``previous`` and ``following`` are tracker outputs (:meth:`IoUTracker.update_all`, rows
    keyed by ``data["track_key"]``). Returns the rows of ``following`` whose track is in both,
    boxes linearly interpolated (pixels). Raises ValueError when ``step`` is not inside the gap.
    """
    if not 0 < step < gap:
        raise ValueError(f"step {step} is not inside a gap of {gap} frames")
    common, prev_rows, next_rows = np.intersect1d(_keys(previous), _keys(following), return_indices=True)
    out = following[next_rows]  # rows in the order of ``common``, as ``start``/``end`` below
    if len(common):
        start = np.asarray(previous.xyxy, dtype=np.float64)[prev_rows]
        end = np.asarray(following.xyxy, dtype=np.float64)[next_rows]
        out.xyxy = (start + (end - start) * (step / gap)).astype(np.asarray(following.xyxy).dtype)
    return out


def predict(previous: "sv.Detections | None", last: "sv.Detections", gap: int, ahead: int) -> "sv.Detections":
    """Tracks ``ahead`` frames after ``last``, moving on at the velocity from ``previous`` (``gap`` frames before).

    A track not in ``previous`` keeps its box. Returns a copy of ``last`` with moved boxes.
    """
    out = last[np.arange(len(last))]
    if previous is None or gap <= 0 or ahead <= 0 or not len(last):
        return out
    common, prev_rows, last_rows = np.intersect1d(_keys(previous), _keys(last), return_indices=True)
    if len(common):
        boxes = np.asarray(last.xyxy, dtype=np.float64).copy()
        velocity = (boxes[last_rows] - np.asarray(previous.xyxy, dtype=np.float64)[prev_rows]) / gap
        boxes[last_rows] += velocity * ahead
        out.xyxy = boxes.astype(np.asarray(last.xyxy).dtype)
    return out


def hold(last: "sv.Detections") -> "sv.Detections":
    """The tracks of ``last`` unchanged (a copy): nothing moved since it was detected."""
    return last[np.arange(len(last))]


def auto_stride(
    previous: "sv.Detections | None",
    following: "sv.Detections",
    gap: int,
    max_stride: int,
    frame_height: int,
    near_line: "Callable[[np.ndarray], np.ndarray] | None" = None,
    max_shift: float = 0.2,
    min_size: float = 0.02,
) -> int:
    """Frames until the next detection for ``--detect-every auto``: 1 when objects are fast, small or near a line.

    Speed is each track's displacement per frame between its last two tracked boxes, as a
    fraction of its box height; the stride keeps the displacement between two detections at most
    ``max_shift`` box heights (0.2 keeps the IoU between consecutive detections of the same
    object above about 0.65, well over the tracker's match threshold). A track whose box is
    shorter than ``min_size`` of the frame height (small: the detector often misses it) asks for
    every frame, and so does one that may reach a line or zone edge before the next detection:
    ``near_line(reach)`` gets each row's reach in pixels (its travel over ``max_stride`` frames,
    plus a tenth of its height) and returns a boolean per row. While any track is new (not in
    ``previous``: speed unknown), at most 2; with no track at all, ``max_stride``. Returns 1..max_stride.
    """
    if max_stride <= 1 or not len(following):
        return max(1, max_stride)
    boxes = np.asarray(following.xyxy, dtype=np.float64)
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    if np.count_nonzero(heights < min_size * frame_height):
        return 1
    if previous is None or gap <= 0:
        return 1  # first detection of a scene: learn the speeds first
    common, prev_rows, next_rows = np.intersect1d(_keys(previous), _keys(following), return_indices=True)
    longest = max_stride
    if len(common) < len(following):
        # New objects (speed unknown) are detected at least every other frame until seen twice.
        longest = min(max_stride, 2)
    if not len(common):
        return longest
    travel = np.zeros(len(boxes))
    old = np.asarray(previous.xyxy, dtype=np.float64)[prev_rows]
    travel[next_rows] = np.abs(boxes[next_rows] - old).max(axis=1) / gap  # pixels per frame
    if near_line is not None and np.count_nonzero(near_line(travel * max_stride + 0.1 * heights)):
        return 1
    shift = travel[next_rows] / heights[next_rows]
    fastest = float(shift.max())
    if fastest <= 0:
        return longest
    return int(min(longest, max(1, np.floor(max_shift / fastest))))
