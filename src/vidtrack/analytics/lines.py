"""Counting lines: in/out crossings per class, with hysteresis, once per object or every time.

A line is a directed segment ``a → b`` (:class:`~vidtrack.analytics.geometry.Segment`).
"in" is a crossing from the arrow's left to its right as seen on the screen (for a line
drawn left to right: moving down the picture); "out" the other way.

Hysteresis (parameters in :class:`LineConfig`): an anchor closer to the line than
``margin x box height`` is *on* the line and changes nothing (except that an object first
seen on the line, e.g. entering the picture where a line runs along its edge, starts on
the side it is on). A crossing starts when the
anchor is clear of the line on the other side from its last clear position and the step
between those two positions passes through the segment (so a line near the frame edge
or a short segment counts, and walking around its end does not); it is counted once the
anchor has stayed on the new side for ``confirm_frames`` observations in a row (a return
to the old side first cancels it). Events are reported with the time and frame of the
first observation past the line, and returned when decided. A box flickering on the line thus counts once at most,
an object stopping on the line counts nothing, and a big jump between two frames (low
fps) still counts. An object unseen for ``lost_after_s`` seconds while a crossing waits
for confirmation is counted then (it was last seen on the new side, e.g. leaving the
picture just after crossing).

Objects are the :class:`~vidtrack.analytics.identity.TrackLinker`'s object ids, so an id
switch continues the same object: with ``once-per-object`` (default) an object counts at
most once per direction, with ``every-crossing`` each confirmed crossing counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vidtrack.analytics.events import Event
from vidtrack.analytics.geometry import Segment
from vidtrack.analytics.observations import Observations
from vidtrack.errors import OptionError, check_option

COUNT_MODES = ("once-per-object", "every-crossing")
IN, OUT = "in", "out"


@dataclass(frozen=True)
class LineConfig:
    """How crossings are decided and counted (defaults measured on MOT15, see the module docstring)."""

    # once-per-object: at most one "in" and one "out" per object; every-crossing: all of them.
    count_mode: str = "once-per-object"
    # Dead band around the line, in box heights. Raise: jitter on the line never counts;
    # short steps over the line are confirmed later.
    margin: float = 0.05
    # Observations in a row on the new side before a crossing counts. Raise: flicker
    # rejected more; objects leaving the picture just after crossing may be missed.
    confirm_frames: int = 2

    def __post_init__(self) -> None:
        if self.count_mode not in COUNT_MODES:
            raise OptionError(f"--count-mode {self.count_mode!r} is unknown", f"use {' or '.join(COUNT_MODES)}")
        check_option(0 <= self.margin <= 2, "--line-margin", self.margin, "use box heights between 0 and 2, e.g. 0.05")
        if self.confirm_frames < 1:
            raise OptionError(f"--line-confirm {self.confirm_frames} must be at least 1", "use e.g. 2")


@dataclass
class _Pending:
    side: int
    seen: int
    direction: str
    t: float  # first observation clear past the line: the time the event reports
    frame: int


@dataclass
class _ObjectState:
    side: int = 0  # -1 left of the arrow, +1 right, 0 not yet known
    ref: tuple[float, float] | None = None  # last anchor clear of the line on ``side``
    pending: _Pending | None = None
    counted: set[str] = field(default_factory=set)
    track_id: int = -1
    last_seen: float = 0.0
    cls: str = ""
    confidence: float | None = None


class LineCounter:
    """Counts crossings of one line by tracked objects (one instance per line and source).

    ``update`` takes one frame's observations with their object ids (from
    :class:`~vidtrack.analytics.identity.TrackLinker`) and returns the crossing events
    counted at that frame. ``counts[class][direction]`` holds the totals.
    """

    def __init__(
        self, segment: Segment, name: str, config: LineConfig | None = None, lost_after_s: float = 0.5
    ) -> None:
        self.segment = segment
        self.lost_after_s = lost_after_s
        self.name = name
        self.config = config or LineConfig()
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: {IN: 0, OUT: 0})
        self._objects: dict[int, _ObjectState] = {}

    @property
    def total_in(self) -> int:
        return sum(c[IN] for c in self.counts.values())

    @property
    def total_out(self) -> int:
        return sum(c[OUT] for c in self.counts.values())

    def update(self, obs: Observations, objects: np.ndarray, forgotten: list[int] = ()) -> list[Event]:  # type: ignore[assignment]
        """Crossing events counted at this frame (``objects`` (N,) aligns with ``obs``)."""
        cfg = self.config
        events: list[Event] = []
        if len(obs):
            distance = self.segment.signed_distance(obs.anchors)
            for i in range(len(obs)):
                obj = int(objects[i])
                state = self._objects.get(obj)
                if state is None:
                    state = self._objects[obj] = _ObjectState()
                state.track_id, state.cls, state.last_seen = int(obs.track_ids[i]), obs.classes[i], obs.t
                conf = float(obs.confidences[i])
                state.confidence = None if conf != conf else conf
                d = float(distance[i])
                if d == 0:
                    continue
                side = 1 if d > 0 else -1
                point = (float(obs.anchors[i, 0]), float(obs.anchors[i, 1]))
                if abs(d) <= cfg.margin * float(obs.heights[i]):
                    if state.side == 0:  # first seen on the line (e.g. entering at the frame edge)
                        state.side, state.ref = side, point
                    continue  # on the line: no information
                if state.side == 0 or side == state.side:
                    state.side, state.ref, state.pending = side, point, None
                    continue
                if state.pending is None:
                    assert state.ref is not None
                    if self.segment.crossing_fraction(state.ref, point) is None:
                        state.side, state.ref = side, point  # went round the end of the segment
                        continue
                    state.pending = _Pending(side, 0, IN if side > 0 else OUT, obs.t, obs.frame)
                state.pending.seen += 1
                if state.pending.seen >= cfg.confirm_frames:
                    event = self._commit(obj, state)
                    state.ref = point
                    if event is not None:
                        events.append(event)
        for obj, state in self._objects.items():
            if state.pending is not None and obs.t - state.last_seen > self.lost_after_s:
                event = self._commit(obj, state)
                if event is not None:
                    events.append(event)
        for obj in forgotten:
            state = self._objects.pop(obj, None)
            if state is not None and state.pending is not None:
                event = self._commit(obj, state)
                if event is not None:
                    events.append(event)
        return events

    def _commit(self, obj: int, state: _ObjectState) -> Event | None:
        pending = state.pending
        assert pending is not None
        state.side, state.pending = pending.side, None
        direction = pending.direction
        if self.config.count_mode == "once-per-object":
            if direction in state.counted:
                return None
            state.counted.add(direction)
        self.counts[state.cls][direction] += 1
        return Event(
            t=pending.t, frame=pending.frame, type="cross", track_id=state.track_id, cls=state.cls, line=self.name,
            direction=direction, confidence=state.confidence,
        )

    def finish(self) -> list[Event]:
        """End of stream: crossings still waiting for confirmation count (the object was last seen past the line)."""
        events = []
        for obj, state in list(self._objects.items()):
            if state.pending is not None:
                event = self._commit(obj, state)
                if event is not None:
                    events.append(event)
        return events

    def summary(self) -> dict[str, Any]:
        """``{"in": n, "out": n, "by_class": {cls: {"in": n, "out": n}}}`` for the run summary."""
        return {
            IN: self.total_in,
            OUT: self.total_out,
            "by_class": {cls: dict(c) for cls, c in sorted(self.counts.items())},
        }
