"""The online IoU tracker.

Each frame, every live track predicts its box with a constant-velocity model, detections
are assigned to tracks by maximum-weight (Hungarian) matching on IoU, and the
association result is carried by detection index, so the caller knows exactly which
input row got which id. No appearance, no OpenCV: numpy and scipy only.

Association, per frame:

0. Scores are read as ranks among the scores this tracker has seen (a running
   histogram, :mod:`vidtrack.tracking.scores`), so the same settings suit any
   detector's score scale. Two boxes of one confusable-class group on one object (a car
   and a truck box at IoU >= :data:`DUPLICATE_IOU`) are one object: the weaker is left out.
1. Confident detections (``high_score_rank``) and weak ones compete in one assignment;
   a confident match always outweighs a weak one, and weak detections need the stricter
   ``low_iou_threshold`` (ByteTrack's two stages, folded into one solve).
2. Confident detections still unmatched are compared again with widened boxes (both
   boxes grow by ``iou_buffer`` of their size on every side: C-BIoU), so a fast mover, or
   any object at a low frame rate, still meets its prediction; then by centre distance in
   box sizes: tracks seen only once (no velocity yet) within ``new_track_gate`` of their box
   (weak leftovers too), tracks with a velocity within half of it from their prediction
   (a fast, decelerating object overlaps a constant-velocity prediction too little).
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
1) after ``min_hits`` consecutive matches (one fewer, but at least two, when every one of
its detections ranked at least ``new_track_score_rank``) and dies at its first miss before
that. A confirmed track coasts unseen for up to ``max_age`` seconds. In hindsight
(:meth:`IoUTracker.step`, for the look-ahead of recorded video), a track at its second match
adopts the confident box one velocity step before its first one, left over in that frame:
an object whose first box ranked too low to start a track (:mod:`vidtrack.tracking.hindsight`). Only detections
matched to confirmed tracks are reported, with the track's filtered box (``smooth_boxes``)
unless it overlaps the detection below :data:`LAG_IOU`: then with the detection's box.

Speed: on arrays of a handful of rows, call overhead, not arithmetic, is the budget (a
numpy call costs 1-2 us; the numpy step makes about ninety). A frame of at most
:data:`SMALL_PAIRS` detection-track pairs therefore runs the same step in plain Python on
lists (``_advance_small`` and the ``_small`` methods), with the same floating-point
operations in the same order, so both paths give the same results to the last bit
(``tests/tracking/test_small_path.py``; ``benchmarks/tracker_outputs_hash.py`` fingerprints every
output, to check a speed change changed nothing). On lists, only pairs whose x-ranges overlap
get an IoU, and the outputs are built once, only the columns a caller asks for. Bigger frames
run the numpy step: one state matrix, in-place updates, work skipped when it provably has no effect (confirmation,
deaths, recovery), and the cheapest spelling of small checks (``np.count_nonzero`` and
``ndarray.nonzero`` rather than ``.any()``, ``.all()`` and ``np.nonzero``). A change to
the rules goes into both.
"""

from __future__ import annotations

import dataclasses
from bisect import bisect_right as _bisect
from math import sqrt
from typing import TYPE_CHECKING

import numpy as np

from vidtrack.errors import OptionError
from vidtrack.tracking.assignment import assign, assign_listed
from vidtrack.tracking.classes import AssociationClasses
from vidtrack.tracking.config import TrackerConfig
from vidtrack.tracking.hindsight import BirthHindsight
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
_STRONG = 18  # matches whose score ranked at least new_track_score_rank (fast confirmation)
_COLUMNS = 19

#: The rate assumed when the caller does not say (the most common video rate).
DEFAULT_FRAME_RATE = 30.0

#: Frames with at most this many detection-track pairs take the plain-Python path
#: (:meth:`IoUTracker._advance_small`): same results, a fraction of the numpy calls.
SMALL_PAIRS = 256
_EDGES = _INNER_EDGES.tolist()

#: Two boxes of one confusable-class group (:mod:`vidtrack.tracking.classes`, e.g. a ``car``
#: and a ``truck``) overlapping at least this much in one frame are one object: the detector's
#: per-class NMS kept both. The weaker is left out of tracking (on
#: ``overpass_traffic_vp8.webm`` such pairs overlap at IoU 0.94-0.98; two real vehicles side by
#: side stay far below 0.8).
DUPLICATE_IOU = 0.8

#: With ``smooth_boxes``, a matched track whose filtered box overlaps its detection less than
#: this (IoU) reports the detection's own box for that frame: the filter lags a fast or
#: decelerating object (``benchmarks/coverage.py``: such a box no longer counts as that object).
LAG_IOU = 0.6

_NO_INDEX = np.empty(0, dtype=np.intp)
_NO_KEYS = np.empty(0, dtype=np.int64)
_NO_BOXES = np.empty((0, 4), dtype=np.float64)


class IoUTracker:
    """Online multi-object tracker matching boxes by IoU; ids belong to the instance."""

    def __init__(
        self, config: TrackerConfig | None = None, frame_rate: float | None = None, hindsight: bool = True
    ) -> None:
        """``frame_rate``: frames per second of the video the detections come from (of the
        detected frames, when the detector skips some); the settings given in seconds are
        converted with it. None: 30 (:data:`DEFAULT_FRAME_RATE`). ``hindsight``: whether
        :meth:`step`/:meth:`update_all` add the rows of :mod:`vidtrack.tracking.hindsight`
        (False: matches only; for frames that are not consecutive detections, e.g. a detection
        schedule's interpolated ones, where one velocity step back is not one frame back)."""
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
        self._hindsight = BirthHindsight(cfg.iou_threshold, cfg.low_iou_threshold) if hindsight else None
        self.reset()

    def reset(self) -> None:
        """Forget every track and every score seen; the next confirmed track gets id 1 again."""
        self._state = np.zeros((64, _COLUMNS), dtype=np.float64)
        self._rows: list[list[float]] | None = None  # the state as lists after a small frame
        self._count = 0
        self._next_key = 1
        self._next_id = 1
        self._frame = 0
        self._last_birth = -(10**9)  # frame of the latest birth: tentative tracks are younger
        self._last_boxes = _NO_BOXES
        self._ranks.reset()
        if self._hindsight is not None:
            self._hindsight.reset()
        self._took = None
        self._last_adopted = _NO_KEYS
        self._ranks_version = -1
        self._min_bin = self._high_bin = self._new_bin = 0

    def end_tracks(self) -> None:
        """End every live track now, as if ``max_age`` frames had passed without detections.

        For gaps in the picture (a reconnect, a size change): old boxes are in another
        picture's coordinates. Ids keep counting (no id is reused) and the score ranking
        is kept (same detector).
        """
        self._count = 0
        self._rows = None
        self._last_birth = -(10**9)
        self._last_boxes = _NO_BOXES
        if self._hindsight is not None:
            self._hindsight.reset()

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
        self._sync_state()
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
        if self._rows is not None:
            return any(r[_ID] == 0.0 for r in self._rows)
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
        its id once it is confirmed. Confident detections no track took are rows too (id 0,
        a key of their own, their own box) and ``data["adopted_key"]`` holds, per row, the
        key of the row two frames back its track adopted (:attr:`last_adopted`), so the
        look-ahead can report a track from the frame before its first match
        (:mod:`vidtrack.tracking.hindsight`).
        """
        xyxy, confidence, class_id = self._arrays(detections)
        det_index, keys, track_ids = self.step(xyxy, confidence, class_id)
        return _subset(detections, det_index, track_ids, self._last_boxes, keys, self._last_adopted)

    def update_interpolated(self, detections: "sv.Detections") -> "sv.Detections":
        """:meth:`update_all` for boxes interpolated between two detected frames, not detected.

        Strided detection on files (:func:`vidtrack.tracking.stride.bridge`) feeds the tracker
        every frame so ages, confirmation and velocities stay in frames; the interpolated rows
        carry copies of a detected frame's scores, so they are not added to the score
        distribution the rank settings are read on (it stays the detector's own: adding them
        moved the thresholds and ended tracks a full-rate run keeps).
        """
        ranks = self._ranks
        ranks.paused = True
        try:
            return self.update_all(detections)
        finally:
            ranks.paused = False

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
        track_ids = _int_column(matched, _ID)
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
        After the matches come the confident detections (``high_score_rank``) no track took,
        each with a fresh key and id 0; :attr:`last_adopted` says which earlier row each
        row's track adopted (:mod:`vidtrack.tracking.hindsight`; the state of the tracks is
        not changed by it, and ``update``/``update_arrays`` skip it).
        """
        det_index, matched = self._advance(xyxy, confidence, class_id)
        keys, ids = _int_column(matched, _KEY), _int_column(matched, _ID)
        if self._hindsight is None:
            self._last_adopted = np.zeros(len(keys), dtype=np.int64)
            return det_index, keys, ids
        return self._look_back(det_index, matched, keys, ids)

    def _look_back(
        self, det_index: np.ndarray, matched: np.ndarray | list[list[float]], keys: np.ndarray, ids: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The hindsight part of :meth:`step` (:mod:`vidtrack.tracking.hindsight`), after
        either path: sets :attr:`last_adopted` and appends the frame's confident boxes that
        no track took to the outputs, as rows of their own (a fresh key each, id 0, their
        own box), so that a later track can adopt them while the look-ahead holds them.
        Plain Python on the few rows concerned (most frames: a handful of list operations)."""
        hindsight = self._hindsight
        n = len(keys)
        high = self._high_bin
        keys_list = keys.tolist()
        free: list = []
        index: list[int] = []
        took = self._took
        if took is not None:
            keep, bins, boxes, classes = took
            if len(bins) > n:  # some detections are in no track
                taken = set((det_index if keep is None else np.searchsorted(keep, det_index)).tolist())
                bins_list = bins if isinstance(bins, list) else bins.tolist()
                left = [k for k, b in enumerate(bins_list) if b >= high and k not in taken]
                if left:
                    picked = [boxes[k] for k in left] if isinstance(boxes, list) else boxes[left].tolist()
                    start = self._next_key
                    self._next_key += len(left)
                    free = [(start + j, box, float(classes[k]), True) for j, (k, box) in enumerate(zip(left, picked))]
                    index = left if keep is None else [int(keep[k]) for k in left]
        births: list = []
        second: list = []
        wants_second = hindsight.wants_second
        if n and (self._last_birth == self._frame or wants_second):
            rows = matched if isinstance(matched, list) else matched.tolist()
            born_confident = None
            for pos, r in enumerate(rows):
                if r[_HITS] == 1.0 and r[_ID] == 0.0:
                    if born_confident is None:
                        keep, bins = took[0], took[1]
                        where = det_index if keep is None else np.searchsorted(keep, det_index)
                        born_confident = (np.asarray(bins)[where] >= high).tolist()
                    births.append((int(r[_KEY]), r[8:12], r[_CLS], born_confident[pos]))
                elif r[_HITS] == 2.0 and wants_second:
                    second.append((pos, int(r[_KEY]), r[8:12], r[_CLS]))
        adopted = np.zeros(n + len(free), dtype=np.int64)
        for row, key in hindsight.frame(keys_list, births, second, free):
            adopted[row] = key
        if free:
            det_index = np.concatenate((det_index, np.array(index, dtype=det_index.dtype)))
            keys = np.concatenate((keys, np.array([c[0] for c in free], dtype=np.int64)))
            ids = np.concatenate((ids, np.zeros(len(free), dtype=np.int64)))
            boxes_free = np.array([c[1] for c in free], dtype=np.float64)
            self._last_boxes = np.concatenate((self._last_boxes.reshape(-1, 4), boxes_free))
        self._last_adopted = adopted
        return det_index, keys, ids

    def _advance(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray | list[list[float]]]:
        """One frame: ``(det_index, state rows of the matched tracks)``, the rows as a matrix
        (numpy path) or as lists (small frames); sets :attr:`last_boxes`."""
        self._frame += 1
        n = len(confidence)
        if n == 0:
            self._took = None
            return self._step(_NO_BOXES, _NO_BOXES[:, 0], _NO_INDEX, _NO_BOXES[:, 0])
        if n * max(self._count, 1) <= SMALL_PAIRS:
            return self._advance_small(xyxy, confidence, class_id)
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
        if len(class_id) > 1 and class_id.min() < 0.0:  # confusable groups present
            drop = duplicates(xyxy.tolist(), confidence.tolist(), class_id.tolist())
            if drop:
                index = np.delete(np.arange(len(class_id)), drop)
                keep = index if keep is None else keep[index]
                xyxy, area, score_bins, class_id = xyxy[index], area[index], score_bins[index], class_id[index]
        if self._min_bin > 0:
            strong = score_bins >= self._min_bin
            if np.count_nonzero(strong) < len(strong):
                index = strong.nonzero()[0]
                keep = index if keep is None else keep[index]
                xyxy, area, score_bins, class_id = xyxy[index], area[index], score_bins[index], class_id[index]
        self._took = (keep, score_bins, xyxy, class_id)
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

    @property
    def last_adopted(self) -> np.ndarray:
        """(M,) int64, per row of the last :meth:`step`: the key of the row two frames back
        that the row's track adopted (:mod:`vidtrack.tracking.hindsight`), else 0. Hand it
        to :meth:`LookAhead.push <vidtrack.tracking.lookahead.LookAhead.push>`."""
        return self._last_adopted

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
        self._sync_state()
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
        # tentative track is at most min_hits - 1 frames old, so most frames skip this. A
        # track all of whose detections ranked as high as a new track's must is confirmed
        # one match earlier (never before its second): ByteTrack's activation on the second
        # match, kept for sure detections only.
        if self._frame - self._last_birth < cfg.min_hits:
            hits = state[:, _HITS]
            ready = hits >= cfg.min_hits
            if cfg.min_hits > 2:
                if n_old_matched:
                    old_rows, old_cols = rows[:n_old_matched], cols[:n_old_matched]
                    state[old_cols[score_bins[old_rows] >= self._new_bin], _STRONG] += 1.0
                ready |= (hits >= cfg.min_hits - 1) & (state[:, _STRONG] >= hits)
            ready &= state[:, _ID] == 0.0
            n_ready = int(np.count_nonzero(ready))
            if n_ready:
                state[ready, _ID] = np.arange(self._next_id, self._next_id + n_ready)
                state[ready, _LIMIT] = self._max_age
                self._next_id += n_ready
                matched = None

        if matched is None:
            matched = state[cols]
        if cfg.smooth_boxes:
            self._last_boxes = matched[:, _BOX]
            lag = _lagging(matched[:, _BOX], matched[:, _OBS])
            if np.count_nonzero(lag):
                self._last_boxes = np.where(lag[:, None], matched[:, _OBS], matched[:, _BOX])
        else:
            self._last_boxes = matched[:, _OBS]

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
            rows, cols = _add_matches(rows, cols, d, t, allowed, overlap, free_det)

        # Tracks seen once were born last frame (a tentative track dies at its first miss).
        born_last_frame = self._last_birth == self._frame - 1
        gate = cfg.new_track_gate
        if born_last_frame and gate > 0.0 and len(cols) < len(state):
            # A track seen once has no velocity yet: a fast mover's second box may not
            # overlap its first at all. Match leftovers to such tracks by centre distance in
            # box sizes (similar sizes only), nearest first; weak leftovers too (a sure first
            # box followed by a weaker one, e.g. a car and a truck box on one vehicle).
            young = state[:, _HITS] == 1.0
            young[cols] = False
            if np.count_nonzero(young):
                leftover = np.ones(len(score_bins), dtype=bool)
                leftover[rows] = False
                if np.count_nonzero(leftover):
                    d = leftover.nonzero()[0]
                    t = young.nonzero()[0]
                    closeness, allowed = _centre_gate(xyxy[d], state[t, _BOX], gate)
                    allowed &= same_class[d[:, None], t[None, :]]
                    rows, cols = _add_matches(rows, cols, d, t, allowed, closeness, free_det)

        if gate > 0.0 and len(cols) < len(state) and np.count_nonzero(free_det):
            # Tracks with a velocity: a confident leftover within half the gate of the
            # prediction (a fast or decelerating object whose boxes overlap too little).
            older = state[:, _HITS] > 1.0
            older[cols] = False
            if np.count_nonzero(older):
                d = free_det.nonzero()[0]
                t = older.nonzero()[0]
                closeness, allowed = _centre_gate(xyxy[d], state[t, _BOX], 0.5 * gate)
                allowed &= same_class[d[:, None], t[None, :]]
                rows, cols = _add_matches(rows, cols, d, t, allowed, closeness, free_det)

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
            rows, cols = _add_matches(rows, cols, d, t, allowed, overlap, free_det)
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

    def _sync_state(self) -> None:
        """Bring the state matrix up to date after frames of the plain-Python path."""
        rows = self._rows
        if rows is None:
            return
        self._rows = None
        if len(rows) > len(self._state):
            self._state = np.zeros((2 * len(rows), _COLUMNS), dtype=np.float64)
        if rows:
            self._state[: len(rows)] = rows

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
        new[:, _STRONG] = 1.0
        new[:, _CLS] = classes
        new[:, _KEY] = np.arange(self._next_key, self._next_key + n_new)
        self._next_key += n_new
        self._count = start + n_new
        return np.arange(start, start + n_new)

    def _advance_small(
        self, xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray
    ) -> tuple[np.ndarray, list[list[float]]]:
        """:meth:`_advance` for a frame of a few boxes and tracks, in plain Python.

        Same rules, same floating-point operations in the same order (so the same results
        to the last bit, tested against the numpy path): below a few hundred detection-track
        pairs, a numpy call's fixed cost (1-2 us) outweighs its arithmetic, and this path
        makes a handful instead of about ninety. Ambiguous assignments still go to the
        Hungarian solver (with the same weight matrix), and the centre gate's ``hypot`` to
        numpy. The outputs are built from lists at the end, one array each.
        """
        cfg = self.config
        boxes: list[list[float]] = xyxy.tolist()
        scores: list[float] = confidence.tolist()
        classes: list[float] = class_id.tolist()
        areas = [(x2 - x1) * (y2 - y1) for x1, y1, x2, y2 in boxes]
        # Degenerate or NaN boxes and NaN scores take no part (see _advance); `keep` maps the
        # detections left to their input rows (None while that is every row, as usual).
        keep: list[int] | None = None
        usable = [area > 0.0 and box[2] - box[0] > 0.0 and c == c for area, box, c in zip(areas, boxes, scores)]
        if not all(usable):
            keep = [i for i, ok in enumerate(usable) if ok]
            boxes, areas, scores, classes = _pick(keep, boxes, areas, scores, classes)
        bins = [_bisect(_EDGES, c) for c in scores]
        ranks = self._ranks
        ranks.observe_bins(bins)
        if ranks.version != self._ranks_version:
            self._ranks_version = ranks.version
            self._min_bin, self._high_bin, self._new_bin = ranks.bin_thresholds(self._wanted_ranks).tolist()
        if len(classes) > 1 and min(classes) < 0.0:  # confusable groups present
            drop = duplicates(boxes, scores, classes)
            if drop:
                kept = [k for k in range(len(boxes)) if k not in drop]
                keep = kept if keep is None else [keep[k] for k in kept]
                boxes, areas, bins, classes = _pick(kept, boxes, areas, bins, classes)
        min_bin = self._min_bin
        if min_bin > 0 and min(bins, default=min_bin) < min_bin:
            strong = [k for k, b in enumerate(bins) if b >= min_bin]
            keep = strong if keep is None else [keep[k] for k in strong]
            boxes, areas, bins, classes = _pick(strong, boxes, areas, bins, classes)
        self._took = (keep, bins, boxes, classes)
        n_det = len(bins)
        count = self._count
        if self._rows is not None:
            state = self._rows
        else:
            state = self._state[:count].tolist() if count else []
        rows: list[int] = []
        cols: list[int] = []
        reported: list[float] = []  # the reported box of each match, flat, in match order
        doomed = False
        if count:
            for r in state:  # constant-velocity prediction
                r[0], r[1], r[2], r[3], r[12] = r[0] + r[4], r[1] + r[5], r[2] + r[6], r[3] + r[7], r[12] + 1.0
                if r[12] > r[17]:
                    doomed = True  # dies unless matched in this frame
            if n_det:
                rows, cols = self._associate_small(state, boxes, areas, bins, classes)
                if rows:
                    reported = self._correct_small(state, rows, cols, boxes, areas)
        n_old_matched = len(rows)

        if len(rows) < n_det:
            claimed = set(rows)
            new_bin = self._new_bin
            born = [i for i in range(n_det) if bins[i] >= new_bin and i not in claimed]
            if born:
                start = len(state)
                for k, i in enumerate(born):
                    x1, y1, x2, y2 = box = boxes[i]
                    state.append([x1, y1, x2, y2, 0.0, 0.0, 0.0, 0.0, x1, y1, x2, y2,
                                  0.0, 1.0, classes[i], float(self._next_key + k), 0.0, 0.0, 1.0])
                    reported += box  # filtered box = observation: reported as is
                self._next_key += len(born)
                cols = cols + list(range(start, start + len(born)))
                rows = rows + born
                self._last_birth = self._frame

        if self._frame - self._last_birth < cfg.min_hits:
            hits = cfg.min_hits
            fast = hits
            if hits > 2:
                fast = hits - 1
                new_bin = self._new_bin
                for i, j in zip(rows[:n_old_matched], cols[:n_old_matched]):
                    if bins[i] >= new_bin:
                        state[j][18] += 1.0
            for r in state:
                if r[16] == 0.0 and (r[13] >= hits or (r[13] >= fast and r[18] >= r[13])):
                    r[16] = float(self._next_id)
                    r[17] = float(self._max_age)
                    self._next_id += 1

        # The outputs, read before dead tracks are dropped (cols index this frame's state).
        matched = [state[j] for j in cols]
        # (one flat list, then reshaped: cheaper than converting nested lists; an empty
        # frame gets a fresh array too, as every frame returns)
        self._last_boxes = np.array(reported).reshape(-1, 4) if reported else np.empty((0, 4))
        det_index = np.array(rows if keep is None else [keep[i] for i in rows], dtype=np.intp)

        if doomed and n_old_matched < count:
            state = [r for r in state if not r[12] > r[17]]
        self._rows = state  # the matrix is brought up to date when something reads it
        self._count = len(state)
        return det_index, matched

    def _associate_small(
        self, state: list, boxes: list, areas: list, bins: list, classes: list
    ) -> tuple[list[int], list[int]]:
        """:meth:`_associate` on lists (see :meth:`_advance_small`). The state rows stand in
        for the predicted boxes (their first four entries) without being copied."""
        cfg = self.config
        n_det, n_trk = len(bins), len(state)
        high = self._high_bin
        confident = [b >= high for b in bins]
        strict, weak = cfg.iou_threshold, cfg.low_iou_threshold
        track_cls = [r[14] for r in state]
        thresholds = [strict if c else weak for c in confident]
        rows, cols = _match_small(boxes, areas, state, thresholds, classes, track_cls, confident)
        if len(rows) == n_det:
            return rows, cols

        # Leftovers, kept up to date pass by pass: confident detections `d` (marked in
        # free_det) and tracks `t`, both in ascending order.
        free_det = confident[:]
        for i in rows:
            free_det[i] = False
        d = [i for i in range(n_det) if free_det[i]]
        taken = set(cols)
        t = [j for j in range(n_trk) if j not in taken]
        buffer = cfg.iou_buffer
        if buffer > 0.0 and t and d:
            factor = (1.0 + 2.0 * buffer) ** 2
            extra_rows, extra_cols = _match_small(
                [_grow_small(boxes[i], buffer) for i in d], [areas[i] * factor for i in d],
                [_grow_small(state[j], buffer) for j in t], [strict] * len(d),
                [classes[i] for i in d], [track_cls[j] for j in t],
            )
            if extra_rows:
                rows = rows + [d[a] for a in extra_rows]
                cols = cols + [t[b] for b in extra_cols]
                for a in extra_rows:
                    free_det[d[a]] = False
                d, t = _still_free(d, t, free_det, cols)

        born_last_frame = self._last_birth == self._frame - 1
        gate = cfg.new_track_gate
        if born_last_frame and gate > 0.0 and t:
            young = [j for j in t if state[j][13] == 1.0]
            if young:
                done = set(rows)
                left = [i for i in range(n_det) if i not in done]  # confident and weak leftovers
                if left:
                    n_matched = len(rows)
                    rows, cols = _gate_small(rows, cols, left, young, boxes, state, classes, track_cls, gate, free_det)
                    if len(rows) > n_matched:
                        d, t = _still_free(d, t, free_det, cols)

        if gate > 0.0 and t and d:
            older = [j for j in t if state[j][13] > 1.0]
            if older:
                n_matched = len(rows)
                rows, cols = _gate_small(rows, cols, d, older, boxes, state, classes, track_cls, 0.5 * gate, free_det)
                if len(rows) > n_matched:
                    d, t = _still_free(d, t, free_det, cols)

        if not d:
            return rows, cols
        t = [j for j in t if state[j][12] > 1.0]
        if t:
            extra_rows, extra_cols = _match_small(
                [boxes[i] for i in d], [areas[i] for i in d], [state[j][8:12] for j in t], [strict] * len(d),
                [classes[i] for i in d], [track_cls[j] for j in t],
            )
            if extra_rows:
                rows = rows + [d[a] for a in extra_rows]
                cols = cols + [t[b] for b in extra_cols]
        return rows, cols

    def _correct_small(self, state: list, rows: list[int], cols: list[int], boxes: list, areas: list) -> list[float]:
        """:meth:`_correct` on lists (see :meth:`_advance_small`), written out per coordinate.
        Values that a restart overwrites are not computed (the numpy path computes and then
        overwrites them; the values kept are the same).

        Returns the boxes the matches report, flat, in match order: the observation when
        the box restarts from it (filtered box and observation are then the same numbers, so
        the lag test cannot change the output) or without ``smooth_boxes``; else the filtered
        box, or the observation when the filter lags it (:func:`_lagging`'s operations,
        the observation's area being ``areas[i]``, computed the same way)."""
        velocity_gain, position_gain = self._velocity_gain, self._position_gain
        smooth = self.config.smooth_boxes
        reported: list[float] = []
        for i, j in zip(rows, cols):
            r = state[j]
            observed = boxes[i]
            x1, y1, x2, y2 = observed
            span, hits = r[12], r[13]
            if (hits if hits < 2.0 else 2.0) <= span:
                # Restart: second sighting (hits 1) or re-found after a gap: the box restarts
                # from the observation; a second sighting takes the measured velocity as is.
                if hits == 1.0:
                    r[4] = (x1 - r[8]) / span
                    r[5] = (y1 - r[9]) / span
                    r[6] = (x2 - r[10]) / span
                    r[7] = (y2 - r[11]) / span
                else:
                    gain = 1.0 / hits
                    if not gain >= velocity_gain:  # np.maximum(velocity_gain, 1 / hits)
                        gain = velocity_gain
                    gain /= span
                    r[4] += gain * (x1 - r[0])
                    r[5] += gain * (y1 - r[1])
                    r[6] += gain * (x2 - r[2])
                    r[7] += gain * (y2 - r[3])
                r[0:4] = observed
                r[8:12] = observed
                r[12] = 0.0
                r[13] = hits + 1.0
                reported += observed
                continue
            gain = 1.0 / hits
            if not gain >= velocity_gain:
                gain = velocity_gain
            gain /= span
            b1, b2, b3, b4, v1, v2, v3, v4 = r[0:8]
            e1, e2, e3, e4 = x1 - b1, y1 - b2, x2 - b3, y2 - b4  # residuals
            b1 += position_gain * e1
            b2 += position_gain * e2
            b3 += position_gain * e3
            b4 += position_gain * e4
            # box, velocity, observation, misses, hits: one slice assignment
            r[0:14] = (b1, b2, b3, b4, v1 + gain * e1, v2 + gain * e2, v3 + gain * e3, v4 + gain * e4,
                       x1, y1, x2, y2, 0.0, hits + 1.0)
            if not smooth:
                reported += observed
            else:  # _lagging() for this one box, written out
                w = (b3 if b3 < x2 else x2) - (b1 if b1 > x1 else x1)
                h = (b4 if b4 < y2 else y2) - (b2 if b2 > y1 else y1)
                inter = (w if w > 0.0 else 0.0) * (h if h > 0.0 else 0.0)
                sw, sh = b3 - b1, b4 - b2
                union = ((sw if sw > 0.0 else 0.0) * (sh if sh > 0.0 else 0.0) + areas[i]) - inter
                reported += (b1, b2, b3, b4) if inter >= LAG_IOU * union else observed
        return reported

def _still_free(d: list[int], t: list[int], free_det: list[bool], cols: list[int]) -> tuple[list[int], list[int]]:
    """The leftover detections ``d`` still marked in ``free_det`` and tracks ``t`` not in ``cols``."""
    taken = set(cols)
    return [i for i in d if free_det[i]], [j for j in t if j not in taken]


def _pick(index: list[int], *columns: list) -> list[list]:
    """The entries at ``index`` of each of ``columns`` (parallel per-detection lists)."""
    return [[column[k] for k in index] for column in columns]


def _int_column(matched: np.ndarray | list[list[float]], column: int) -> np.ndarray:
    """One column (a key or id) of the matched state rows, as int64: the rows are a matrix
    from the numpy path or lists from the small path (only the columns asked for are built)."""
    if isinstance(matched, list):
        return np.array([r[column] for r in matched], dtype=np.int64)  # whole numbers: exact
    return matched[:, column].astype(np.int64)


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
    adopted: np.ndarray | None = None,
) -> "sv.Detections":
    """The matched rows of ``detections`` in input order, with ids, boxes and ``det_index``
    (and ``track_key`` when ``keys`` is given). The input is not modified."""
    positions = det_index.tolist()
    if positions == sorted(positions):
        # The usual case (MOT15: 96% of frames): the matches are already in input order,
        # so the sort and its four gathers are skipped (the copies below are still new arrays).
        index = det_index.astype(int)
        boxes = boxes.astype(np.asarray(detections.xyxy).dtype).reshape(-1, 4)
        track_ids = track_ids.astype(int)
        keys = None if keys is None else keys.astype(np.int64)
        adopted = None if adopted is None else adopted.astype(np.int64)
    else:
        order = np.argsort(det_index, kind="stable")
        index = det_index[order].astype(int)
        boxes = boxes[order].astype(np.asarray(detections.xyxy).dtype, copy=False).reshape(-1, 4)
        track_ids = track_ids[order].astype(int)
        keys = None if keys is None else keys[order].astype(np.int64)
        adopted = None if adopted is None else adopted[order].astype(np.int64)
    data = detections.data
    plain = detections.mask is None  # and every data column an array of rows (a loop: no generator)
    if plain:
        for value in data.values():
            if not (isinstance(value, np.ndarray) and value.ndim):
                plain = False
                break
    if plain:
        # Building the subset directly is several times cheaper than
        # ``detections[index]``, which would cost more than tracking the frame.
        subset = {key: value[index] for key, value in data.items()}
        subset["det_index"] = index
        if keys is not None:
            subset["track_key"] = keys
        if adopted is not None:
            subset["adopted_key"] = adopted
        return _new_detections(
            type(detections),
            xyxy=boxes,
            mask=None,
            confidence=None if detections.confidence is None else detections.confidence[index],
            class_id=None if detections.class_id is None else detections.class_id[index],
            tracker_id=track_ids,
            data=subset,
            metadata=detections.metadata,
        )
    out = detections[index]
    out.xyxy = boxes
    out.tracker_id = track_ids
    out.data = dict(out.data)
    out.data["det_index"] = index
    if keys is not None:
        out.data["track_key"] = keys
    if adopted is not None:
        out.data["adopted_key"] = adopted
    return out


#: Per ``Detections`` class: whether :func:`_new_detections` may skip its validation.
_UNCHECKED_OK: dict[type, bool] = {}


def _new_detections(cls: type, **fields: object) -> "sv.Detections":
    """``cls(**fields)`` without supervision's field validation, which costs about 10 us, as
    much as tracking a small frame. It cannot fail here: every field is a row subset of a
    ``Detections`` validated when it was built, or the tracker's own (N,4) boxes and (N,) ids.
    Only for supervision's own dataclass (these fields exactly, its ``__post_init__`` doing
    nothing but validate); any other class is built through its constructor."""
    unchecked = _UNCHECKED_OK.get(cls)
    if unchecked is None:
        post_init = getattr(cls, "__post_init__", None)
        unchecked = _UNCHECKED_OK[cls] = (
            dataclasses.is_dataclass(cls)
            and [f.name for f in dataclasses.fields(cls)] == list(fields)
            and getattr(post_init, "__module__", "") == "supervision.detection.core"
            and getattr(post_init, "__qualname__", "") == "Detections.__post_init__"
            and "__slots__" not in vars(cls)
        )
    if not unchecked:
        return cls(**fields)
    out = object.__new__(cls)
    vars(out).update(fields)
    return out


def _centre_gate(boxes: np.ndarray, tracks: np.ndarray, gate: float) -> tuple[np.ndarray, np.ndarray]:
    """Closeness (1 at the same centre, 0 at the gate) and the allowed pairs of detections (N,4)
    and track boxes (M,4): centres at most ``gate`` track sizes (sqrt of the area) apart and
    widths and heights within a factor 1.5 of each other."""
    centre = (boxes[:, 0:2] + boxes[:, 2:4]) * 0.5
    track_centre = (tracks[:, 0:2] + tracks[:, 2:4]) * 0.5
    wh = boxes[:, 2:4] - boxes[:, 0:2]
    track_wh = np.maximum(tracks[:, 2:4] - tracks[:, 0:2], 0.0)  # a collapsed prediction never passes
    size = np.sqrt(track_wh[:, 0] * track_wh[:, 1])
    offset = centre[:, None, :] - track_centre[None, :, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        distance = np.hypot(offset[..., 0], offset[..., 1]) / (gate * size)
        ratio = wh[:, None, :] / track_wh[None, :, :]
    similar = ((ratio > 1 / 1.5) & (ratio < 1.5)).all(axis=2)
    return 1.0 - distance, similar & (distance <= 1.0)


def _gate_small(
    rows: list[int], cols: list[int], d: list[int], t: list[int], boxes: list, predicted: list,
    classes: list, track_cls: list, gate: float, free_det: list[bool],
) -> tuple[list[int], list[int]]:
    """A centre-gate pass of :meth:`IoUTracker._associate_small`: detections ``d`` against
    tracks ``t`` (same class, predicted boxes ``predicted[j][0:4]``: state rows will do) by
    :func:`_centre_gate`'s rule and floating-point operations, nearest first; the matches
    are appended to ``rows``/``cols`` and taken out of ``free_det`` (in place).

    Only the pairs :func:`_centre_gate` allows matter (``assign`` weighs the others 0), so
    only they are computed: a collapsed or NaN prediction (width or height not above 0) makes
    every ratio of its column infinite or NaN, never similar; a zero denominator (``gate``
    times a size that underflowed) makes the distance infinite or NaN, never within the gate.
    The distance's ``hypot`` is numpy's, in one call over the candidate pairs (Python's
    ``math.hypot`` is a different algorithm, which could differ in the last bit)."""
    tracks = []
    for b, j in enumerate(t):
        p1, q1, p2, q2 = predicted[j][0:4]
        tw, th = p2 - p1, q2 - q1
        if tw > 0.0 and th > 0.0:
            tracks.append((b, (p1 + p2) * 0.5, (q1 + q2) * 0.5, tw, th, gate * sqrt(tw * th), track_cls[j]))
    if not tracks:
        return rows, cols
    low, high = 1 / 1.5, 1.5
    pairs: list[tuple[int, int, float]] = []  # (position in d, position in t, denominator), row-major
    dx: list[float] = []
    dy: list[float] = []
    for a, i in enumerate(d):
        x1, y1, x2, y2 = boxes[i]
        w, h = x2 - x1, y2 - y1
        cx, cy, cls = (x1 + x2) * 0.5, (y1 + y2) * 0.5, classes[i]
        for b, tcx, tcy, tw, th, denominator, tcls in tracks:
            if tcls == cls and denominator > 0.0:
                rw, rh = w / tw, h / th
                if low < rw < high and low < rh < high:
                    pairs.append((a, b, denominator))
                    dx.append(cx - tcx)
                    dy.append(cy - tcy)
    if not pairs:
        return rows, cols
    pair_rows: list[int] = []
    pair_cols: list[int] = []
    closeness: list[float] = []
    for (a, b, denominator), length in zip(pairs, np.hypot(dx, dy).tolist()):
        distance = length / denominator
        if distance <= 1.0:
            pair_rows.append(a)
            pair_cols.append(b)
            closeness.append(1.0 - distance)
    if not pair_rows:
        return rows, cols
    extra_rows, extra_cols = assign_listed(len(d), len(t), pair_rows, pair_cols, closeness)
    if extra_rows:
        rows = rows + [d[a] for a in extra_rows]
        cols = cols + [t[b] for b in extra_cols]
        for a in extra_rows:
            free_det[d[a]] = False
    return rows, cols


def _add_matches(
    rows: np.ndarray, cols: np.ndarray, d: np.ndarray, t: np.ndarray,
    allowed: np.ndarray, weights: np.ndarray, free_det: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """One more association pass of the numpy path: assign leftover detections ``d`` (K,)
    to tracks ``t`` (L,) where ``allowed`` (K,L) holds, best ``weights`` (K,L) first
    (:func:`~vidtrack.tracking.assignment.assign`); append the pairs to ``rows``/``cols``
    (detection and track positions) and mark their detections taken in ``free_det``."""
    extra_rows, extra_cols = assign(allowed, weights)
    if len(extra_rows):
        rows = np.concatenate((rows, d[extra_rows]))
        cols = np.concatenate((cols, t[extra_cols]))
        free_det[d[extra_rows]] = False
    return rows, cols

def duplicates(boxes: list, scores: list, classes: list) -> list[int]:
    """Positions of detections that repeat a stronger one of their confusable-class group.

    ``boxes`` (N lists of x1,y1,x2,y2, positive areas), ``scores`` and association ``classes``
    (N each; a group has a negative id, :mod:`vidtrack.tracking.classes`). A detection of a
    group overlapping another of the same group with a higher score (ties: the earlier one)
    at IoU >= :data:`DUPLICATE_IOU` is listed, in ascending order. Both tracker paths call it.
    """
    out = []
    n = len(boxes)
    for i in range(n):
        group = classes[i]
        if not group < 0.0:
            continue
        a = boxes[i]
        for j in range(n):
            if j == i or classes[j] != group or not (scores[j] > scores[i] or (scores[j] == scores[i] and j < i)):
                continue
            b = boxes[j]
            w = min(a[2], b[2]) - max(a[0], b[0])
            h = min(a[3], b[3]) - max(a[1], b[1])
            if w > 0.0 and h > 0.0:
                inter = w * h
                union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
                if inter >= DUPLICATE_IOU * union:
                    out.append(i)
                    break
    return out


def _lagging(filtered: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """(M,) True where a filtered box (M,4) overlaps its observation (M,4, positive areas)
    less than :data:`LAG_IOU`. A filtered box of negative width or height counts as empty.
    :meth:`IoUTracker._correct_small` makes the same floating-point operations."""
    low = np.maximum(filtered[:, 0:2], observed[:, 0:2])
    high = np.minimum(filtered[:, 2:4], observed[:, 2:4])
    inter_wh = np.maximum(high - low, 0.0)
    inter = inter_wh[:, 0] * inter_wh[:, 1]
    size = np.maximum(filtered[:, 2:4] - filtered[:, 0:2], 0.0)
    obs_size = observed[:, 2:4] - observed[:, 0:2]
    union = (size[:, 0] * size[:, 1] + obs_size[:, 0] * obs_size[:, 1]) - inter
    return ~(inter >= LAG_IOU * union)


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


def _pair_iou(
    x1: float, y1: float, x2: float, y2: float, area: float, p1: float, q1: float, p2: float, q2: float
) -> float | None:
    """IoU of a detection (x1, y1, x2, y2; ``area`` its area, px²) and a track box (p1, q1, p2,
    q2), xyxy pixels, with :func:`_overlap`'s floating-point operations in its order; None when
    the boxes do not overlap (or a coordinate is NaN), where :func:`_overlap` gives 0.0."""
    w = (x2 if x2 < p2 else p2) - (x1 if x1 > p1 else p1)
    if not w > 0.0:
        return None
    h = (y2 if y2 < q2 else q2) - (y1 if y1 > q1 else q1)
    if not h > 0.0:
        return None
    sw, sh = p2 - p1, q2 - q1
    size = (sw if sw > 0.0 else 0.0) * (sh if sh > 0.0 else 0.0)
    inter = w * h
    return inter / ((area + size) - inter)


def _match_small(
    boxes: list, areas: list, tracks: list, thresholds: list[float], det_cls: list, trk_cls: list,
    priority: list[bool] | None = None,
) -> tuple[list[int], list[int]]:
    """:func:`_overlap` then :func:`~vidtrack.tracking.assignment.assign` on lists, with the
    same floating-point operations in the same order: a detection (``areas`` known,
    positive) and a track box (``tracks[j][0:4]``, a state row will do) of the same class
    are allowed at IoU >= ``thresholds[row]``; the allowed pairs (row-major) when no row or
    column has two, else the Hungarian solve of the same weights
    (:func:`~vidtrack.tracking.assignment.assign_listed`). A pair that does not overlap has
    IoU 0.0 exactly, as in :func:`_overlap` (0 x h / union); the IoU of pairs never allowed
    is not needed (``assign`` weighs them 0), so it is not computed."""
    rows: list[int] = []
    cols: list[int] = []
    values: list[float] = []
    for i, (x1, y1, x2, y2) in enumerate(boxes):
        area, threshold, cls = areas[i], thresholds[i], det_cls[i]
        if threshold > 0.0:
            # Most tracks are nowhere near a given detection. A track whose x-range does not
            # overlap the detection's has IoU 0 and cannot pass, so one cheap test per track
            # leaves the few worth computing (NaN boxes fail it, as they fail the IoU).
            for j, t in enumerate(tracks):
                p1 = t[0]
                if p1 < x2:
                    p2 = t[2]
                    if p2 > x1 and cls == trk_cls[j]:
                        iou = _pair_iou(x1, y1, x2, y2, area, p1, t[1], p2, t[3])
                        if iou is not None and iou >= threshold:
                            rows.append(i)
                            cols.append(j)
                            values.append(iou)
            continue
        for j, t in enumerate(tracks):  # IoU 0 passes a threshold of 0: every pair of the class
            if cls != trk_cls[j]:
                continue
            iou = _pair_iou(x1, y1, x2, y2, area, t[0], t[1], t[2], t[3])
            if iou is None:
                if threshold <= 0.0:  # IoU 0.0 reaches a threshold of 0
                    rows.append(i)
                    cols.append(j)
                    values.append(0.0)
            elif iou >= threshold:
                rows.append(i)
                cols.append(j)
                values.append(iou)
    if len(set(rows)) == len(rows) and len(set(cols)) == len(cols):
        return rows, cols
    if priority is not None:  # assign() adds a row's priority (bool) to each of its weights
        values = [v + (1.0 if priority[i] else 0.0) for i, v in zip(rows, values)]
    return assign_listed(len(boxes), len(tracks), rows, cols, values)


def _grow_small(box: list, share: float) -> list[float]:
    """:func:`_grow` for one box."""
    mw, mh = (box[2] - box[0]) * share, (box[3] - box[1]) * share
    return [box[0] - mw, box[1] - mh, box[2] + mw, box[3] + mh]
