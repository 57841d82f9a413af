"""Tracks on frames the detector skipped: interpolated (files), predicted (live) or held (no motion).

With ``--detect-every N`` (or ``auto``) and ``--motion-gate``, the detector runs on some frames
only. Every frame is still reported; what its tracks are comes from here. Numpy only.

* **Interpolated** (recorded video, the detector skipped the frame for the stride): the lane
  holds the skipped frames until the next detected frame is tracked, then each track seen in
  both detected frames gets, on skipped frame ``k`` of ``gap``, the box
  ``prev + (next - prev) * k / gap``, the straight line between its two detections, with the
  class, confidence and ids of the later frame (:func:`bridge`). The tracker is fed those boxes
  frame by frame before the later frame's detections, so ages, confirmation and velocities count
  frames as on a full-rate run (fed once per detection instead, measured on people_street,
  pedestrians_pets and highway_traffic, IDF1 against the full-rate run fell to 0.76-0.89 at a fixed
  stride of 4; fed every frame, 0.90-0.92), and which track a detection continues is decided on the
  tracks coasted frame by frame through the gap. A track present in only one of the two detected
  frames (it started or ended in between) is not reported on the skipped frames.
* **Predicted** (live: the display is never older than the newest frame): each track's box moves
  on from its last tracked box with the velocity between its last two tracked boxes.
* **Held** (the motion gate saw nothing move): every track keeps its last box (stationary).

How lines and zones see every crossing: analytics run on every reported frame, detected or not.
A track crossing a line between two detected frames has interpolated anchor positions on the
skipped frames, so the crossing is found on the first skipped frame whose interpolated anchor is
on the other side, and timed by that frame's time (the straight path between the two detections
crosses there). The time is exact for objects moving straight at constant speed and off by less
than one detector interval otherwise. What a straight line cannot know is where a track began
or ended inside the gap: when that happens near a line, a zone edge or inside a zone, the
pipeline detects the skipped frames after all (``pipeline._plain_gap``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

import numpy as np

if TYPE_CHECKING:
    import supervision as sv


def track_keys(detections: "sv.Detections") -> np.ndarray:
    """(N,) int64 key of each row's track (``data["track_key"]``, else ``tracker_id``)."""
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
    common, prev_rows, next_rows = np.intersect1d(track_keys(previous), track_keys(following), return_indices=True)
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
    common, prev_rows, last_rows = np.intersect1d(track_keys(previous), track_keys(last), return_indices=True)
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
    max_shift: float = 0.5,
    min_size: float = 0.02,
    jitter: float = 0.03,
    careful: int = 3,
) -> int:
    """Frames until the next detection for ``--detect-every auto``, from the objects' speed relative to their size.

    Speed is each track's travel per frame between its last two tracked boxes (the largest of
    its centre's move along x and y and half its width and height change, less ``jitter`` box
    heights: two detections of a still object differ by a few pixels), as a fraction of its box
    height. The stride keeps an object's travel between two detections at most ``max_shift`` box
    heights. The tracker matches a detection with its constant-velocity prediction, not with the
    last box, so steady motion is predicted; half a box height leaves the prediction room for a
    change of pace (measured on people_street_1080p and highway_traffic_720p: 0.5 kept the line
    counts of the full-rate run and IDF1 about 0.9 against it while detecting under half the
    frames; 0.25 detected more and was not better; with the gap tracked frame by frame
    (:func:`bridge`), 0.75 and 1.0 cut highway_traffic's detections by a quarter and a third but
    lost IDF1 on it and on pedestrians_pets).

    * A track shorter than ``min_size`` of the frame height (small: the detector often
      misses it, and a miss costs a whole stride) limits the stride to ``careful`` (3: with the
      gap tracked frame by frame, IDF1 0.933 / 0.910 / 0.921 on the three busy clips and their
      line counts exact; 2 gave 0.906 / 0.913 / 0.933 and one extra crossing on pedestrians_pets).
    * While a track is new (not in ``previous``: speed unknown), at most ``careful``; the first
      detection of a scene (``previous`` None) gives 1.
    * ``near_line`` (live sources only, where nothing is interpolated): a function getting each
      row's reach in pixels (its travel over ``max_stride`` frames, plus a tenth of its height)
      and returning a boolean per row; any True gives 1. On files it is not needed: a crossing
      between two detected frames is found on the interpolated frames between them
      (module docstring).

    With no track at all, ``max_stride``. Returns 1..max_stride.
    """
    if max_stride <= 1:
        return 1
    if not len(following):
        return max_stride
    boxes = np.asarray(following.xyxy, dtype=np.float64)
    heights = np.maximum(boxes[:, 3] - boxes[:, 1], 1.0)
    if previous is None or gap <= 0:
        return 1  # first detection of a scene: learn the speeds first
    longest = max_stride
    if np.count_nonzero(heights < min_size * frame_height):
        longest = min(longest, careful)
    common, prev_rows, next_rows = np.intersect1d(track_keys(previous), track_keys(following), return_indices=True)
    if len(common) < len(following):
        # New objects (speed unknown) are detected at least every other frame until seen twice.
        longest = min(longest, careful)
    if not len(common):
        return longest
    old = np.asarray(previous.xyxy, dtype=np.float64)[prev_rows]
    new = boxes[next_rows]
    centre = np.abs((new[:, :2] + new[:, 2:]) - (old[:, :2] + old[:, 2:])) / 2.0
    size = np.abs((new[:, 2:] - new[:, :2]) - (old[:, 2:] - old[:, :2])) / 2.0
    moved = np.maximum(centre.max(axis=1), size.max(axis=1))  # pixels over the gap
    h = heights[next_rows]
    travel = np.maximum(moved - jitter * h, 0.0) / gap  # pixels per frame
    if near_line is not None:
        reach = 0.1 * heights
        reach[next_rows] += travel * max_stride
        if np.count_nonzero(near_line(reach)):
            return 1
    fastest = float((travel / h).max())
    if fastest <= 0:
        return longest
    return int(min(longest, max(1, np.floor(max_shift / fastest))))


def bridge(
    last: "sv.Detections", last_boxes: np.ndarray, following: "sv.Detections", raw: "sv.Detections", gap: int
) -> "list[sv.Detections]":
    """Detections for the ``gap - 1`` skipped frames between two detected frames of a file: the straight path of each track.

    ``last``: the tracker's output at the earlier detected frame (rows keyed by
    ``data["track_key"]``), ``last_boxes`` (len(last), 4) the *detections* those rows were
    matched with (pixels); ``following``: the tracker's output at the later frame (its
    ``data["det_index"]`` indexes ``raw``, that frame's detections). A track matched at both
    frames gets, on skipped frame ``k``, the detection box ``start + (end - start) * k / gap``
    with the later detection's class and confidence (and its track's ``tracker_id``: these rows
    are tracks, so line back-fill finds no spare detections on them). Fed to the tracker frame by frame before
    the later frame's own detections, these keep its state what a full-rate run builds (ages,
    confirmation and velocities in frames, not in detector calls). Returns ``gap - 1``
    ``sv.Detections`` (one per skipped frame, in order; empty ones when no track is in both).
    """
    common, prev_rows, next_rows = np.intersect1d(track_keys(last), track_keys(following), return_indices=True)
    rows = np.asarray(following.data["det_index"], dtype=np.int64)[next_rows]
    start = np.asarray(last_boxes, dtype=np.float64).reshape(-1, 4)[prev_rows]
    end = np.asarray(raw.xyxy, dtype=np.float64)[rows]
    ids = np.asarray(following.tracker_id, dtype=np.int64)[next_rows]
    out = []
    for k in range(1, gap):
        step = raw[rows]
        step.xyxy = start + (end - start) * (k / gap)
        step.tracker_id = ids  # rows of tracks, not the detector's: no spare detections here (analytics back-fill)
        out.append(step)
    return out


def warp(boxes: np.ndarray, affine: "np.ndarray | None") -> np.ndarray:
    """(N,4) boxes moved by the camera's motion ``affine`` ((2,3), one frame's pixels -> another's).

    As :meth:`IoUTracker.compensate` moves tracks: centres move with the affine, widths and
    heights scale by its scale. ``affine`` None: the boxes as they are (a float64 copy).
    """
    out = np.array(boxes, dtype=np.float64).reshape(-1, 4)
    if affine is None or not len(out):
        return out
    a = np.asarray(affine, dtype=np.float64).reshape(2, 3)
    linear, shift = a[:, :2], a[:, 2]
    scale = float(np.sqrt(abs(np.linalg.det(linear))))
    centre = ((out[:, 0:2] + out[:, 2:4]) * 0.5) @ linear.T + shift
    half = (out[:, 2:4] - out[:, 0:2]) * (0.5 * scale)
    out[:, 0:2] = centre - half
    out[:, 2:4] = centre + half
    return out
