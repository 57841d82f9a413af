"""Offline refinement of finished tracks, for recorded video.

An online tracker has to decide each frame with what it has seen so far. Once the whole
file is read three things can be fixed with hindsight:

* backfill: a track's first ``min_hits - 1`` boxes were matched but not reported,
  because nobody knew yet that it would be confirmed;
* gaps: while a confirmed track coasted through a short occlusion nothing was reported;
  a straight line between the boxes on either side fills it;
* short tracks whose detections rank low among the detector's scores are usually
  false positives: drop them (ranks, not raw scores, so one default fits every
  detector; see :mod:`vidtrack.tracking.scores`);
* each track's detections are smoothed with a centred moving average, which (unlike an
  online filter) does not lag behind the object.
"""

from __future__ import annotations

import numpy as np

from vidtrack.tracking.config import RefineConfig

#: Column layout of a track log row (see :class:`TrackLog`).
LOG_COLUMNS = ("frame", "key", "id", "x1", "y1", "x2", "y2", "confidence")
#: Column layout of refined rows.
TRACK_COLUMNS = ("frame", "id", "x1", "y1", "x2", "y2", "confidence")


class TrackLog:
    """Collects every detection-to-track match (tentative ones too) over a whole video."""

    def __init__(self) -> None:
        self._chunks: list[np.ndarray] = []

    def add(
        self, frame: int, xyxy: np.ndarray, confidence: np.ndarray, keys: np.ndarray, ids: np.ndarray
    ) -> None:
        """Record one frame: the matched boxes and what :meth:`IoUTracker.step` returned."""
        if len(keys) == 0:
            return
        chunk = np.empty((len(keys), len(LOG_COLUMNS)), dtype=np.float64)
        chunk[:, 0] = frame
        chunk[:, 1] = keys
        chunk[:, 2] = ids
        chunk[:, 3:7] = xyxy
        chunk[:, 7] = confidence
        self._chunks.append(chunk)

    def rows(self) -> np.ndarray:
        """All rows so far, shape (M, 8), columns :data:`LOG_COLUMNS`."""
        if not self._chunks:
            return np.empty((0, len(LOG_COLUMNS)), dtype=np.float64)
        return np.concatenate(self._chunks)


def refine_tracks(
    log: np.ndarray, config: RefineConfig | None = None, score_ranks: np.ndarray | None = None
) -> np.ndarray:
    """Refine a track log into final tracks, shape (K, 7), columns :data:`TRACK_COLUMNS`.

    ``score_ranks`` gives each log row's score rank in [0, 1], best with hindsight:
    :meth:`IoUTracker.score_rank` of the tracker that ran the whole video. Without it
    ranks come from the log's own scores (equal scores all rank 1). Only tracks that
    were confirmed at some point survive; rows come out sorted by frame, then id.
    Interpolated boxes get the lower confidence of the two ends.
    """
    config = config if config is not None else RefineConfig()
    out: list[np.ndarray] = []
    if len(log) == 0:
        return np.empty((0, len(TRACK_COLUMNS)), dtype=np.float64)
    if score_ranks is None:
        score_ranks = _empirical_ranks(log[:, 7])
    elif len(score_ranks) != len(log):
        raise ValueError(f"score_ranks has {len(score_ranks)} rows, the log {len(log)}")
    order = np.lexsort((log[:, 0], log[:, 1]))
    log, score_ranks = log[order], score_ranks[order]
    starts = np.flatnonzero(np.diff(log[:, 1], prepend=np.nan) != 0)[1:]
    for rows, ranks in zip(np.split(log, starts), np.split(score_ranks, starts)):
        confirmed = rows[:, 2] > 0
        if not confirmed.any():
            continue
        track_id = rows[confirmed, 2][0]
        if not config.backfill:
            rows, ranks = rows[confirmed], ranks[confirmed]
        if len(rows) < config.min_length and ranks.mean() < config.keep_score_rank:
            continue
        track = np.empty((len(rows), len(TRACK_COLUMNS)), dtype=np.float64)
        track[:, 0] = rows[:, 0]
        track[:, 1] = track_id
        track[:, 2:7] = rows[:, 3:8]
        if config.smooth_window > 1:
            track[:, 2:6] = _moving_average(track[:, 2:6], config.smooth_window)
        out.append(_fill_gaps(track, config.max_gap))
    if not out:
        return np.empty((0, len(TRACK_COLUMNS)), dtype=np.float64)
    result = np.concatenate(out)
    return result[np.lexsort((result[:, 1], result[:, 0]))]


def _empirical_ranks(scores: np.ndarray) -> np.ndarray:
    """Share of ``scores`` at or below each one (ties rank at the top)."""
    ordered = np.sort(scores)
    return np.searchsorted(ordered, scores, side="right") / len(scores)


def _moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average down the rows; the window shrinks at both ends."""
    half = window // 2
    if len(values) < 2 or half == 0:
        return values
    padded = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(values, axis=0)])
    index = np.arange(len(values))
    lo = np.maximum(index - half, 0)
    hi = np.minimum(index + half + 1, len(values))
    return (padded[hi] - padded[lo]) / (hi - lo)[:, None]


def _fill_gaps(track: np.ndarray, max_gap: int) -> np.ndarray:
    """Linearly interpolate missing frames inside one track (rows sorted by frame)."""
    frames = track[:, 0]
    gaps = np.diff(frames) - 1
    fill = np.flatnonzero((gaps > 0) & (gaps <= max_gap))
    if len(fill) == 0:
        return track
    pieces = [track]
    for i in fill:
        before, after = track[i], track[i + 1]
        missing = np.arange(frames[i] + 1, frames[i + 1])
        weight = ((missing - frames[i]) / (frames[i + 1] - frames[i]))[:, None]
        filled = np.empty((len(missing), track.shape[1]), dtype=np.float64)
        filled[:, 0] = missing
        filled[:, 1] = before[1]
        filled[:, 2:6] = before[2:6] + weight * (after[2:6] - before[2:6])
        filled[:, 6] = min(before[6], after[6])
        pieces.append(filled)
    merged = np.concatenate(pieces)
    return merged[np.argsort(merged[:, 0], kind="stable")]
