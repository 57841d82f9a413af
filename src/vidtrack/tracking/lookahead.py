"""Look-ahead for recorded video: a confirmed track is reported from its first frame.

An online tracker confirms a track after ``min_hits`` matched frames; until then it
cannot know whether the boxes are an object or a flicker, so a live view reports a new
object from its ``min_hits``-th frame (latency first). A file has no viewer waiting for
each frame: holding the last ``min_hits - 1`` frames back costs nothing but that many
frames of memory, and is exactly enough to know, when a frame leaves, whether each of
its tentative tracks was confirmed (a tentative track is confirmed or dead within
``min_hits - 1`` frames of its first match). Those rows get their track's id; rows of
tracks that died tentative are dropped, as before.

A track may also adopt the row of a box no track took, the frame before its first match
(:mod:`vidtrack.tracking.hindsight`): :meth:`LookAhead.push` then moves that held row to the
track, which reports it too once confirmed.

The same hindsight, over a whole file instead of a few frames, is what
:func:`vidtrack.tracking.refine.refine_tracks` uses to restore first boxes offline; this
stage does it online, frame by frame, so every output (video, JSONL, MOT, summary) gets it.
Numpy only.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Generic, TypeVar

import numpy as np

if TYPE_CHECKING:
    import supervision as sv

T = TypeVar("T")


class LookAhead(Generic[T]):
    """Holds back up to ``window`` frames and back-fills the ids of tracks confirmed meanwhile.

    ``window`` is ``min_hits - 1`` for recorded video (the tracker's confirmation delay,
    so every track is reported from its first matched frame) and 0 for live sources and
    stills (a pass-through: frames leave at once, tentative rows dropped).

    Each frame is pushed with ``keys`` (the internal key of each row's track) and ``ids``
    (its public id, 0 while tentative), as :meth:`IoUTracker.step` /
    :meth:`IoUTracker.update_all` give them. ``ids`` is updated in place while the frame
    is held. Frames come out in order, each exactly once, after ``window`` newer frames
    were pushed or at :meth:`flush`.
    """

    def __init__(self, window: int = 0) -> None:
        if window < 0:
            raise ValueError(f"look-ahead window {window} must be >= 0")
        self.window = int(window)
        self._held: deque[tuple[T, np.ndarray, np.ndarray]] = deque()

    def __len__(self) -> int:
        """Frames held back now (at most ``window``)."""
        return len(self._held)

    def push(
        self, item: T, keys: np.ndarray, ids: np.ndarray, adopted: np.ndarray | None = None
    ) -> list[tuple[T, np.ndarray]]:
        """Add one frame; return the frames that leave, as ``(item, ids)``.

        ``keys`` and ``ids`` are (M,) integer arrays, one per matched row of ``item``.
        Rows whose returned id is still 0 belong to tracks never confirmed: drop them.
        ``adopted`` (M,), optional: per row, the key of an earlier row its track took over
        (:attr:`IoUTracker.last_adopted`; 0: none); held rows with that key join the track.
        """
        if adopted is not None and self._held and np.count_nonzero(adopted):
            joins = dict(zip(adopted[adopted > 0].tolist(), keys[adopted > 0].tolist()))
            for _, held_keys, held_ids in self._held:
                for k, key in enumerate(held_keys.tolist()):
                    if key in joins and held_ids[k] == 0:
                        held_keys[k] = joins[key]
        confirmed = ids > 0
        if self._held and np.count_nonzero(confirmed):
            new_keys, new_ids = keys[confirmed], ids[confirmed]
            for _, held_keys, held_ids in self._held:
                waiting = held_ids == 0
                if np.count_nonzero(waiting):
                    hit = np.isin(held_keys, new_keys) & waiting
                    if np.count_nonzero(hit):
                        lookup = dict(zip(new_keys.tolist(), new_ids.tolist()))
                        held_ids[hit] = [lookup[k] for k in held_keys[hit].tolist()]
        self._held.append((item, keys, ids))
        released = []
        while len(self._held) > self.window:
            item_out, _, ids_out = self._held.popleft()
            released.append((item_out, ids_out))
        return released

    def flush(self) -> list[tuple[T, np.ndarray]]:
        """Release every held frame (end of the source, or before a reconnect gap)."""
        released = [(item, ids) for item, _, ids in self._held]
        self._held.clear()
        return released

    # -- sv.Detections, as the pipeline carries them ---------------------------------------

    def push_detections(self, item: T, detections: "sv.Detections") -> list[tuple[T, "sv.Detections"]]:
        """:meth:`push` for ``sv.Detections`` from :meth:`IoUTracker.update_all`.

        Returns ``(item, detections)`` pairs with only confirmed rows, ``tracker_id``
        back-filled and ``data["track_key"]`` removed: what :meth:`IoUTracker.update`
        gives, plus the rows of each track's first ``min_hits - 1`` frames.
        """
        keys = detections.data.get("track_key")
        if keys is None:  # a tracker without tentative tracks (stills): every row is final
            keys = np.zeros(len(detections), dtype=np.int64)
        held = (item, detections)
        adopted = detections.data.get("adopted_key")
        return [_confirmed(pair) for pair, _ in self.push(held, keys, detections.tracker_id, adopted)]

    def flush_detections(self) -> list[tuple[T, "sv.Detections"]]:
        """:meth:`flush` for frames pushed with :meth:`push_detections`."""
        return [_confirmed(pair) for pair, _ in self.flush()]


def _confirmed(pair: tuple[T, "sv.Detections"]) -> tuple[T, "sv.Detections"]:
    item, detections = pair
    keep = detections.tracker_id > 0
    if np.count_nonzero(keep) < len(keep):
        detections = detections[keep]
    detections.data.pop("track_key", None)
    detections.data.pop("adopted_key", None)
    return item, detections
