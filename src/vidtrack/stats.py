"""Processing rate and per-stage timing, in constant memory."""

from __future__ import annotations

import time
from collections import deque


STAGES = ("decode", "detect", "track", "draw", "encode")


def frames_per_second(frames: int, span_s: float) -> float:
    """The one frame-rate formula: ``frames`` results spread over ``span_s`` seconds, first to last.

    n frames span n - 1 intervals; dividing by n would overstate the rate (an off-by-one
    seen in other tools). 0.0 when fewer than two frames or no time passed.
    """
    return (frames - 1) / span_s if frames > 1 and span_s > 0 else 0.0


class RateMeter:
    """Frames per second over a sliding window of recent frame times (:func:`frames_per_second`)."""

    def __init__(self, window: int = 30) -> None:
        self._times: deque[float] = deque(maxlen=window)

    def tick(self, now: float | None = None) -> None:
        """Record one frame at ``now`` (seconds, ``time.perf_counter()`` clock; default: now).

        Only the last ``window`` times are kept.
        """
        self._times.append(time.perf_counter() if now is None else now)

    @property
    def fps(self) -> float:
        """Frames/s over the window's frames, first to last (:func:`frames_per_second`).

        0.0 until two frames were ticked or when no time passed between them.
        """
        if not self._times:
            return 0.0
        return frames_per_second(len(self._times), self._times[-1] - self._times[0])


class StageTimes:
    """Per-stage milliseconds: a smoothed current value for the HUD and running totals."""

    def __init__(self, stages: tuple[str, ...] = (), smoothing: float = 0.1) -> None:
        self.smoothing = smoothing
        # Known stages are created up front so that other threads never see the dicts resize.
        self.current: dict[str, float] = {s: 0.0 for s in stages}
        self.total: dict[str, float] = {s: 0.0 for s in stages}
        self.count: dict[str, int] = {s: 0 for s in stages}

    def add(self, stage: str, ms: float) -> None:
        """Add one measurement of ``ms`` milliseconds to ``stage`` (a new stage is created).

        ``current`` becomes the exponential moving average (weight ``smoothing``; the first
        measurement is taken as it is); ``total`` and ``count`` grow by ``ms`` and 1.
        """
        seen = self.count.get(stage, 0)
        prev = self.current.get(stage, 0.0)
        self.current[stage] = ms if seen == 0 else prev + self.smoothing * (ms - prev)
        self.total[stage] = self.total.get(stage, 0.0) + ms
        self.count[stage] = self.count.get(stage, 0) + 1

    def mean(self) -> dict[str, float]:
        """Mean milliseconds per measurement of each stage measured at least once (``total / count``)."""
        return {s: self.total[s] / self.count[s] for s in self.total if self.count[s]}


class Stopwatch:
    """``with stopwatch(times, "detect"):`` adds the block's milliseconds to a stage."""

    __slots__ = ("times", "stage", "_start", "ms")

    def __init__(self, times: StageTimes, stage: str) -> None:
        self.times = times
        self.stage = stage
        self.ms = 0.0

    def __enter__(self) -> "Stopwatch":
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.ms = (time.perf_counter() - self._start) * 1000.0
        self.times.add(self.stage, self.ms)
