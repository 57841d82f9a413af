"""When the detector runs: motion gating and strided detection, decided frame by frame.

Every frame is decoded, reported and written; this only decides where its tracks come from
(:mod:`vidtrack.tracking.stride`):

* ``DETECT``: the detector runs and the tracker is updated;
* ``SKIP``: moving scene, between two detections of the stride (``--detect-every``): tracks
  interpolated (files) or predicted (live);
* ``HOLD``: the motion gate saw nothing move: every track keeps its last box (stationary).

Rules, in order, for a frame:

1. the first frame, and a frame after a detector-less stretch the gate wants ended, is detected;
2. nothing moves (``--motion-gate``; a picture unchanged since the last detection counts as
   still, see :mod:`vidtrack.detection.motion`): detect if the previous frame was a stride ``SKIP`` (closes
   the interpolation), if a tentative track waits for confirmation, or if ``recheck_s`` seconds
   passed since the last detection (stationary objects re-checked); else ``HOLD``;
3. something moves (anywhere outside the ``--motion-mask``): detect at once after a ``HOLD``
   (full detection resumes as soon as motion appears), else every ``stride``-th frame, ``SKIP``
   between. ``stride`` is ``--detect-every N``, or with ``auto`` re-chosen after each detection
   by :func:`vidtrack.tracking.stride.auto_stride`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidtrack.frames import ScheduleCounts  # re-exported: counts travel in LaneReport

if TYPE_CHECKING:
    from vidtrack.detection.motion import MotionGate
    from vidtrack.frames import Frame

DETECT = "detect"
SKIP = "skip"
HOLD = "hold"


class DetectSchedule:
    """Decides ``DETECT``/``SKIP``/``HOLD`` for each frame of one lane, in order.

    ``gate``: a :class:`MotionGate`, or None (every frame counts as moving). ``stride``: frames
    between detections while moving (re-set by :meth:`set_stride` for ``auto``). ``recheck_s``:
    longest time without a detection while gated, seconds of source time.
    """

    def __init__(self, gate: "MotionGate | None", stride: int = 1, recheck_s: float = 2.0, auto: bool = False) -> None:
        self.gate = gate
        self.stride = max(1, int(stride))
        self.max_stride = self.stride
        self.auto = auto
        self.recheck_s = recheck_s
        self.counts = ScheduleCounts()
        self._last: str | None = None
        self._since = 0  # frames since the last DETECT
        self._detected_at: float | None = None  # source time of the last DETECT

    @property
    def active(self) -> bool:
        """False when every frame is detected (no gate, stride 1): the lane skips this stage."""
        return self.gate is not None or self.max_stride > 1

    def set_stride(self, stride: int) -> None:
        """``auto``: the stride chosen after the latest detection (1..max_stride)."""
        self.stride = max(1, min(self.max_stride, int(stride)))

    def decide(self, frame: "Frame", tentative: bool = False) -> str:
        """What to do with ``frame``; ``tentative``: the tracker has unconfirmed tracks now."""
        # An unconverted frame is judged on its luma plane: no colour conversion for the gate.
        moving = True if self.gate is None else self.gate.moving(
            frame.image if frame.converted else frame.gray(), frame.pts, frame.size
        )
        self._since += 1
        last = self._last
        if last is None:
            action = DETECT
        elif not moving:
            stale = self._detected_at is None or frame.pts - self._detected_at >= self.recheck_s
            action = DETECT if (last == SKIP or tentative or stale) else HOLD
        elif last == HOLD or self._since >= self.stride:
            action = DETECT
        else:
            action = SKIP
        if action == DETECT:
            self._since = 0
            self._detected_at = frame.pts
            if self.gate is not None:
                self.gate.detected()
        self._last = action
        self.counts.add(action)
        return action

    def promote(self, frame: "Frame") -> None:
        """A frame decided ``HOLD`` was detected after all (a track turned out to be tentative)."""
        self.counts.gated -= 1
        self.counts.detected += 1
        self._detected_at = frame.pts

    def refined(self, frames: int) -> None:
        """``frames`` decided ``SKIP`` were detected after all (files: the gap was not plain motion)."""
        self.counts.strided -= frames
        self.counts.detected += frames

    def reset(self) -> None:
        """After a reconnect gap or size change: the next frame is detected."""
        self._last = None
        self._since = 0
        self._detected_at = None

