"""The pipeline's analytics stage: lines, zones and events per frame, and redaction of the picture.

One :class:`AnalyticsStage` per source, held by the pipeline's ``Lane`` and called once per
frame after tracking and before drawing (``process``). It updates the source's
:class:`~vidtrack.analytics.scene.Scene` with the tracked detections at the frame's
presentation time, redacts ``frame.image`` in place when pictures are produced, and returns
an :class:`AnalyticsFrame` with the frame's events and what the overlay draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

import numpy as np

from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.analytics.events import Event
from vidtrack.analytics.geometry import Polygon
from vidtrack.analytics.redact import Redactor
from vidtrack.analytics.scene import Scene
from vidtrack.analytics.speed import SpeedZone
from vidtrack.analytics.geometry import anchor_points
from vidtrack.labels import class_names as row_class_names

if TYPE_CHECKING:
    from vidtrack.frames import Frame, SourceInfo

#: Seconds a line or zone is highlighted after one of its events.
FLASH_S = 0.6


@dataclass(frozen=True)
class LineDrawing:
    """A counting line as the overlay draws it: name, ends ``a → b`` (pixels), totals in/out, ``flash``
    (an event within :data:`FLASH_S` seconds)."""

    name: str
    a: tuple[float, float]
    b: tuple[float, float]
    count_in: int
    count_out: int
    flash: bool


@dataclass(frozen=True)
class ZoneDrawing:
    """A zone as the overlay draws it: name, corners (pixels), objects in it now (all classes), ``flash``
    (an event within :data:`FLASH_S` seconds)."""

    name: str
    points: tuple[tuple[float, float], ...]
    occupancy: int
    flash: bool


@dataclass(frozen=True)
class SpeedZoneDrawing:
    """A ``--speed-zone`` quad as the overlay draws it: name, corners (pixels), the limit (km/h, None)."""

    name: str
    points: tuple[tuple[float, float], ...]
    limit_kmh: float | None
    flash: bool


@dataclass(frozen=True)
class AnalyticsFrame:
    """What the analytics stage found in one frame.

    ``events`` are the frame's events; ``hidden`` (N,) marks rows of the tracked detections
    whose labels are not drawn (redacted objects); ``lines``/``zones`` are for the overlay.
    """

    events: tuple[Event, ...] = ()
    hidden: np.ndarray | None = None
    lines: tuple[LineDrawing, ...] = ()
    zones: tuple[ZoneDrawing, ...] = ()
    redacted: bool = False  # the picture was redacted (redaction on and pictures produced)
    speed_zones: tuple[SpeedZoneDrawing, ...] = ()


@dataclass
class AnalyticsStage:
    """Lines, zones, events and redaction of one source (see the module docstring)."""

    config: AnalyticsConfig
    class_names: Mapping[int, str] = field(default_factory=dict)
    pictures: bool = True  # False: no video or viewer, so nothing is redacted or drawn

    def __post_init__(self) -> None:
        self.scene: Scene | None = None
        self.redactor = Redactor(self.config.redact, self.class_names) if self.config.redact.active else None
        self._size: tuple[int, int] | None = None
        self._flash: dict[str, float] = {}
        self._finished: list[Event] | None = None
        self.speed_zones: list[SpeedZone] = []
        self._speeding: set[tuple[str, int]] = set()  # (zone, track) already reported
        self.clock: Any = None  # a vidtrack.wallclock.WallClock when frames have wall-clock times: events carry it

    @classmethod
    def build(
        cls, config: AnalyticsConfig, info: "SourceInfo", class_names: Mapping[int, str], pictures: bool
    ) -> "AnalyticsStage | None":
        """The stage for one source, or None when there is nothing to do.

        Raises:
            OptionError: an unknown ``--redact`` class, or (when the source's frame size is
                known) a line/zone/region outside the frame or malformed.
        """
        if not config.active:
            return None
        config.redact.check_classes(class_names)
        stage = cls(config, class_names, pictures)
        if info.width > 0 and info.height > 0:
            stage._setup(info.width, info.height)
        return stage

    def _setup(self, width: int, height: int) -> None:
        lines, zones = self.config.geometry(width, height)
        self.scene = Scene(
            lines, zones, self.config.line, self.config.zone, self.config.link, self.config.anchor, (width, height)
        )
        if self.redactor is not None:
            self.redactor.set_regions(
                [Polygon(spec.points(width, height), f"--redact-region {spec.text!r}") for spec in self.config.redact.regions]
            )
        self.speed_zones = [
            SpeedZone(self.config.name_of(z, "speed", i), z.quad.points(width, height), z.width_m, z.length_m, self.config.speed_window)
            for i, z in enumerate(self.config.speed_zones)
        ]
        self._size = (width, height)

    def process(self, frame: "Frame", raw: Any, tracked: Any) -> AnalyticsFrame:
        """Update counts with this frame's tracked detections; redact ``frame.image`` in place."""
        if self._size is None:
            self._setup(*frame.size)
        scene = self.scene
        assert scene is not None
        events = tuple(scene.update(tracked, frame.pts, frame.index, raw)) if not scene.empty else ()
        if self.speed_zones:
            events += self._speeds(tracked, frame)
        if self.clock is not None and events:
            events = tuple(self._timed(events))
        hidden = None
        redacted = False
        if self.redactor is not None:
            boxes, hidden = self.redactor.boxes(raw, tracked)
            if self.pictures:
                self.redactor.apply(frame.image, boxes)
                redacted = True
        if not self.pictures:
            return AnalyticsFrame(events, hidden)
        for event in events:
            self._flash[event.line or event.zone or ""] = frame.pts
        lines, zones = self._drawings(frame.pts)
        speed_zones = tuple(
            SpeedZoneDrawing(z.name, tuple(z.polygon.points), self.config.speed_limit,
                             0 <= frame.pts - self._flash.get(z.name, -FLASH_S - 1) < FLASH_S)
            for z in self.speed_zones
        )
        return AnalyticsFrame(events, hidden, lines, zones, redacted=redacted, speed_zones=speed_zones)

    def _speeds(self, tracked: Any, frame: "Frame") -> tuple[Event, ...]:
        """Each row's speed (km/h, NaN unknown) into ``tracked.data["speed_kmh"]``; 'speeding' events."""
        n = len(tracked)
        speeds = np.full(n, np.nan)
        events: list[Event] = []
        if n and tracked.tracker_id is not None:
            ids = np.asarray(tracked.tracker_id)
            feet = anchor_points(np.asarray(tracked.xyxy, dtype=np.float64), "bottom-center")
            names = row_class_names(tracked)
            conf = tracked.confidence
            for zone in self.speed_zones:
                found = zone.update(ids, feet, names, frame.pts)
                known = ~np.isnan(found)
                speeds[known] = found[known]
                limit = self.config.speed_limit
                if limit is None:
                    continue
                for i in np.flatnonzero(known & (found > limit)):
                    key = (zone.name, int(ids[i]))
                    if key in self._speeding:
                        continue
                    self._speeding.add(key)
                    events.append(Event(
                        frame.pts, frame.index, "speeding", int(ids[i]), names[i], zone=zone.name,
                        confidence=None if conf is None else float(conf[i]), speed_kmh=float(found[i]),
                    ))
            live = {int(t) for t in ids}
            for zone in self.speed_zones:
                zone.forget(live)
        tracked.data["speed_kmh"] = speeds
        return tuple(events)

    def _drawings(self, now: float) -> tuple[tuple[LineDrawing, ...], tuple[ZoneDrawing, ...]]:
        scene = self.scene
        assert scene is not None

        def flashing(name: str) -> bool:
            t = self._flash.get(name)
            return t is not None and 0 <= now - t < FLASH_S

        lines = tuple(
            LineDrawing(c.name, c.segment.a, c.segment.b, c.total_in, c.total_out, flashing(c.name)) for c in scene.lines
        )
        zones = tuple(
            ZoneDrawing(z.name, tuple(z.polygon.points), sum(z.occupancy.values()), flashing(z.name)) for z in scene.zones
        )
        return lines, zones

    def finish(self) -> list[Event]:
        """End of stream (idempotent): pending crossings count and open visits exit; their events."""
        if self._finished is None:
            self._finished = self.scene.finish() if self.scene is not None else []
            if self.clock is not None:
                self._finished = self._timed(self._finished)
        return self._finished

    def near_lines(self, tracked: Any, reach: np.ndarray) -> np.ndarray:
        """(N,) True for each tracked row whose anchor is within ``reach`` (N,) pixels of a line or
        a zone edge (``--detect-every auto`` detects every frame there); all False without any."""
        near = np.zeros(len(tracked), dtype=bool)
        scene = self.scene
        if scene is None or scene.empty or not len(tracked):
            return near
        from vidtrack.analytics.geometry import anchor_points

        points = anchor_points(np.asarray(tracked.xyxy, dtype=np.float64), scene.anchor)
        for line in scene.lines:
            near |= np.abs(line.segment.signed_distance(points)) <= reach
        for zone in scene.zones:
            inside = zone.polygon.contains(points)
            for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                moved = points + np.stack([dx * reach, dy * reach], axis=1)
                near |= zone.polygon.contains(moved) != inside
        return near

    def in_zones(self, tracked: Any) -> np.ndarray:
        """(N,) True for each tracked row whose anchor is inside a zone (all False without zones)."""
        inside = np.zeros(len(tracked), dtype=bool)
        scene = self.scene
        if scene is None or scene.empty or not len(tracked) or not scene.zones:
            return inside
        from vidtrack.analytics.geometry import anchor_points

        points = anchor_points(np.asarray(tracked.xyxy, dtype=np.float64), scene.anchor)
        for zone in scene.zones:
            inside |= zone.polygon.contains(points)
        return inside

    def _timed(self, events: Any) -> list[Event]:
        """``events`` with their wall-clock ``time`` filled in from :attr:`clock`."""
        from dataclasses import replace

        return [replace(e, time=self.clock.iso(e.t)) for e in events]

    def summary(self) -> dict[str, Any]:
        """``{"lines": ..., "zones": ...}`` for the run summary (after :meth:`finish`)."""
        if self.scene is None:
            return {"lines": {}, "zones": {}}
        out = self.scene.summary()
        if self.speed_zones:
            out["speed"] = {zone.name: zone.summary() for zone in self.speed_zones}
        return out
