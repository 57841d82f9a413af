"""Detector-agnostic confidence: a score's rank among the scores a tracker has seen.

Detectors disagree about what a score means. MOT15's public Faster R-CNN boxes score
0.95-0.99 for a typical pedestrian and never below 0.5; YOLO11n gives real persons
0.25-0.89 (median about 0.7). A raw threshold tuned on one (say "start tracks at 0.9")
silently drops everything from the other. The tracker therefore reads its confidence
thresholds on a calibrated scale: the *rank* of a score, i.e. the share of the scores
seen so far that are lower than or equal to it (the empirical CDF). "Confident" then
means "in the upper part of this detector's own output", whatever its raw scale.

The distribution is a fixed-size histogram (constant memory and constant time per
frame), so ranks have the resolution of one bin (1/1000 of the score range):

* Ties rank at the top of their bin (right-continuous CDF). When every score is equal
  (ground truth given as detections, or a detector that always says 1.0) every
  detection ranks 1.0 and is confident: the tracker never rejects a share of
  detections just because they cannot be told apart.
* Before any data a uniform prior worth ``prior_weight`` detections stands in, so on
  the first frame a rank is roughly the raw score itself (a lone junk box is not "the
  best this detector has" yet). The prior's weight halves with every frame observed:
  a prior that lingered would keep a slice of its mass below the detector's real
  floor and make the bottom ranks far too permissive for hundreds of frames.
* Counts are halved whenever they exceed ``memory`` detections, so a live stream's
  calibration follows lighting or scene changes instead of being frozen by hours of
  history.

Why ranks rather than rescaling between the detector's score floor and ceiling: the
floor and ceiling are two extreme scores that one outlier moves, and a linear rescale
still leaves the bulk where the detector put it (MOT15's bulk sits in the top 5% of
its range, YOLO's spreads over it); ranks use the whole distribution.

Trade-off of ranks against raw scores: the scale depends on what the tracker is fed.
If the detector's own floor (``--conf``) is lowered, many junk boxes arrive at the
bottom of the distribution and push every real detection's rank up, so more weak boxes
count as confident; raise ``--conf`` (a raw floor) to keep junk out of the histogram.
"""

from __future__ import annotations

import numpy as np

#: Histogram resolution: ranks are exact up to scores 0.001 apart.
BINS = 1000
_INNER_EDGES = np.arange(1, BINS) / BINS
_UNIFORM_CDF = np.arange(1, BINS + 1) / BINS
#: The cumulative counts are rebuilt once new scores make up this share of the total
#: (every frame at first, every 10-20 frames of 7 boxes once thousands are remembered):
#: ranks stay within about 1.5% of exact for a fraction of the per-frame cost.
STALENESS = 1 / 64


def finite_score_bins(scores: np.ndarray) -> np.ndarray:
    """Histogram bin of each (non-NaN) score; scores outside [0, 1] land in the end bins."""
    return np.searchsorted(_INNER_EDGES, scores, side="right")


class ScoreRanks:
    """Running distribution of detection scores in [0, 1] (out-of-range scores are clipped)."""

    def __init__(self, prior_weight: float = 20.0, memory: float = 10_000.0) -> None:
        self.prior_weight = float(prior_weight)
        self.memory = float(memory)
        self.reset()

    def reset(self) -> None:
        """Forget every score: back to the uniform prior."""
        self._counts = np.zeros(BINS)
        # Bins observed since the counts were last brought up to date: arrays (the numpy
        # path's frames) and plain ints (small frames, one flat list: one conversion per rebuild).
        self._pending: list[np.ndarray] = []
        self._pending_ints: list[int] = []
        self._data_total = 0.0
        self._prior = self.prior_weight
        self.version = 0
        self._refresh()

    def _refresh(self) -> None:
        """Rebuild the cumulative counts (data plus whatever is left of the prior)."""
        self._flush()
        cumulative = self._counts.cumsum()  # the method: np.cumsum's dispatch costs more than the sum
        self._total = self._data_total
        if self._prior > 1e-6 * max(self._data_total, 1.0):
            cumulative += self._prior * _UNIFORM_CDF
            self._total += self._prior
        else:
            self._prior = 0.0
        self._cumulative = cumulative
        self._fresh_until = self._data_total * (1.0 + STALENESS)
        self.version += 1  # lets callers cache what they derive from the cumulative counts

    @staticmethod
    def bins(scores: np.ndarray) -> np.ndarray:
        """Histogram bin of each score; scores outside [0, 1] are clipped, NaN goes to bin 0."""
        scores = np.asarray(scores, dtype=np.float64)
        return finite_score_bins(np.where(np.isnan(scores), 0.0, scores))

    #: True while the frames fed are not the detector's own (boxes interpolated between two
    #: detected frames, their scores copied): their scores are not added (:meth:`IoUTracker.update_interpolated`).
    paused = False

    def observe_bins(self, bins: np.ndarray | list[int]) -> None:
        """Add one frame's scores, given as their :meth:`bins` (an array or a list of ints;
        nothing while :attr:`paused`)."""
        if len(bins) == 0 or self.paused:
            return
        # The histogram itself is only read when the cumulative counts are rebuilt: the
        # bins wait in a list until then (one bincount per rebuild, not one per frame).
        if type(bins) is list:
            self._pending_ints.extend(bins)
        else:
            self._pending.append(bins)
        self._data_total += len(bins)
        if self._data_total > self.memory:
            self._flush()
            self._counts *= 0.5
            self._data_total *= 0.5
            self._fresh_until = 0.0
        if self._prior:
            self._prior *= 0.5
            self._fresh_until = 0.0
        if self._data_total > self._fresh_until:
            self._refresh()

    def _flush(self) -> None:
        """Add the pending bins to the histogram."""
        pending, ints = self._pending, self._pending_ints
        if ints:
            pending.append(np.array(ints, dtype=np.intp))
            ints.clear()
        if pending:
            # One addition per bin, of all its new scores at once (counts halved many times
            # hold fractions: adding in parts could round differently).
            bins = pending[0] if len(pending) == 1 else np.concatenate(pending)
            self._counts += np.bincount(bins, minlength=BINS)
            pending.clear()

    def observe(self, scores: np.ndarray) -> None:
        """Add one frame's scores."""
        self.observe_bins(self.bins(scores))

    def bin_thresholds(self, ranks: np.ndarray) -> np.ndarray:
        """For each rank in [0, 1], the first bin whose scores reach it.

        A score reaches rank ``r`` iff its bin index is at least the returned value;
        rank 0 returns bin 0 (everything passes).
        """
        # A tiny tolerance keeps float round-off in the running sums from pushing a
        # threshold one bin up (rank 1.0 must still accept the top bin's scores).
        total = self._total
        wanted = [rank * total * (1.0 - 1e-9) for rank in np.asarray(ranks, dtype=np.float64).tolist()]
        return self._cumulative.searchsorted(wanted, side="left")  # (the method: no dispatch)

    def thresholds(self, ranks: np.ndarray) -> np.ndarray:
        """The lowest raw score that reaches each rank (lower edge of its bin)."""
        return self.bin_thresholds(ranks) / BINS

    def rank(self, scores: np.ndarray) -> np.ndarray:
        """Share of the scores seen so far (prior included) at or below each score's bin."""
        if self._data_total > self._fresh_until / (1.0 + STALENESS):
            self._refresh()  # exact, not just fresh enough
        return self._cumulative[self.bins(scores)] / self._total
