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
fps) still counts. An object lost while a crossing waits for confirmation (unseen for
``lost_after_s`` seconds, or forgotten) is counted only if it was last seen at the edge of
the picture past the line (it left the picture just after crossing); lost anywhere else it
counts nothing, since a detector that flickers (night, a person standing on the line, a
shrunken box putting the feet just past it) loses objects there. "The edge" is
:data:`EDGE_FRACTION` of the frame or half a box height, whichever is larger; without a
frame size, the picture is taken as the extent of every box seen so far.

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
#: Share of the frame's smaller side that counts as the picture's edge for an object lost
#: just after crossing (a box that reaches it is leaving the picture).
EDGE_FRACTION = 0.03
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
    at_edge: bool = False  # its latest observation past the line touched the picture's edge
    lost: float | None = None  # when the object was lost inside the picture (s); None while seen


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
    height: float = 0.0  # latest box height (pixels)
    point: tuple[float, float] = (0.0, 0.0)  # latest anchor (pixels)


#: Seconds a crossing of an object lost inside the picture waits for the object to be
#: seen again, under any id, on the far side (within one box height of where it was lost).
SUSPEND_S = 3.0


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


class LineCounter:
    """Counts crossings of one line by tracked objects (one instance per line and source).

    ``update`` takes one frame's observations with their object ids (from
    :class:`~vidtrack.analytics.identity.TrackLinker`) and returns the crossing events
    counted at that frame. ``counts[class][direction]`` holds the totals.
    """

    def __init__(
        self,
        segment: Segment,
        name: str,
        config: LineConfig | None = None,
        lost_after_s: float = 0.5,
        frame_size: tuple[int, int] | None = None,  # (width, height) pixels; None: the boxes' extent
    ) -> None:
        self.segment = segment
        self.frame_size = frame_size
        self._extent = np.array([np.inf, np.inf, -np.inf, -np.inf])  # boxes seen: x0, y0, x1, y1
        self.lost_after_s = lost_after_s
        self.name = name
        self.config = config or LineConfig()
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: {IN: 0, OUT: 0})
        self._objects: dict[int, _ObjectState] = {}
        self._suspended: list[_ObjectState] = []  # lost inside the picture with a crossing pending

    @property
    def total_in(self) -> int:
        """Crossings counted in the ``in`` direction, all classes."""
        return sum(c[IN] for c in self.counts.values())

    @property
    def total_out(self) -> int:
        """Crossings counted in the ``out`` direction, all classes."""
        return sum(c[OUT] for c in self.counts.values())

    def update(self, obs: Observations, objects: np.ndarray, forgotten: list[int] = ()) -> list[Event]:  # type: ignore[assignment]
        """Crossing events counted at this frame (``objects`` (N,) aligns with ``obs``)."""
        cfg = self.config
        events: list[Event] = []
        if len(obs):
            distance = self.segment.signed_distance(obs.anchors)
            edge = self._at_edge(obs)
            for i in range(len(obs)):
                obj = int(objects[i])
                state = self._objects.get(obj)
                fresh = state is None
                if state is None:
                    state = self._objects[obj] = _ObjectState()
                state.track_id, state.cls, state.last_seen = int(obs.track_ids[i]), obs.classes[i], obs.t
                conf = float(obs.confidences[i])
                state.confidence = None if conf != conf else conf
                d = float(distance[i])
                height = float(obs.heights[i])
                point = (float(obs.anchors[i, 0]), float(obs.anchors[i, 1]))
                state.point = point
                state.height = height
                if d == 0:
                    continue
                side = 1 if d > 0 else -1
                if abs(d) <= cfg.margin * height:
                    if state.side == 0:  # first seen on the line (e.g. entering at the frame edge)
                        state.side, state.ref = side, point
                    continue  # on the line: no information
                if fresh:
                    event = self._resume(obs.classes[i], point, height, side, obs, obj)
                    if event is not None:
                        events.append(event)
                if state.side == 0 or side == state.side:
                    state.side, state.ref, state.pending = side, point, None
                    continue
                if state.pending is None:
                    assert state.ref is not None
                    if self.segment.crossing_fraction(state.ref, point) is None:
                        state.side, state.ref = side, point  # went round the end of the segment
                        continue
                    state.pending = _Pending(side, 0, IN if side > 0 else OUT, obs.t, obs.frame)
                state.pending.lost = None
                state.pending.seen += 1
                state.pending.at_edge = bool(edge[i])
                if state.pending.seen >= cfg.confirm_frames:
                    event = self._commit(obj, state)
                    state.ref = point
                    if event is not None:
                        events.append(event)
        self._suspended = [
            st for st in self._suspended if st.pending is not None and st.pending.lost is not None
            and obs.t - st.pending.lost <= SUSPEND_S or self._drop(st)
        ]
        for obj, state in self._objects.items():
            lost = state.pending is not None and state.pending.lost is not None
            if state.pending is not None and not lost and obs.t - state.last_seen > self.lost_after_s:
                event = self._lost(obj, state, obs.t)
                if event is not None:
                    events.append(event)
        for obj in forgotten:
            state = self._objects.pop(obj, None)
            if state is not None and state.pending is not None and state.pending.lost is None:
                event = self._lost(obj, state, obs.t)
                if event is not None:
                    events.append(event)
        return events

    def _at_edge(self, obs: Observations) -> np.ndarray:
        """(N,) bool: the box reaches the picture's edge (left, right, bottom; or top, for its top)."""
        half = obs.heights / 2  # the anchor is bottom-centre-like; a box is about half as wide as tall
        x, y = obs.anchors[:, 0], obs.anchors[:, 1]
        top = y - obs.heights
        if self.frame_size is not None:
            x0, y0, x1, y1 = 0.0, 0.0, float(self.frame_size[0]), float(self.frame_size[1])
        else:
            seen = np.array([np.min(x - half / 2), np.min(top), np.max(x + half / 2), np.max(y)])
            self._extent = np.concatenate([np.minimum(self._extent[:2], seen[:2]), np.maximum(self._extent[2:], seen[2:])])
            x0, y0, x1, y1 = self._extent
        reach = np.maximum(EDGE_FRACTION * min(x1 - x0, y1 - y0), half)
        return (x - x0 <= reach) | (x1 - x <= reach) | (y1 - y <= reach) | (top - y0 <= reach)

    def _lost(self, obj: int, state: _ObjectState, now: float) -> Event | None:
        """An object lost with a crossing pending: counted if it left by the picture's edge; else
        the crossing waits :data:`SUSPEND_S` seconds for the object to be seen past the line again."""
        pending = state.pending
        assert pending is not None
        if pending.at_edge:
            return self._commit(obj, state)
        pending.lost = now
        self._suspended.append(state)
        return None

    def _drop(self, state: _ObjectState) -> bool:
        """A suspended crossing that was never confirmed: flicker, not a crossing (always False)."""
        if state.pending is not None and state.pending.lost is not None:
            state.pending = None  # the object stays on its old side
        return False

    def _resume(
        self, cls: str, point: tuple[float, float], height: float, side: int, obs: Observations, new: int
    ) -> Event | None:
        """A new object first seen clear of the line may be an object lost a moment ago under
        another id (one the linker could not bridge): within :data:`SUSPEND_S` seconds and one
        box height of where that object was lost. If that object's crossing was suspended
        (lost just past the line), it is confirmed now."""
        for state in self._suspended:
            pending = state.pending
            if pending is None or pending.side != side or state.cls != cls:
                continue
            if _distance(point, state.point) <= max(height, state.height):
                self._suspended.remove(state)
                pending.lost = None
                return self._commit(-1, state)
        return None

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
        """End of stream: crossings still waiting for confirmation count if the object was last
        seen past the line at the picture's edge (as for an object lost, see the module docstring)."""
        events = []
        for obj, state in list(self._objects.items()):
            if state.pending is not None and state.pending.lost is None and state.pending.at_edge:
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
