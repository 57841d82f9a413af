"""The tracker contract: what a lane relies on, declared once (roboflow ``trackers``' BaseTracker idea)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import supervision as sv


class Tracker(Protocol):
    """Links one frame's detections to tracks (:class:`IoUTracker`, :class:`StillsTracker`).

    Every method returns new ``sv.Detections`` and leaves its input untouched; each row
    carries ``data["det_index"]``, its index in the input. Ids belong to the instance.
    """

    def update(self, detections: "sv.Detections") -> "sv.Detections":
        """Rows matched to confirmed tracks, ``tracker_id`` set (supervision style)."""

    def update_all(self, detections: "sv.Detections") -> "sv.Detections":
        """Every matched row, tentative ones with ``tracker_id`` 0 and ``data["track_key"]``."""

    def compensate(self, affine) -> None:
        """Move live tracks by the camera's motion since the previous frame (2x3 affine, pixels)."""

    def end_tracks(self) -> None:
        """End every track now (a reconnect gap, a picture size change); ids keep counting."""

    def reset(self) -> None:
        """Forget everything: a new video; the next id is 1 again."""
