"""Hindsight at a track's birth: the box one frame before its first one.

A track starts at the first box that ranks at least ``new_track_score_rank``; once it
exists, boxes ranking only ``high_score_rank`` extend it. So an object whose first box
ranks between the two is born one frame late: that first box would have extended the
track, had the track existed. A car entering the picture is often that case: its first
box is cut by the frame edge and scores lower (``overpass_traffic_vp8.webm``: frames 3,
11 and 49, confidence 0.52-0.55, rank 0.19-0.27 against a birth rank of 0.35). A first box
cut by the edge can also start a track that the next, whole box does not continue (too
unlike in size for the young track's gate): it dies tentative, and a second track starts
(frame 22 of the same clip).

When a new track is matched the second time, its velocity is known (the difference of
its first two boxes); stepping back by it from the first box gives where the object was
the frame before. A confident box of that frame (ranked at least ``high_score_rank``)
that went into no track, or only into a tentative track that died at once, of the track's
association class, overlapping that step-back box by at least ``iou_threshold``, is
*adopted*: the forward association test, run one frame back in time (best overlap first,
one box per track). Only the report changes, nothing in the tracks' state, so ids,
matches and the online outputs (``update``, ``update_arrays``) are the same with or
without it. The tracker runs it in :meth:`IoUTracker.step` and ``update_all``, whose
rows a look-ahead stage (:mod:`vidtrack.tracking.lookahead`) holds: the adopted row gets
the track's id if the track is confirmed before that frame leaves the look-ahead. With the
default ``min_hits`` 3 (a look-ahead of 2 frames) that is a track confirmed at its second
match: both of its first boxes sure (``new_track_score_rank``). A live view (no look-ahead)
has shown that frame already; the lane turns hindsight off there and under a detection
schedule (interpolated frames are not one velocity step apart).

The same idea in the counting layer: :mod:`vidtrack.analytics.backfill` chains a new
track's first box back through the unreported detections of up to 1 s, for the line
counters only; this one puts one box into every output (video, JSONL, MOT, summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vidtrack.tracking.assignment import assign
from vidtrack.tracking.iou import iou_matrix

#: A row the track born next may adopt: (key, box [x1, y1, x2, y2], association class,
#: confident: ranked at least ``high_score_rank``).
Candidate = tuple[int, list[float], float, bool]


@dataclass
class _Frame:
    """What one frame leaves for the two frames after it."""

    births: dict[int, list[float]] = field(default_factory=dict)  # key -> first box, tentative tracks born here
    candidates: list[Candidate] = field(default_factory=list)  # its free boxes, then its births


class BirthHindsight:
    """Adopts, for each track at its second match, the box one frame before its first.

    ``iou_threshold`` / ``low_iou_threshold``: the overlap a confident / weak candidate
    needs with the step-back box (the tracker's own settings: the same test as forward).
    Plain Python on a few rows per frame; the rare adoption itself uses numpy.
    """

    def __init__(self, iou_threshold: float, low_iou_threshold: float) -> None:
        self.iou_threshold = float(iou_threshold)
        self.low_iou_threshold = float(low_iou_threshold)
        self.reset()

    def reset(self) -> None:
        """Forget the frames seen (a new picture: old boxes are in other coordinates)."""
        self._before = _Frame()  # two frames ago
        self._last = _Frame()  # the previous frame

    @property
    def wants_second(self) -> bool:
        """Whether this frame can adopt: tracks were born last frame and the frame before left
        candidates. Only then need :meth:`frame` be given the rows at their second match."""
        return bool(self._last.births) and bool(self._before.candidates)

    def frame(
        self,
        keys: list[int],
        births: list[Candidate],
        second: list[tuple[int, int, list[float], float]],
        free: list[Candidate],
    ) -> list[tuple[int, int]]:
        """Record one frame; return ``(row, adopted key)`` pairs for the rows that adopt.

        ``keys``: the key of every matched row of this frame. ``births``: the tentative
        tracks born in it (their first box). ``second``: ``(row, key, box, class)`` of the
        rows matched for the second time (needed only while :attr:`wants_second`). ``free``:
        its confident boxes no track took, each with a fresh key. An adopted key is a row
        two frames back: a free box of that frame, or the first box of a tentative track born
        there and dead since. Boxes are detection boxes (x1, y1, x2, y2, pixels).
        """
        before, last = self._before, self._last
        adopted: list[tuple[int, int]] = []
        if second and last.births and before.candidates:
            mine = [(row, key, box, cls) for row, key, box, cls in second if key in last.births]
            if mine:
                first = np.array([last.births[key] for _, key, _, _ in mine], dtype=np.float64)
                now = np.array([box for _, _, box, _ in mine], dtype=np.float64)
                back = 2.0 * first - now  # one velocity step back from the first box
                cands = before.candidates
                overlap = iou_matrix(back, np.array([c[1] for c in cands], dtype=np.float64))
                need = np.array([self.iou_threshold if c[3] else self.low_iou_threshold for c in cands])
                same = np.array([cls for _, _, _, cls in mine])[:, None] == np.array([c[2] for c in cands])[None, :]
                rows, cols = assign((overlap >= need[None, :]) & same, overlap)
                adopted = [(mine[r][0], cands[c][0]) for r, c in zip(rows.tolist(), cols.tolist())]
        if last.births:  # a track born last frame and matched now lives on: its first box is no candidate
            matched = set(keys)
            last.candidates = [c for c in last.candidates if c[0] not in matched]
        self._before = last
        self._last = _Frame({c[0]: c[1] for c in births}, free + births)
        return adopted
