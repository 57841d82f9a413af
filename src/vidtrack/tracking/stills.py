"""Unrelated photos: every detection is its own object, nothing is matched across images.

A folder of holiday photos is not a video: two people at the same spot in two photos
are not one person, and an object seen once is as real as one seen in three frames.
So each image reports every detection the detector kept (above ``--conf``), each with
a new id of this instance (from 1), and no confirmation delay applies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import supervision as sv


class StillsTracker:
    """The tracker stand-in for still images: a fresh id per detection, no association.

    Has the same ``update``/``update_all`` as :class:`IoUTracker` (both return every
    input row, in input order, with ``tracker_id`` and ``data["det_index"]``), so the
    pipeline treats both alike. The input is not modified.
    """

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """The next detection gets id 1 again."""
        self._next_id = 1

    def update(self, detections: "sv.Detections") -> "sv.Detections":
        """Every row of ``detections`` with a new id; ``data["det_index"]`` is 0..N-1."""
        count = len(detections)
        out = detections[np.arange(count)] if count else detections[np.zeros(0, dtype=int)]
        out.tracker_id = np.arange(self._next_id, self._next_id + count, dtype=int)
        out.data = {**out.data, "det_index": np.arange(count)}
        self._next_id += count
        return out

    update_all = update  # nothing is ever tentative

    def compensate(self, affine) -> None:
        """Nothing to move: no track outlives its frame."""

    def end_tracks(self) -> None:
        """Nothing to end: every detection is its own one-frame track."""
