"""The online IoU tracker.

Each frame, every live track predicts its box with a constant-velocity model, detections
are assigned to tracks by maximum-weight (Hungarian) matching on IoU, and the
association result is carried by detection index, so the caller knows exactly which
input row got which id. No appearance, no OpenCV: numpy and scipy only.

Association, per frame:

1. Confident detections (``high_confidence``) and weak ones compete in one assignment;
   a confident match always outweighs a weak one, and weak detections need the stricter
   ``low_iou_threshold`` (ByteTrack's two stages, folded into one solve).
2. Confident detections still unmatched get a second chance against tracks that missed
   frames, this time compared with the track's *last observed* box instead of its
   prediction: after an occlusion the extrapolated box has often drifted while the
   object reappears close to where it was last seen (OC-SORT's observation-centric
   recovery).
3. When a track is re-found after a gap, its velocity is re-estimated from the two real
   observations across the gap, not from the drifted prediction.

Lifecycle: a confident, unmatched detection starts a tentative track; it is confirmed
(and given the next id of this tracker instance, from 1) after ``min_hits`` consecutive
matches and dies at its first miss before that. A confirmed track coasts unseen for up
to ``max_age`` frames. Only detections matched to confirmed tracks are reported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vidtrack.tracking.assignment import assign
from vidtrack.tracking.config import TrackerConfig
from vidtrack.tracking.iou import iou_matrix

if TYPE_CHECKING:
    import supervision as sv

# Columns of the state matrix, one row per live track (one array keeps per-frame
# bookkeeping to a handful of numpy calls per frame).
_BOX = slice(0, 4)  # filtered x1, y1, x2, y2 at the last update
_VEL = slice(4, 8)  # per-frame velocity of the four coordinates
_OBS = slice(8, 12)  # last observed (detection) box
_MISS = 12  # frames since the last match
_HITS = 13  # matched frames (consecutive while tentative)
_CLS = 14  # class id
_KEY = 15  # internal serial number (tentative tracks have one too)
_ID = 16  # public id, 0 while tentative
_COLUMNS = 17

_NO_INDEX = np.empty(0, dtype=np.intp)


class IoUTracker:
    """Online multi-object tracker matching boxes by IoU; ids belong to the instance."""

    def __init__(self, config: TrackerConfig | None = None) -> None:
        self.config = config if config is not None else TrackerConfig()
        self.reset()

    def reset(self) -> None:
        """Forget every track; the next confirmed track gets id 1 again."""
        self._state = np.zeros((64, _COLUMNS), dtype=np.float64)
        self._count = 0
        self._next_key = 1
        self._next_id = 1
        self._last_boxes = np.empty((0, 4))

    @property
    def active_count(self) -> int:
        """Live tracks, tentative and coasting ones included."""
        return self._count

    # -- public API -------------------------------------------------------------------

    def update(self, detections: "sv.Detections") -> "sv.Detections":
        """Track one frame's detections.

        Returns a new ``sv.Detections`` (the input is not modified) with the rows assigned
        to confirmed tracks, in input order, ``tracker_id`` set and
        ``data["det_index"]`` giving each row's index in the input. With
        ``smooth_boxes`` (default) ``xyxy`` holds the tracks' filtered boxes.
        """
        count = len(detections)
        xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
        confidence = (
            np.ones(count) if detections.confidence is None else np.asarray(detections.confidence, np.float64)
        )
        class_id = np.zeros(count) if detections.class_id is None else np.asarray(detections.class_id, np.float64)
        det_index, track_ids, boxes = self.update_arrays(xyxy, confidence, class_id)
        order = np.argsort(det_index, kind="stable")
        out = detections[det_index[order]]
        out.xyxy = boxes[order].astype(out.xyxy.dtype, copy=False).reshape(-1, 4)
        out.tracker_id = track_ids[order].astype(int)
        out.data = dict(out.data)
        out.data["det_index"] = det_index[order].astype(int)
        return out

    def update_arrays(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Numpy-level ``update`` for confirmed tracks: ``(det_index, track_id, xyxy)``.

        ``xyxy`` is (N,4) float64, ``confidence`` and ``class_id`` are (N,); they are only
        read. The boxes returned are the tracks' filtered boxes with ``smooth_boxes``,
        else the matched detections' own boxes.
        """
        det_index, _, track_ids = self.step(xyxy, confidence, class_id)
        confirmed = track_ids > 0
        return det_index[confirmed], track_ids[confirmed], self._last_boxes[confirmed]

    def step(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance one frame; return ``(det_index, track_key, track_id)`` for *every* match.

        Unlike ``update_arrays`` this includes tentative tracks (``track_id`` 0) with their
        internal ``track_key``; offline refinement uses it to recover the boxes a track had
        before it was confirmed. :attr:`last_boxes` holds the reported box of each match.
        """
        n_det = len(confidence)
        if n_det:
            # Weak, degenerate (zero-area, inverted) or NaN boxes never take part.
            usable = (
                (confidence >= self.config.min_confidence)
                & (xyxy[:, 2] > xyxy[:, 0])
                & (xyxy[:, 3] > xyxy[:, 1])
            )
            if not usable.all():
                keep = np.flatnonzero(usable)
                det_index, keys, ids = self._step(xyxy[keep], confidence[keep], class_id[keep])
                return keep[det_index], keys, ids
        return self._step(xyxy, confidence, class_id)

    @property
    def last_boxes(self) -> np.ndarray:
        """(M,4) boxes reported for the matches of the last :meth:`step`, same order."""
        return self._last_boxes

    # -- internals --------------------------------------------------------------------

    def _step(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        n_det = len(confidence)
        count = self._count
        state = self._state[:count]
        rows = cols = _NO_INDEX
        if count:
            # Constant-velocity prediction for every live track, across its missed frames.
            gap = state[:, _MISS] + 1.0
            predicted = state[:, _BOX] + state[:, _VEL] * gap[:, None]
            if n_det:
                rows, cols = self._associate(state, predicted, xyxy, confidence, class_id)
            if len(rows):
                self._correct(state, predicted, gap, rows, cols, xyxy[rows])
            state[:, _MISS] += 1.0

        # Confident detections nobody claimed start tentative tracks.
        if len(rows) < n_det:
            unclaimed = confidence >= cfg.new_track_confidence
            unclaimed[rows] = False
            born = np.flatnonzero(unclaimed)
            if len(born):
                cols = np.concatenate((cols, self._add_tracks(xyxy[born], class_id[born])))
                rows = np.concatenate((rows, born))
                state = self._state[: self._count]

        # Confirmation: ids are handed out in order, from 1, per tracker instance.
        ids = state[:, _ID]
        ready = (ids == 0.0) & (state[:, _HITS] >= cfg.min_hits)
        if ready.any():
            n_ready = int(np.count_nonzero(ready))
            ids[ready] = np.arange(self._next_id, self._next_id + n_ready)
            self._next_id += n_ready

        matched = state[cols]
        keys = matched[:, _KEY].astype(np.int64)
        track_ids = matched[:, _ID].astype(np.int64)
        self._last_boxes = matched[:, _BOX] if cfg.smooth_boxes else matched[:, _OBS]

        # Tentative tracks die at their first miss; confirmed ones after max_age misses.
        miss = state[:, _MISS]
        dead = (miss > cfg.max_age) | ((miss > 0.0) & (ids == 0.0))
        if dead.any():
            alive = state[~dead]
            self._count = len(alive)
            self._state[: self._count] = alive
        return rows, keys, track_ids

    def _associate(
        self,
        state: np.ndarray,
        predicted: np.ndarray,
        xyxy: np.ndarray,
        confidence: np.ndarray,
        class_id: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Assign detections (rows) to live tracks (cols)."""
        cfg = self.config
        overlap = iou_matrix(xyxy, predicted)
        same_class = class_id[:, None] == state[:, _CLS]
        confident = confidence >= cfg.high_confidence
        threshold = np.where(confident, cfg.iou_threshold, cfg.low_iou_threshold)
        allowed = (overlap >= threshold[:, None]) & same_class
        # Confident matches weigh one more than any weak one (ByteTrack's priority).
        rows, cols = assign(allowed, overlap, confident.astype(np.float64))
        if len(rows) == len(confidence):
            return rows, cols

        # Observation-centric recovery for confident detections left over.
        free_det = confident.copy()
        free_det[rows] = False
        free_trk = (state[:, _MISS] > 0.0) & (state[:, _ID] > 0.0)
        free_trk[cols] = False
        if free_det.any() and free_trk.any():
            d = np.flatnonzero(free_det)
            t = np.flatnonzero(free_trk)
            overlap = iou_matrix(xyxy[d], state[t, _OBS])
            allowed = (overlap >= cfg.iou_threshold) & same_class[d[:, None], t[None, :]]
            extra_rows, extra_cols = assign(allowed, overlap)
            if len(extra_rows):
                rows = np.concatenate((rows, d[extra_rows]))
                cols = np.concatenate((cols, t[extra_cols]))
        return rows, cols

    def _correct(
        self,
        state: np.ndarray,
        predicted: np.ndarray,
        gap: np.ndarray,
        rows: np.ndarray,
        cols: np.ndarray,
        observed: np.ndarray,
    ) -> None:
        """Alpha-beta update of the matched tracks with their detections.

        A track seen for the second time takes the measured velocity as is; a track
        re-found after missed frames restarts from the observation (its prediction has
        drifted) and re-estimates its velocity across the gap from real observations.
        """
        cfg = self.config
        matched = state[cols]
        span = gap[cols][:, None]
        residual = observed - predicted[cols]
        box = predicted[cols] + cfg.position_gain * residual
        # Young tracks average their first velocity measurements (gain 1/n, like a Kalman
        # filter whose uncertainty is still shrinking), then settle at velocity_gain.
        gain = np.maximum(cfg.velocity_gain, 1.0 / matched[:, _HITS])[:, None]
        velocity = matched[:, _VEL] + (gain / span) * residual
        restart = (matched[:, _HITS] == 1.0) | (span[:, 0] > 1.0)
        if restart.any():
            measured = (observed - matched[:, _OBS]) / span
            first = matched[:, _HITS] == 1.0
            velocity[first] = measured[first]
            box[restart] = observed[restart]
        matched[:, _BOX] = box
        matched[:, _VEL] = velocity
        matched[:, _OBS] = observed
        matched[:, _MISS] = -1.0  # the caller adds 1 to every track
        matched[:, _HITS] += 1.0
        state[cols] = matched

    def _add_tracks(self, boxes: np.ndarray, classes: np.ndarray) -> np.ndarray:
        """Append tentative tracks; returns their row indices."""
        start, n_new = self._count, len(boxes)
        if start + n_new > len(self._state):
            grown = np.zeros((2 * (start + n_new), _COLUMNS), dtype=np.float64)
            grown[:start] = self._state[:start]
            self._state = grown
        new = self._state[start : start + n_new]
        new[:] = 0.0
        new[:, _BOX] = boxes
        new[:, _OBS] = boxes
        new[:, _HITS] = 1.0
        new[:, _CLS] = classes
        new[:, _KEY] = np.arange(self._next_key, self._next_key + n_new)
        self._next_key += n_new
        self._count = start + n_new
        return np.arange(start, start + n_new)
