"""Hindsight at a track's birth: the box one frame before its first one.

A track starts at the first box that ranks at least ``new_track_score_rank``; once it
exists, boxes ranking only ``high_score_rank`` (or weak ones, with the stricter
``low_iou_threshold``) extend it. So an object whose first box ranks between the two is
born one frame late: that first box would have extended the track, had the track
existed. A car entering a picture is often that case: its first box is cut by the frame
edge and scores lower.

When a new track is matched the second time, its velocity is known (the difference of
its first two boxes); stepping back by it from the first box gives where the object was
the frame before. A confident box of that frame that went into no track (or only into a
tentative track that died at once), of the track's class, overlapping that step-back box
by at least ``iou_threshold``, is *adopted*: the forward association test, run one frame
back in time. Only the report changes (nothing in the track's state): the adopted row
gets the track's id when the look-ahead stage (:mod:`vidtrack.tracking.lookahead`) still
holds its frame. The tracker runs this in :meth:`IoUTracker.step` and ``update_all`` (the
look-ahead's inputs), not in ``update``/``update_arrays``: a live view has shown that
frame already. Numpy only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from vidtrack.tracking.assignment import assign
from vidtrack.tracking.iou import iou_matrix


@dataclass
class _Frame:
    """What one frame leaves for the frames after it."""

    keys: np.ndarray  # (C,) int64: candidates' keys (fresh ones for boxes no track took)
    boxes: np.ndarray  # (C,4) float64: their detection boxes
    classes: np.ndarray  # (C,) association classes
    confident: np.ndarray  # (C,) bool: ranked at least high_score_rank
    births: dict[int, np.ndarray] = field(default_factory=dict)  # key -> first box of tentative tracks born here
    matched: frozenset[int] = frozenset()  # keys of the tracks matched in this frame


_EMPTY = _Frame(np.zeros(0, np.int64), np.zeros((0, 4)), np.zeros(0), np.zeros(0, bool))


class BirthHindsight:
    """Adopts, for each track at its second match, the box one frame before its first.

    ``iou_threshold`` / ``low_iou_threshold``: the overlap a confident / weak candidate
    needs with the step-back box (the tracker's own settings: the same test as forward).
    """

    def __init__(self, iou_threshold: float, low_iou_threshold: float) -> None:
        self.iou_threshold = float(iou_threshold)
        self.low_iou_threshold = float(low_iou_threshold)
        self._frames: deque[_Frame] = deque([_EMPTY, _EMPTY], maxlen=2)

    def reset(self) -> None:
        """Forget the frames seen (a new picture: old boxes are in other coordinates)."""
        self._frames.extend([_EMPTY, _EMPTY])

    def frame(
        self,
        keys: np.ndarray,
        ids: np.ndarray,
        hits: np.ndarray,
        observed: np.ndarray,
        classes: np.ndarray,
        confident: np.ndarray,
        free_keys: np.ndarray,
        free_boxes: np.ndarray,
        free_classes: np.ndarray,
        free_confident: np.ndarray,
    ) -> np.ndarray:
        """Record one frame; return, per matched row, the key of the row it adopts (0: none).

        The matched rows: ``keys``, ``ids`` (0 while tentative), ``hits`` (matches so far,
        this one included), ``observed`` (M,4) detection boxes and association ``classes``,
        as the tracker left them after this frame, ``confident`` whether each ranked at least
        ``high_score_rank``. The boxes no track took: ``free_keys``
        (fresh keys, one per box), ``free_boxes`` (F,4), ``free_classes``,
        ``free_confident`` (F,) bool. An adopted key is a row two frames back: a free box of
        that frame, or the first box of a tentative track born there and dead since.
        """
        before, last = self._frames
        adopted = np.zeros(len(keys), dtype=np.int64)
        if last.births and len(before.keys):
            second = (hits == 2) & np.isin(keys, list(last.births))
            if np.count_nonzero(second):
                a = second.nonzero()[0]
                first = np.array([last.births[k] for k in keys[a].tolist()])
                back = 2.0 * first - observed[a]  # one velocity step back from the first box
                free = ~np.isin(before.keys, list(last.matched))
                if np.count_nonzero(free):
                    c = free.nonzero()[0]
                    overlap = iou_matrix(back, before.boxes[c])
                    need = np.where(before.confident[c], self.iou_threshold, self.low_iou_threshold)
                    allowed = (overlap >= need[None, :]) & (classes[a][:, None] == before.classes[c][None, :])
                    rows, cols = assign(allowed, overlap)
                    adopted[a[rows]] = before.keys[c[cols]]
        born = (hits == 1) & (ids == 0)
        births = {k: box for k, box in zip(keys[born].tolist(), observed[born])}
        self._frames.append(
            _Frame(
                keys=np.concatenate((keys[born], free_keys)),
                boxes=np.concatenate((observed[born], free_boxes)).reshape(-1, 4),
                classes=np.concatenate((classes[born], free_classes)),
                confident=np.concatenate((confident[born], free_confident)),
                births=births,
                matched=frozenset(keys.tolist()),
            )
        )
        return adopted

