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
# bookkeeping to a handful of numpy calls, which is what makes >20k frames/s possible).
_BOX = slice(0, 4)  # last observed x1, y1, x2, y2
_VEL = slice(4, 8)  # per-frame velocity of the four coordinates
_MISS = 8  # frames since the last match
_HITS = 9  # matched frames (consecutive while tentative)
_CLS = 10  # class id
_KEY = 11  # internal serial number (tentative tracks have one too)
_ID = 12  # public id, 0 while tentative
_OBS = slice(13, 17)  # last observed box
_COLUMNS = 17

_NO_INDEX = np.empty(0, dtype=np.intp)
_NO_ID = np.empty(0, dtype=np.int64)


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
        self.frame_index = 0

    @property
    def active_count(self) -> int:
        """Live tracks, tentative and coasting ones included."""
        return self._count

    # -- public API -------------------------------------------------------------------

    def update(self, detections: "sv.Detections") -> "sv.Detections":
        """Track one frame's detections.

        Returns a new ``sv.Detections`` (the input is not modified) with the rows assigned
        to confirmed tracks, in input order, ``tracker_id`` set and
        ``data["det_index"]`` giving each row's index in the input.
        """
        count = len(detections)
        xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
        confidence = (
            np.ones(count) if detections.confidence is None else np.asarray(detections.confidence, np.float64)
        )
        class_id = np.zeros(count) if detections.class_id is None else np.asarray(detections.class_id, np.float64)
        det_index, track_ids = self.update_arrays(xyxy, confidence, class_id)
        order = np.argsort(det_index, kind="stable")
        det_index, track_ids = det_index[order], track_ids[order]
        out = detections[det_index]
        out.tracker_id = track_ids.astype(int)
        out.data = dict(out.data)
        out.data["det_index"] = det_index.astype(int)
        return out

    def update_arrays(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Numpy-level ``update``: returns ``(det_index, track_id)`` for confirmed tracks.

        ``xyxy`` is (N,4) float64, ``confidence`` and ``class_id`` are (N,). Inputs are
        only read.
        """
        det_index, _, track_ids = self.step(xyxy, confidence, class_id)
        confirmed = track_ids > 0
        self.last_boxes = self.last_boxes[confirmed]
        return det_index[confirmed], track_ids[confirmed]

    def step(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Advance one frame; return ``(det_index, track_key, track_id)`` for *every* match.

        Unlike ``update_arrays`` this includes tentative tracks (``track_id`` 0) with their
        internal ``track_key``; offline refinement uses it to recover the boxes a track had
        before it was confirmed.
        """
        self.frame_index += 1
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

    # -- internals --------------------------------------------------------------------

    def _step(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        cfg = self.config
        n_det = len(confidence)
        count = self._count
        state = self._state[:count]
        if count and n_det:
            rows, cols = self._associate(state, xyxy, confidence, class_id)
        else:
            rows, cols = _NO_INDEX, _NO_INDEX

        # Matched tracks take the observation; their velocity is re-estimated across
        # however many frames they were missing.
        if len(rows):
            observed = xyxy[rows]
            matched = state[cols]
            gap = (matched[:, _MISS] + 1.0)[:, None]
            first = matched[:, _HITS] == 1.0
            predicted = matched[:, _BOX] + matched[:, _VEL] * gap
            residual = observed - predicted
            box = predicted + cfg.position_gain * residual
            velocity = matched[:, _VEL] + cfg.velocity_gain * residual / gap
            measured = (observed - matched[:, _BOX]) / gap
            import os
            reinit = first | (gap[:, 0] > float(os.environ.get("REINIT", "1e9")))
            velocity[first] = measured[first]
            box[reinit] = observed[reinit]
            matched[:, _BOX] = box
            matched[:, _OBS] = observed
            matched[:, _VEL] = velocity
            matched[:, _MISS] = -1.0  # +1 below
            matched[:, _HITS] += 1.0
            state[cols] = matched
        state[:, _MISS] += 1.0

        # Confident detections nobody claimed start tentative tracks.
        unclaimed = np.ones(n_det, dtype=bool)
        unclaimed[rows] = False
        born = np.flatnonzero(unclaimed & (confidence >= cfg.new_track_confidence))
        if len(born):
            cols = np.concatenate((cols, self._add_tracks(xyxy[born], class_id[born])))
            rows = np.concatenate((rows, born))
            count = self._count
            state = self._state[:count]

        # Confirmation: ids are handed out in order, from 1, per tracker instance.
        ids = state[:, _ID]
        ready = (ids == 0.0) & (state[:, _HITS] >= cfg.min_hits)
        n_ready = np.count_nonzero(ready)
        if n_ready:
            ids[ready] = np.arange(self._next_id, self._next_id + n_ready)
            self._next_id += n_ready

        matched = state[cols]
        self.last_boxes = matched[:, _BOX]
        keys = matched[:, _KEY].astype(np.int64)
        track_ids = matched[:, _ID].astype(np.int64)

        # Tentative tracks die at their first miss; confirmed ones after max_age misses.
        miss = state[:, _MISS]
        dead = (miss > cfg.max_age) | ((ids == 0.0) & (miss > 0.0))
        if dead.any():
            alive = state[~dead]
            self._count = len(alive)
            self._state[: self._count] = alive
        return rows, keys, track_ids

    def _associate(
        self, state: np.ndarray, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Assign detections (rows) to live tracks (cols)."""
        cfg = self.config
        miss = state[:, _MISS]
        steps = np.minimum(miss + 1.0, float(cfg.max_extrapolation))
        predicted = state[:, _BOX] + state[:, _VEL] * steps[:, None]
        if cfg.coast_expansion > 0.0:
            grow = np.minimum(miss * cfg.coast_expansion, 1.0)[:, None]
            pad = (predicted[:, 2:4] - predicted[:, 0:2]) * grow
            predicted[:, 0:2] -= pad
            predicted[:, 2:4] += pad
            overlap = _buffered_iou(xyxy, predicted, pad)
        else:
            overlap = iou_matrix(xyxy, predicted)
        same_class = class_id[:, None] == state[None, :, _CLS]
        confident = confidence >= cfg.high_confidence
        threshold = np.where(confident, cfg.iou_threshold, cfg.low_iou_threshold)
        allowed = same_class & (overlap >= threshold[:, None])
        # Confident matches weigh one more than any weak one (ByteTrack's priority).
        weights = np.where(allowed, overlap + confident[:, None], 0.0)
        rows, cols = assign(weights)

        # Observation-centric recovery for confident detections left over.
        if len(rows) < len(confidence):
            free_det = np.ones(len(confidence), dtype=bool)
            free_det[rows] = False
            free_det &= confident
            free_trk = (miss > 0.0) & (state[:, _ID] > 0.0)
            free_trk[cols] = False
            if free_det.any() and free_trk.any():
                d = np.flatnonzero(free_det)
                t = np.flatnonzero(free_trk)
                overlap = iou_matrix(xyxy[d], state[t, _OBS])
                allowed = (overlap >= cfg.iou_threshold) & same_class[d[:, None], t[None, :]]
                r2, c2 = assign(np.where(allowed, overlap, 0.0))
                if len(r2):
                    rows = np.concatenate((rows, d[r2]))
                    cols = np.concatenate((cols, t[c2]))
        return rows, cols

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


def _buffered_iou(xyxy: np.ndarray, expanded_tracks: np.ndarray, pad: np.ndarray) -> np.ndarray:
    """IoU after growing each detection by the same margin as the track it is compared to.

    Growing both boxes (not just the track's) keeps a perfect overlap at 1 however long
    the track has been lost, while boxes that were close but disjoint start to overlap.
    """
    top_left = np.maximum(xyxy[:, None, 0:2] - pad[None], expanded_tracks[None, :, 0:2])
    bottom_right = np.minimum(xyxy[:, None, 2:4] + pad[None], expanded_tracks[None, :, 2:4])
    wh = np.maximum(bottom_right - top_left, 0.0)
    inter = wh[..., 0] * wh[..., 1]
    det_wh = np.maximum(xyxy[:, None, 2:4] - xyxy[:, None, 0:2] + 2.0 * pad[None], 0.0)
    det_area = det_wh[..., 0] * det_wh[..., 1]
    trk_wh = np.maximum(expanded_tracks[:, 2:4] - expanded_tracks[:, 0:2], 0.0)
    union = det_area + (trk_wh[:, 0] * trk_wh[:, 1])[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0.0)
