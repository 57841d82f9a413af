"""Lines and zones of one source together, fed one frame of tracked detections at a time.

:class:`Scene` is what the pipeline's analytics stage, ``vidtrack eval --line`` and the
Python API use: it links tracker ids to object ids (id-switch continuation), updates
every line counter and zone monitor, and returns the frame's events. Numpy only.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from vidtrack.analytics.events import Event
from vidtrack.analytics.feet import FeetEstimator
from vidtrack.analytics.geometry import Polygon, Segment
from vidtrack.analytics.identity import LinkConfig, TrackLinker
from vidtrack.analytics.lines import LineConfig, LineCounter
from vidtrack.analytics.observations import Observations
from vidtrack.analytics.zones import ZoneConfig, ZoneMonitor


class Scene:
    """Every line and zone of one source.

    Args:
        lines: ``(name, segment)`` pairs (pixels).
        zones: ``(name, polygon, loiter_s or None)`` triples (pixels); a zone's own loiter
            threshold overrides ``zone_config.loiter_s``.
        anchor: the box point that counts (see :data:`~vidtrack.analytics.geometry.ANCHORS`).
        frame_size: the picture's (width, height) in pixels; None: the extent of the boxes seen.
    """

    def __init__(
        self,
        lines: Sequence[tuple[str, Segment]] = (),
        zones: Sequence[tuple[str, Polygon, float | None]] = (),
        line_config: LineConfig | None = None,
        zone_config: ZoneConfig | None = None,
        link_config: LinkConfig | None = None,
        anchor: str = "bottom-center",
        frame_size: tuple[int, int] | None = None,  # (width, height) pixels, for "left the picture"
    ) -> None:
        from dataclasses import replace

        zone_config = zone_config or ZoneConfig()
        self.anchor = anchor
        # Bottom-centre anchors are the feet: estimated so that a hidden lower body does not move them.
        self.feet = FeetEstimator() if anchor == "bottom-center" else None
        self.linker = TrackLinker(link_config)
        gap = self.linker.config.max_gap_s
        self.lines = [
            LineCounter(seg, name, line_config, lost_after_s=gap, frame_size=frame_size) for name, seg in lines
        ]
        self.zones = [
            ZoneMonitor(poly, name, zone_config if loiter is None else replace(zone_config, loiter_s=loiter))
            for name, poly, loiter in zones
        ]
        self._last: tuple[float, int] = (0.0, 0)

    @property
    def empty(self) -> bool:
        """True when the scene has no line and no zone (nothing to count)."""
        return not self.lines and not self.zones

    def update(self, detections: Any, t: float, frame: int) -> list[Event]:
        """One frame of tracked ``sv.Detections`` (pixels) at ``t`` seconds → its events."""
        return self.update_observations(Observations.from_detections(detections, t, frame, self.anchor))

    def update_observations(self, obs: Observations) -> list[Event]:
        """Like :meth:`update` for prebuilt :class:`Observations`."""
        self._last = (obs.t, obs.frame)
        if self.feet is not None:
            obs = self.feet.update(obs)
        objects, forgotten = self.linker.update(obs)
        events: list[Event] = []
        for line in self.lines:
            events.extend(line.update(obs, objects, forgotten))
        for zone in self.zones:
            events.extend(zone.update(obs, objects))
            zone.forget(forgotten)
        return events

    def finish(self) -> list[Event]:
        """End of stream: pending crossings count, open visits exit. Call once."""
        t, frame = self._last
        events: list[Event] = []
        for line in self.lines:
            events.extend(line.finish())
        for zone in self.zones:
            events.extend(zone.finish(t, frame))
        return events

    def summary(self) -> dict[str, Any]:
        """``{"lines": {name: ...}, "zones": {name: ...}}`` for the run summary JSON."""
        return {
            "lines": {line.name: line.summary() for line in self.lines},
            "zones": {zone.name: zone.summary() for zone in self.zones},
        }


def count_crossings(
    frames: Iterable[tuple[float, np.ndarray, np.ndarray]],
    segments: Sequence[tuple[str, Segment]],
    line_config: LineConfig | None = None,
    link_config: LinkConfig | None = None,
) -> Scene:
    """Count crossings of tracked boxes given as ``(t, track_ids (N,), xyxy (N,4))`` per frame."""
    scene = Scene(segments, (), line_config, None, link_config)
    for frame, (t, ids, boxes) in enumerate(frames):
        scene.update_observations(Observations.from_arrays(ids, boxes, ("person",) * len(ids), None, t, frame))
    scene.finish()
    return scene
