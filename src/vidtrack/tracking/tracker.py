"""The online IoU tracker.

Each frame, every live track predicts its box with a constant-velocity model, detections
are assigned to tracks by maximum-weight (Hungarian) matching on IoU, and the
association result is carried by detection index, so the caller knows exactly which
input row got which id. No appearance, no OpenCV: numpy and scipy only.

Association, per frame:

0. Scores are read as ranks among the scores this tracker has seen (a running
   histogram, :mod:`vidtrack.tracking.scores`), so the same settings suit any
   detector's score scale.
1. Confident detections (``high_score_rank``) and weak ones compete in one assignment;
   a confident match always outweighs a weak one, and weak detections need the stricter
   ``low_iou_threshold`` (ByteTrack's two stages, folded into one solve).
2. Confident detections still unmatched are compared again with widened boxes (both
   boxes grow by ``iou_buffer`` of their size on every side: C-BIoU), so a fast mover, or
   any object at a low frame rate, still meets its prediction; and with tracks seen only
   once (no velocity yet) by centre distance in box sizes (``new_track_gate``).
3. Confident detections still unmatched get a second chance against tracks that missed
   frames, this time compared with the track's *last observed* box instead of its
   prediction: after an occlusion the extrapolated box has often drifted while the
   object reappears close to where it was last seen (OC-SORT's observation-centric
   recovery).
4. When a track is re-found after a gap, its velocity is re-estimated from the two real
   observations across the gap, not from the drifted prediction.

Settings that mean time (``max_age``, the gains) are converted with the video's
``frame_rate``; :meth:`IoUTracker.compensate` applies the camera's motion (a 2x3 affine
from :mod:`vidtrack.motion`) to every track before a frame's update.

Lifecycle: an unmatched detection ranking at least ``new_track_score_rank`` starts a
tentative track; it is confirmed (and given the next id of this tracker instance, from
1) after ``min_hits`` consecutive matches and dies at its first miss before that. A confirmed track coasts unseen for up
to ``max_age`` seconds. Only detections matched to confirmed tracks are reported.

Speed: a frame costs a few dozen numpy calls on arrays of a handful of rows, so call
overhead, not arithmetic, is the budget. Hence one state matrix, in-place updates, work
skipped when it provably has no effect (confirmation, deaths, recovery), and the
cheapest spelling of small checks (``np.count_nonzero`` and ``ndarray.nonzero`` rather
than ``.any()``, ``.all()`` and ``np.nonzero``, several times slower on tiny arrays).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from vidtrack.errors import OptionError
from vidtrack.tracking.assignment import assign
from vidtrack.tracking.classes import AssociationClasses
from vidtrack.tracking.config import TrackerConfig
from vidtrack.tracking.scores import _INNER_EDGES, ScoreRanks

if TYPE_CHECKING:
    import supervision as sv

# Columns of the state matrix, one row per live track (one array keeps per-frame
# bookkeeping to a handful of numpy calls per frame).
_BOX = slice(0, 4)  # filtered box at the last update, then moved by the prediction
_VEL = slice(4, 8)  # per-frame velocity of the four coordinates
_OBS = slice(8, 12)  # last observed (detection) box
_MISS = 12  # frames since the last match (0 for tracks matched in this frame)
_HITS = 13  # matched frames (consecutive while tentative)
_CLS = 14  # association class of the first detection (classes.py)
_KEY = 15  # internal serial number (tentative tracks have one too)
_ID = 16  # public id, 0 while tentative
_LIMIT = 17  # misses survived: 0 while tentative, max_age once confirmed
_COLUMNS = 18

#: The rate assumed when the caller does not say (the most common video rate).
DEFAULT_FRAME_RATE = 30.0

_NO_INDEX = np.empty(0, dtype=np.intp)
_NO_BOXES = np.empty((0, 4), dtype=np.float64)


class IoUTracker:
    """Online multi-object tracker matching boxes by IoU; ids belong to the instance."""

    def __init__(self, config: TrackerConfig | None = None, frame_rate: float | None = None) -> None:
        """``frame_rate``: frames per second of the video the detections come from (of the
        detected frames, when the detector skips some); the settings given in seconds are
        converted with it. None: 30 (:data:`DEFAULT_FRAME_RATE`)."""
        self.config = config if config is not None else TrackerConfig()
        self._ranks = ScoreRanks(memory=self.config.score_memory)
        cfg = self.config
        rate = DEFAULT_FRAME_RATE if frame_rate is None else float(frame_rate)
        if not rate > 0.0:
            raise OptionError(f"frame rate {frame_rate} is not positive", "pass the video's frames per second, e.g. 30")
        self.frame_rate = rate
        self._max_age = cfg.max_age_frames(rate)
        self._position_gain, self._velocity_gain = cfg.gains_at(rate)
        self._wanted_ranks = np.array([cfg.min_score_rank, cfg.high_score_rank, cfg.new_track_score_rank])
        self._classes = AssociationClasses()
        self.reset()

    def reset(self) -> None:
        """Forget every track and every score seen; the next confirmed track gets id 1 again."""
        self._state = np.zeros((64, _COLUMNS), dtype=np.float64)
        self._count = 0
        self._next_key = 1
        self._next_id = 1
        self._frame = 0
        self._last_birth = -(10**9)  # frame of the latest birth: tentative tracks are younger
        self._last_boxes = _NO_BOXES
        self._ranks.reset()
        self._ranks_version = -1
        self._min_bin = self._high_bin = self._new_bin = 0

    def end_tracks(self) -> None:
        """End every live track now, as if ``max_age`` frames had passed without detections.

        For gaps in the picture (a reconnect, a size change): old boxes are in another
        picture's coordinates. Ids keep counting (no id is reused) and the score ranking
        is kept (same detector).
        """
        self._count = 0
        self._last_birth = -(10**9)
        self._last_boxes = _NO_BOXES

    def compensate(self, affine: np.ndarray) -> None:
        """Move every live track by the camera's motion since the previous frame.

        ``affine``: (2,3) float, previous frame's pixels -> this frame's (rotation, uniform
        scale and translation; :mod:`vidtrack.motion` estimates it). Call it before this
        frame's update. Box centres move with the affine, widths and heights scale by its
        scale, velocities turn and scale with its linear part, so the prediction lands
        where the object is in the moved picture. No OpenCV: the tracker only applies it.
        """
        count = self._count
        if not count:
            return
        a = np.asarray(affine, dtype=np.float64).reshape(2, 3)
        linear, shift = a[:, :2], a[:, 2]
        scale = float(np.sqrt(abs(np.linalg.det(linear))))
        state = self._state[:count]
        for cols in (_BOX, _OBS):
            boxes = state[:, cols]
            centre = (boxes[:, 0:2] + boxes[:, 2:4]) * 0.5
            half = (boxes[:, 2:4] - boxes[:, 0:2]) * (0.5 * scale)
            centre = centre @ linear.T + shift
            boxes[:, 0:2] = centre - half
            boxes[:, 2:4] = centre + half
        vel = state[:, _VEL]
        vel[:, 0:2] = vel[:, 0:2] @ linear.T
        vel[:, 2:4] = vel[:, 2:4] @ linear.T

    @property
    def active_count(self) -> int:
        """Live tracks, tentative and coasting ones included."""
        return self._count

    @property
    def has_tentative(self) -> bool:
        """True while a track waits for confirmation (its first ``min_hits`` matches)."""
        return bool(np.count_nonzero(self._state[: self._count, _ID] == 0))

    # -- public API -------------------------------------------------------------------

    def update(self, detections: "sv.Detections") -> "sv.Detections":
        """Track one frame's detections.

        Returns a new ``sv.Detections`` (the input is not modified) with the rows assigned
        to confirmed tracks, in input order, ``tracker_id`` set and
        ``data["det_index"]`` giving each row's index in the input. With
        ``smooth_boxes`` (default) ``xyxy`` holds the tracks' filtered boxes. Classes a
        detector confuses (car/truck/bus, bicycle/motorcycle, by ``data["class_name"]``;
        :mod:`vidtrack.tracking.classes`) continue each other's tracks; each row keeps its
        own class.
        """
        xyxy, confidence, class_id = self._arrays(detections)
        det_index, track_ids, boxes = self.update_arrays(xyxy, confidence, class_id)
        return _subset(detections, det_index, track_ids, boxes)

    def update_all(self, detections: "sv.Detections") -> "sv.Detections":
        """Like :meth:`update`, but with the matches of *tentative* tracks too.

        Their ``tracker_id`` is 0; ``data["track_key"]`` holds every row's internal track
        key (unique per track of this instance, tentative or not), so a look-ahead stage
        (:class:`~vidtrack.tracking.lookahead.LookAhead`) can give a track's first rows
        its id once it is confirmed.
        """
        xyxy, confidence, class_id = self._arrays(detections)
        det_index, keys, track_ids = self.step(xyxy, confidence, class_id)
        return _subset(detections, det_index, track_ids, self._last_boxes, keys)

    def update_arrays(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Numpy-level ``update`` for confirmed tracks: ``(det_index, track_id, xyxy)``.

        ``xyxy`` is (N,4) float64, ``confidence`` and ``class_id`` are (N,); they are only
        read. A detection only continues a track of its own ``class_id``: pass
        :func:`~vidtrack.tracking.classes.association_class` values to let confusable
        classes continue each other's tracks (``update`` does that from the class names). The boxes returned are the tracks' filtered boxes with ``smooth_boxes``,
        else the matched detections' own boxes.
        """
        det_index, matched = self._advance(xyxy, confidence, class_id)
        track_ids = matched[:, _ID].astype(np.int64)
        if self._frame - self._last_birth >= self.config.min_hits:
            return det_index, track_ids, self._last_boxes  # no tentative track is alive
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
        det_index, matched = self._advance(xyxy, confidence, class_id)
        return det_index, matched[:, _KEY].astype(np.int64), matched[:, _ID].astype(np.int64)

    def _advance(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """One frame: ``(det_index, state rows of the matched tracks)``."""
        self._frame += 1
        if len(confidence) == 0:
            return self._step(_NO_BOXES, _NO_BOXES[:, 0], _NO_INDEX, _NO_BOXES[:, 0])
        wh = xyxy[:, 2:4] - xyxy[:, 0:2]
        area = wh[:, 0] * wh[:, 1]
        # Degenerate (zero-area, inverted) or NaN boxes and NaN scores never take part,
        # nor do they count in the score distribution. (A positive area and a positive
        # width mean a positive height too; NaN fails every comparison.)
        usable = (np.minimum(wh[:, 0], area) > 0.0) & (confidence == confidence)
        keep = None
        if np.count_nonzero(usable) < len(usable):
            keep = usable.nonzero()[0]
            xyxy, area, confidence, class_id = xyxy[keep], area[keep], confidence[keep], class_id[keep]
        score_bins = self._observe(confidence)
        if self._min_bin > 0:
            strong = score_bins >= self._min_bin
            if np.count_nonzero(strong) < len(strong):
                index = strong.nonzero()[0]
                keep = index if keep is None else keep[index]
                xyxy, area, score_bins, class_id = xyxy[index], area[index], score_bins[index], class_id[index]
        det_index, matched = self._step(xyxy, area, score_bins, class_id)
        return (det_index if keep is None else keep[det_index]), matched

    def score_rank(self, confidence: np.ndarray) -> np.ndarray:
        """Rank in [0, 1] of each score among the scores this tracker has seen so far.

        The calibrated scale the ``*_score_rank`` settings are read on; offline
        refinement uses it to judge whole tracks with the whole video's distribution.
        """
        return self._ranks.rank(confidence)

    @property
    def last_boxes(self) -> np.ndarray:
        """(M,4) boxes reported for the matches of the last :meth:`step`, same order."""
        return self._last_boxes

    # -- internals --------------------------------------------------------------------

    def _arrays(self, detections: "sv.Detections") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:func:`_arrays` with association classes from ``data["class_name"]`` when present."""
        xyxy, confidence, class_id = _arrays(detections)
        names = detections.data.get("class_name") if detections.data else None
        return xyxy, confidence, self._classes(class_id, names)

    def _observe(self, confidence: np.ndarray) -> np.ndarray:
        """Add the frame's scores to the distribution; return their bins. Keeps the bins
        the rank settings correspond to up to date."""
        score_bins = _INNER_EDGES.searchsorted(confidence, side="right")  # finite_score_bins, minus a call
        ranks = self._ranks
        ranks.observe_bins(score_bins)
        if ranks.version != self._ranks_version:
            self._ranks_version = ranks.version
            self._min_bin, self._high_bin, self._new_bin = ranks.bin_thresholds(self._wanted_ranks).tolist()
        return score_bins

    def _step(
        self, xyxy: np.ndarray, area: np.ndarray, score_bins: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        n_det = len(score_bins)
        count = self._count
        state = self._state[:count]
        rows = cols = _NO_INDEX
        matched = None  # the matched rows of the state, once known to be final
        if count:
            # Constant-velocity prediction; a coasting track keeps moving.
            state[:, _BOX] += state[:, _VEL]
            state[:, _MISS] += 1.0
            if n_det:
                rows, cols = self._associate(state, xyxy, area, score_bins, class_id)
                if len(rows):
                    matched = self._correct(state, cols, xyxy[rows])
        n_old_matched = len(rows)

        # Confident detections nobody claimed start tentative tracks.
        if len(rows) < n_det:
            unclaimed = score_bins >= self._new_bin
            unclaimed[rows] = False
            born = unclaimed.nonzero()[0]
            if len(born):
                cols = np.concatenate((cols, self._add_tracks(xyxy[born], class_id[born])))
                rows = np.concatenate((rows, born))
                state = self._state[: self._count]
                self._last_birth = self._frame
                matched = None

        # Confirmation: ids are handed out in order, from 1, per tracker instance. A
        # tentative track is at most min_hits - 1 frames old, so most frames skip this.
        if self._frame - self._last_birth < cfg.min_hits:
            ready = (state[:, _ID] == 0.0) & (state[:, _HITS] >= cfg.min_hits)
            n_ready = int(np.count_nonzero(ready))
            if n_ready:
                state[ready, _ID] = np.arange(self._next_id, self._next_id + n_ready)
                state[ready, _LIMIT] = self._max_age
                self._next_id += n_ready
                matched = None

        if matched is None:
            matched = state[cols]
        self._last_boxes = matched[:, _BOX] if cfg.smooth_boxes else matched[:, _OBS]

        # Tentative tracks die at their first miss; confirmed ones after max_age misses.
        # Only a track that missed this frame can die (matching is one-to-one).
        if n_old_matched < count:
            dead = state[:, _MISS] > state[:, _LIMIT]
            if np.count_nonzero(dead):
                alive = state[~dead]
                self._count = len(alive)
                self._state[: self._count] = alive
        return rows, matched

    def _associate(
        self,
        state: np.ndarray,
        xyxy: np.ndarray,
        area: np.ndarray,
        score_bins: np.ndarray,
        class_id: np.ndarray,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Assign detections (rows) to live tracks (cols)."""
        cfg = self.config
        overlap = _overlap(xyxy, area, state[:, _BOX])
        same_class = class_id[:, None] == state[:, _CLS]
        confident = score_bins >= self._high_bin
        if np.count_nonzero(confident) == len(confident):
            allowed = overlap >= cfg.iou_threshold
        else:
            allowed = overlap >= np.where(confident, cfg.iou_threshold, cfg.low_iou_threshold)[:, None]
        allowed &= same_class
        # Confident matches weigh one more than any weak one (ByteTrack's priority).
        rows, cols = assign(allowed, overlap, confident)
        if len(rows) == len(score_bins):
            return rows, cols

        free_det = confident  # not read again: updated in place
        free_det[rows] = False
        buffer = cfg.iou_buffer
        if buffer > 0.0 and len(cols) < len(state) and np.count_nonzero(free_det):
            # Buffered IoU (C-BIoU) for confident detections left over: both boxes grow by
            # `buffer` of their size on every side, so a fast mover whose box no longer
            # overlaps its prediction enough still meets it.
            free = np.ones(len(state), dtype=bool)
            free[cols] = False
            d = free_det.nonzero()[0]
            t = free.nonzero()[0]
            grown = _grow(xyxy[d], buffer)
            overlap = _overlap(grown, area[d] * (1.0 + 2.0 * buffer) ** 2, _grow(state[t, _BOX], buffer))
            allowed = (overlap >= cfg.iou_threshold) & same_class[d[:, None], t[None, :]]
            extra_rows, extra_cols = assign(allowed, overlap)
            if len(extra_rows):
                rows = np.concatenate((rows, d[extra_rows]))
                cols = np.concatenate((cols, t[extra_cols]))
                free_det[d[extra_rows]] = False

        # Tracks seen once were born last frame (a tentative track dies at its first miss).
        born_last_frame = self._last_birth == self._frame - 1
        if born_last_frame and cfg.new_track_gate > 0.0 and len(cols) < len(state) and np.count_nonzero(free_det):
            # A track seen once has no velocity yet: a fast mover's second box may not
            # overlap its first at all. Match leftovers to such tracks by centre distance in
            # box sizes (similar sizes only), nearest first.
            young = state[:, _HITS] == 1.0
            young[cols] = False
            if np.count_nonzero(young):
                d = free_det.nonzero()[0]
                t = young.nonzero()[0]
                closeness, allowed = _centre_gate(xyxy[d], state[t, _BOX], cfg.new_track_gate)
                allowed &= same_class[d[:, None], t[None, :]]
                extra_rows, extra_cols = assign(allowed, closeness)
                if len(extra_rows):
                    rows = np.concatenate((rows, d[extra_rows]))
                    cols = np.concatenate((cols, t[extra_cols]))
                    free_det[d[extra_rows]] = False

        # Observation-centric recovery for confident detections left over, against
        # tracks that had already missed the previous frame (all confirmed: a tentative
        # track dies at its first miss).
        free_trk = state[:, _MISS] > 1.0
        if not np.count_nonzero(free_trk):
            return rows, cols
        free_trk[cols] = False
        if np.count_nonzero(free_det) and np.count_nonzero(free_trk):
            d = free_det.nonzero()[0]
            t = free_trk.nonzero()[0]
            overlap = _overlap(xyxy[d], area[d], state[t, _OBS])
            allowed = (overlap >= cfg.iou_threshold) & same_class[d[:, None], t[None, :]]
            extra_rows, extra_cols = assign(allowed, overlap)
            if len(extra_rows):
                rows = np.concatenate((rows, d[extra_rows]))
                cols = np.concatenate((cols, t[extra_cols]))
        return rows, cols

    def _correct(self, state: np.ndarray, cols: np.ndarray, observed: np.ndarray) -> np.ndarray:
        """Alpha-beta update of the matched tracks with their detections.

        A track seen for the second time takes the measured velocity as is; a track
        re-found after missed frames restarts from the observation (its prediction has
        drifted) and re-estimates its velocity across the gap from real observations.
        Returns the updated rows (``state[cols]``).
        """
        matched = state[cols]
        box = matched[:, _BOX]  # the prediction, corrected in place
        span = matched[:, _MISS]  # frames since the previous match
        hits = matched[:, _HITS]
        residual = observed - box
        # Young tracks average their first velocity measurements (gain 1/n, like a Kalman
        # filter whose uncertainty is still shrinking), then settle at velocity_gain.
        gain = np.maximum(self._velocity_gain, 1.0 / hits)
        gain /= span
        matched[:, _VEL] += gain[:, None] * residual
        box += self._position_gain * residual
        # Restart: second sighting (hits 1, any span) or re-found after a gap (span > 1).
        restart = np.minimum(hits, 2.0) <= span
        if np.count_nonzero(restart):
            first = hits == 1.0
            matched[first, _VEL] = (observed[first] - matched[first, _OBS]) / span[first, None]
            box[restart] = observed[restart]
        matched[:, _OBS] = observed
        span[:] = 0.0
        hits += 1.0
        state[cols] = matched
        return matched

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


def _arrays(detections: "sv.Detections") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xyxy (N,4), confidence (N,), class_id (N,))`` as float64, as the tracker reads them."""
    count = len(detections)
    xyxy = np.asarray(detections.xyxy, dtype=np.float64).reshape(-1, 4)
    confidence = np.ones(count) if detections.confidence is None else np.asarray(detections.confidence, np.float64)
    class_id = np.zeros(count) if detections.class_id is None else np.asarray(detections.class_id, np.float64)
    return xyxy, confidence, class_id


def _subset(
    detections: "sv.Detections",
    det_index: np.ndarray,
    track_ids: np.ndarray,
    boxes: np.ndarray,
    keys: np.ndarray | None = None,
) -> "sv.Detections":
    """The matched rows of ``detections`` in input order, with ids, boxes and ``det_index``
    (and ``track_key`` when ``keys`` is given). The input is not modified."""
    order = np.argsort(det_index, kind="stable")
    index = det_index[order].astype(int)
    boxes = boxes[order].astype(np.asarray(detections.xyxy).dtype, copy=False).reshape(-1, 4)
    track_ids = track_ids[order].astype(int)
    extra = {"det_index": index}
    if keys is not None:
        extra["track_key"] = keys[order].astype(np.int64)
    data = detections.data
    if detections.mask is None and all(isinstance(v, np.ndarray) and v.ndim for v in data.values()):
        # Building the subset directly is several times cheaper than
        # ``detections[index]``, which would cost more than tracking the frame.
        return type(detections)(
            xyxy=boxes,
            confidence=None if detections.confidence is None else detections.confidence[index],
            class_id=None if detections.class_id is None else detections.class_id[index],
            tracker_id=track_ids,
            data={**{key: value[index] for key, value in data.items()}, **extra},
            metadata=detections.metadata,
        )
    out = detections[index]
    out.xyxy = boxes
    out.tracker_id = track_ids
    out.data = dict(out.data)
    out.data.update(extra)
    return out


def _centre_gate(boxes: np.ndarray, tracks: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """Closeness (1 at the same centre, 0 at the gate) and the allowed pairs of detections (N,4)
    and track boxes (M,4): centres at most ``gate`` track sizes (sqrt of the area) apart and
    widths and heights within a factor 1.5 of each other."""
    centre = (boxes[:, 0:2] + boxes[:, 2:4]) * 0.5
    track_centre = (tracks[:, 0:2] + tracks[:, 2:4]) * 0.5
    wh = boxes[:, 2:4] - boxes[:, 0:2]
    track_wh = tracks[:, 2:4] - tracks[:, 0:2]
    size = np.sqrt(track_wh[:, 0] * track_wh[:, 1])
    offset = centre[:, None, :] - track_centre[None, :, :]
    distance = np.hypot(offset[..., 0], offset[..., 1]) / (gate * size)
    ratio = wh[:, None, :] / track_wh[None, :, :]
    similar = ((ratio > 1 / 1.5) & (ratio < 1.5)).all(axis=2)
    return 1.0 - distance, similar & (distance <= 1.0)


def _grow(boxes: np.ndarray, share: float) -> np.ndarray:
    """``xyxy`` boxes (N,4) widened by ``share`` of their width and height on every side."""
    margin = (boxes[:, 2:4] - boxes[:, 0:2]) * share
    return np.concatenate((boxes[:, 0:2] - margin, boxes[:, 2:4] + margin), axis=1)


def _overlap(boxes: np.ndarray, areas: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """IoU of detections (N,4) with known positive ``areas`` against predicted boxes (M,4).

    The tracker's hot path: like :func:`iou_matrix`, but detection areas are reused and,
    since every detection has a positive area, the union is never zero. The corners are
    taken with one maximum and one minimum over all four coordinates of every pair
    ((N,M,4), the unused halves are cheap), fewer numpy calls than slicing them apart.
    """
    pairs = boxes[:, None, :]
    low = np.maximum(pairs, predicted)
    high = np.minimum(pairs, predicted)
    width = np.subtract(high[..., 2], low[..., 0])
    height = np.subtract(high[..., 3], low[..., 1])
    np.maximum(width, 0.0, out=width)
    np.maximum(height, 0.0, out=height)
    inter = np.multiply(width, height, out=width)
    size = predicted[:, 2:4] - predicted[:, 0:2]
    np.maximum(size, 0.0, out=size)
    union = areas[:, None] + (size[:, 0] * size[:, 1])
    union -= inter
    return np.divide(inter, union, out=inter)
