"""Decoder timestamps to a clean timeline: each frame's presentation time in seconds.

Kept apart from the decoding so the rules can be tested on numbers alone:

- **Which stamp.** A decoded frame carries a pts (presentation) and the dts of the packet that
  produced it. Some containers give pts that are not presentation times (AVI with B-frames
  stamps frames in decode order). As FFmpeg's ``guess_correct_pts`` does, count how often
  each goes backwards and trust the one that goes backwards less (decided on the first
  frames before any is placed, then kept up to date).
- **Constant rate stays exact.** A time within the source's rounding (half a tick of its time
  base, at most a quarter frame) of the ``k / fps`` grid *is* ``k / fps``: 29.97 fps in a
  millisecond container is 1001/30000 s steps, not 33 ms then 34 ms.
- **Variable rate is kept.** Times off the grid (VFR phones, dropped or inserted frames) are
  the source's own, so picture, data and audio stay together. A frame on the grid shows for
  ``1/fps``; one off it for the decoder's duration (its packet's), else ``1/fps``.
- **Time never runs backwards.** A step back of more than two frames (segments joined with
  ``cat``, a stream that restarted, the next ``--loop`` lap) continues the timeline one frame
  duration after the previous frame; smaller steps back and repeated stamps (a muxing fault)
  put the frame half a frame after the previous one, so later frames keep their times.
  Gaps forward are kept as they are (the picture holds, as players show it), except in
  formats whose clock may restart anywhere (MPEG-TS/PS, FLV: ``discontinuous``), where a jump
  of more than :data:`MAX_GAP` seconds is a discontinuity too, as FFmpeg treats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

#: Longest forward jump (s) taken as a real gap in a discontinuous format (FFmpeg's
#: ``dts_delta_threshold`` for such formats is 10 s too).
MAX_GAP = Fraction(10)

#: Demuxer names (PyAV ``container.format.name``) whose timestamps may restart anywhere.
DISCONTINUOUS_FORMATS = frozenset({"mpegts", "mpegtsraw", "mpeg", "mpegvideo", "flv", "live_flv", "hls"})


@dataclass(frozen=True, slots=True)
class Stamp:
    """One frame's place: ``time`` from the first frame and how long it shows, in seconds."""

    time: Fraction
    duration: Fraction
    on_grid: bool  # time is k / fps for an integer k (constant-rate so far)
    rebased: bool  # the source's clock jumped back here and was continued


class Timeline:
    """Feeds decoded frames' ``(pts, dts, duration)`` in stream ticks; returns :class:`Stamp`.

    ``fps`` is the source's frame rate (frames/s, exact), ``tick`` its time base (seconds per
    tick). ``origin`` (ticks) is time zero: the first frame's presentation time, which is also
    where the audio is cut so that it stays in sync.
    """

    def __init__(
        self, fps: Fraction, tick: Fraction, origin: int | None = None, discontinuous: bool = False
    ) -> None:
        self.discontinuous = discontinuous  # forward jumps beyond MAX_GAP are restarts, not gaps
        self.fps = Fraction(fps)
        self.tick = Fraction(tick)
        self.frame = 1 / self.fps
        self.tolerance = min(self.tick / 2, self.frame / 4)  # the source rounds to its tick
        self.origin = origin
        self.rebases = 0
        self._faulty_pts = self._faulty_dts = 0
        self._last_pts: int | None = None
        self._last_dts: int | None = None
        self._offset = Fraction(0)  # added after a jump back
        self._prev: Fraction | None = None
        self._prev_duration = self.frame

    def seed(self, stamps: list[tuple[int | None, int | None]]) -> None:
        """Count backwards steps of the first frames' (pts, dts) before placing any of them."""
        last_pts = last_dts = None
        for pts, dts in stamps:
            if pts is not None:
                self._faulty_pts += last_pts is not None and pts <= last_pts
                last_pts = pts
            if dts is not None:
                self._faulty_dts += last_dts is not None and dts <= last_dts
                last_dts = dts

    @property
    def uses_dts(self) -> bool:
        """True when decode stamps are the better guess (pts go backwards more often)."""
        return self._faulty_pts > self._faulty_dts

    def _best(self, pts: int | None, dts: int | None) -> int | None:
        if dts is not None:
            self._faulty_dts += self._last_dts is not None and dts <= self._last_dts
            self._last_dts = dts
        if pts is not None:
            self._faulty_pts += self._last_pts is not None and pts <= self._last_pts
            self._last_pts = pts
        if self.uses_dts:
            return dts  # None (a frame flushed at the end): one frame after the previous
        return pts if pts is not None else dts

    def place(self, pts: int | None, dts: int | None, duration: int | None) -> Stamp:
        """The next frame's time; strictly after the previous frame's."""
        best = self._best(pts, dts)
        length = Fraction(duration) * self.tick if duration else self.frame
        rebased = False
        if best is None:  # no stamp at all: one frame after the previous
            time = Fraction(0) if self._prev is None else self._prev + self._prev_duration
        else:
            if self.origin is None:
                self.origin = best
            time = (best - self.origin) * self.tick + self._offset
        if self._prev is not None and best is not None:
            jumped = self.discontinuous and time > self._prev + self._prev_duration + MAX_GAP
            if time < self._prev - 2 * self.frame or jumped:
                target = self._prev + self._prev_duration
                self._offset += target - time
                time = target
                rebased = True
                self.rebases += 1
            elif time <= self._prev:
                time = self._prev + self.frame / 2
        k = round(time * self.fps)
        on_grid = abs(time - k * self.frame) <= self.tolerance
        if on_grid:  # decoders' per-frame durations are unreliable with B-frames; the rate is not
            time, length = k * self.frame, self.frame
        if self._prev is not None and time <= self._prev:  # snapping must not reorder
            time, on_grid = self._prev + self.frame / 2, False
        self._prev, self._prev_duration = time, length
        return Stamp(time, length, on_grid, rebased)
