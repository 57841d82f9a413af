"""Zones: occupancy per class, entries, exits, dwell time per visit and loiter alarms.

A zone is a simple polygon in pixels (concave shapes are exact: even-odd rule, no
convex hull). An object is *inside* when its anchor point (bottom-centre by default) is.

Visits (parameters in :class:`ZoneConfig`):

- **Entry inertia**: an object enters after ``entry_frames`` observations in a row inside
  the zone (one box jumping in for a frame is not an entry). The visit starts at the
  first of those observations.
- **Exit grace**: a visit ends once the object has not been seen inside for more than
  ``exit_grace_s`` seconds, whether it was seen outside or not seen at all (a short
  occlusion, or an id switch continued by the linker, is not an exit).
- **One visitor, one visit**: a detector that flickers (night footage, someone standing
  still) loses a person for a moment and the tracker gives them new ids, sometimes two at
  once. A visit therefore also belongs to the objects that are plainly the same visitor:
  an object entering within :data:`SAME_PLACE` box heights of where an open visit's
  object was last seen inside, while that object is not in the picture, takes the visit
  over; one entering within :data:`DUPLICATE_PLACE` box heights of a visible visitor of
  the same class and size is a second box on them and joins that visit. A visitor who
  vanished inside (not seen outside) keeps the visit open for :data:`VANISHED_GRACE_S`
  seconds (or ``exit_grace_s`` if longer) so that they can be taken over.
- **Dwell time** of a visit = presentation time of its last observation inside minus that
  of its first, in seconds, from the frames' own timestamps (right for variable frame
  rates and live sources).
- **Loiter**: with ``loiter_s`` set, a visit emits one ``loiter`` event when its dwell time
  first reaches it.

Events are returned at the frame they are decided: ``enter`` at the ``entry_frames``-th
observation inside, ``exit`` when the grace period runs out (or at the end of the stream,
for visits still open), both carrying that frame's time.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from vidtrack.analytics.events import Event
from vidtrack.analytics.geometry import Polygon
from vidtrack.analytics.observations import Observations
from vidtrack.errors import OptionError


#: Reach, in box heights, within which a new object takes over a vanished visitor's visit.
SAME_PLACE = 1.0
#: Reach, in box heights, within which a new box on a visible visitor (same class, height
#: within 25 %) is a duplicate of them, not a second visitor.
DUPLICATE_PLACE = 0.25
#: Seconds a visit stays open for a visitor who vanished inside the zone (never seen
#: leaving it): detector flicker at night lasts up to a few seconds.
VANISHED_GRACE_S = 3.0


@dataclass(frozen=True)
class ZoneConfig:
    """How visits are decided (see the module docstring)."""

    # Observations in a row inside before an entry. Raise: fewer false entries from jumping
    # boxes; entries decided later.
    entry_frames: int = 3
    # Seconds unseen inside before an exit. Raise: longer occlusions bridged; exits decided later.
    exit_grace_s: float = 1.0
    # Dwell seconds that raise a loiter event (None: no loiter events).
    loiter_s: float | None = None

    def __post_init__(self) -> None:
        if self.entry_frames < 1:
            raise OptionError(f"--zone-entry-frames {self.entry_frames} must be at least 1", "use e.g. 3")
        if self.exit_grace_s < 0:
            raise OptionError(f"--zone-exit-grace {self.exit_grace_s} is negative", "use seconds, e.g. 1.0")
        if self.loiter_s is not None and self.loiter_s <= 0:
            raise OptionError(f"--loiter {self.loiter_s} must be positive", "use seconds, e.g. 30, or omit it")


@dataclass
class _Visit:
    cls: str
    track_id: int
    start: float  # first observation inside (s)
    last_inside: float  # latest observation inside (s)
    loitered: bool = False
    confidence: float | None = None
    anchor: tuple[float, float] = (0.0, 0.0)  # latest anchor inside (pixels)
    height: float = 0.0  # latest box height inside (pixels)
    seen_outside: bool = False  # seen outside since its latest observation inside
    seen_at: float = 0.0  # latest observation of any of its objects (s)


@dataclass
class _Candidate:
    count: int
    start: float


class ZoneMonitor:
    """Visits of one zone (one instance per zone and source)."""

    def __init__(self, polygon: Polygon, name: str, config: ZoneConfig | None = None) -> None:
        self.polygon = polygon
        self.name = name
        self.config = config or ZoneConfig()
        self.entries: dict[str, int] = defaultdict(int)
        self.exits: dict[str, int] = defaultdict(int)
        self.dwells: list[float] = []  # seconds, one per finished visit
        self._visits: dict[int, _Visit] = {}
        self._candidates: dict[int, _Candidate] = {}

    def _open(self) -> list[_Visit]:
        """Each open visit once (several objects may share one)."""
        return list({id(v): v for v in self._visits.values()}.values())

    @property
    def occupancy(self) -> dict[str, int]:
        """Visitors inside now, per class."""
        out: dict[str, int] = defaultdict(int)
        for visit in self._open():
            out[visit.cls] += 1
        return dict(out)

    def _same_visitor(self, obs: Observations, i: int, visible: set[int]) -> _Visit | None:
        """The open visit observation ``i`` (entering) belongs to, if it is plainly the same visitor."""
        x, y = float(obs.anchors[i, 0]), float(obs.anchors[i, 1])
        h = float(obs.heights[i])
        best, best_d = None, float("inf")
        for visit in self._open():
            if visit.cls != obs.classes[i]:
                continue
            d = ((x - visit.anchor[0]) ** 2 + (y - visit.anchor[1]) ** 2) ** 0.5
            here = any(o in visible for o, v in self._visits.items() if v is visit)
            size = max(h, visit.height)
            if here:
                alike = abs(h - visit.height) <= 0.25 * size
                if not (alike and visit.seen_at == obs.t and d <= DUPLICATE_PLACE * size):
                    continue
            elif visit.seen_outside or d > SAME_PLACE * size:
                continue
            if d < best_d:
                best, best_d = visit, d
        return best

    def update(self, obs: Observations, objects: np.ndarray) -> list[Event]:
        """Enter, loiter and exit events decided at this frame (``objects`` (N,) aligns with ``obs``)."""
        cfg = self.config
        events: list[Event] = []
        inside = self.polygon.contains(obs.anchors) if len(obs) else np.zeros(0, bool)
        visible = {int(o) for o in objects}
        for i in range(len(obs)):
            obj = int(objects[i])
            conf = float(obs.confidences[i])
            confidence = None if conf != conf else conf
            visit = self._visits.get(obj)
            if visit is not None:
                visit.seen_at = obs.t
            if not inside[i]:
                self._candidates.pop(obj, None)
                if visit is not None:
                    visit.track_id = int(obs.track_ids[i])
                    visit.seen_outside = True
                continue
            if visit is None:
                visit = self._same_visitor(obs, i, visible - {obj})
                if visit is not None:  # the same visitor under a new id: no new visit
                    self._visits[obj] = visit
                    self._candidates.pop(obj, None)
            if visit is None:
                cand = self._candidates.get(obj)
                if cand is None:
                    cand = self._candidates[obj] = _Candidate(0, obs.t)
                cand.count += 1
                if cand.count >= cfg.entry_frames:
                    del self._candidates[obj]
                    visit = self._visits[obj] = _Visit(
                        obs.classes[i], int(obs.track_ids[i]), cand.start, obs.t, confidence=confidence
                    )
                    self.entries[visit.cls] += 1
                    events.append(self._event("enter", visit, obs))
            if visit is not None:
                visit.last_inside, visit.track_id, visit.confidence = obs.t, int(obs.track_ids[i]), confidence
                visit.anchor = (float(obs.anchors[i, 0]), float(obs.anchors[i, 1]))
                visit.height, visit.seen_outside, visit.seen_at = float(obs.heights[i]), False, obs.t
            if visit is not None and cfg.loiter_s is not None and not visit.loitered:
                if visit.last_inside - visit.start >= cfg.loiter_s:
                    visit.loitered = True
                    events.append(self._event("loiter", visit, obs, visit.last_inside - visit.start))
        for visit in self._open():
            grace = cfg.exit_grace_s if visit.seen_outside else max(cfg.exit_grace_s, VANISHED_GRACE_S)
            if obs.t - visit.last_inside > grace:
                events.append(self._close(visit, obs))
        return events

    def forget(self, objects: list[int]) -> None:
        """Drop entry candidates of objects the linker has forgotten (visits end by the grace rule)."""
        for obj in objects:
            self._candidates.pop(obj, None)

    def _event(self, kind: str, visit: _Visit, obs: Observations, dwell: float | None = None) -> Event:
        return Event(
            t=obs.t, frame=obs.frame, type=kind, track_id=visit.track_id, cls=visit.cls, zone=self.name,
            dwell_s=dwell, confidence=visit.confidence,
        )

    def _close(self, visit: _Visit, obs: Observations) -> Event:
        for obj in [o for o, v in self._visits.items() if v is visit]:
            del self._visits[obj]
        dwell = visit.last_inside - visit.start
        self.exits[visit.cls] += 1
        self.dwells.append(dwell)
        return self._event("exit", visit, obs, dwell)

    def finish(self, t: float, frame: int) -> list[Event]:
        """End of stream: every open visit exits now (dwell up to its last observation inside)."""
        obs = Observations.empty(t, frame)
        return [self._close(visit, obs) for visit in self._open()]

    def summary(self) -> dict[str, Any]:
        """Entries, exits, occupancy per class and dwell statistics (seconds) of finished visits."""
        d = self.dwells
        return {
            "entries": sum(self.entries.values()),
            "exits": sum(self.exits.values()),
            "entries_by_class": dict(sorted(self.entries.items())),
            "exits_by_class": dict(sorted(self.exits.items())),
            "occupancy": dict(sorted(self.occupancy.items())),
            "visits": len(d),
            "dwell_s": {
                "mean": round(statistics.fmean(d), 3) if d else None,
                "median": round(statistics.median(d), 3) if d else None,
                "max": round(max(d), 3) if d else None,
            },
        }
