"""Lines and zones of one source together, fed one frame of tracked detections at a time.

:class:`Scene` is what the pipeline's analytics stage, ``vidtrack eval --line`` and the
Python API use: it links tracker ids to object ids (id-switch continuation), updates
every line counter and zone monitor, and returns the frame's events. Given the frame's
raw detections too, it starts each new track, for the lines, where the detector first saw
it (:mod:`~vidtrack.analytics.backfill`). Numpy only.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from vidtrack.analytics.backfill import BackFill
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
        self.frame_size = frame_size
        # Bottom-centre anchors are the feet: estimated so that a hidden lower body does not move them.
        self.feet = FeetEstimator() if anchor == "bottom-center" else None
        self.linker = TrackLinker(link_config)
        # Detections in no track, kept a moment: a new object's boxes before its track began.
        self.backfill = BackFill() if lines else None
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

    def update(self, detections: Any, t: float, frame: int, raw: Any = None) -> list[Event]:
        """One frame of tracked ``sv.Detections`` (pixels) at ``t`` seconds → its events.

        ``raw`` is the frame's detections before tracking (``detections.data["det_index"]``
        indexes them): those in no track are kept a moment for :mod:`~vidtrack.analytics.backfill`.
        Without it, without ``det_index``, or when ``raw`` rows carry tracker ids (a frame the
        detector skipped: its rows are tracks), nothing is kept for this frame.
        """
        obs = Observations.from_detections(detections, t, frame, self.anchor)
        spare = None
        # The detector's own output carries no tracker ids; frames whose "raw" rows are tracks
        # (interpolated, predicted) have no spare detections to keep.
        own = raw is not None and raw is not detections and getattr(raw, "tracker_id", None) is None
        index = getattr(detections, "data", {}).get("det_index") if own else None
        if index is not None:
            index = np.asarray(index, dtype=np.int64).reshape(-1)
            if len(index) and (index.min() < 0 or index.max() >= len(raw)):
                index = None  # not this frame's detections (e.g. an interpolated frame): nothing to keep
        if index is not None:
            from vidtrack.labels import class_names

            free = np.ones(len(raw), dtype=bool)
            free[index] = False
            boxes = np.asarray(raw.xyxy, dtype=np.float64).reshape(-1, 4)[free]
            if self.frame_size is not None:  # as the tracked boxes are: clipped to the picture
                boxes[:, [0, 2]] = boxes[:, [0, 2]].clip(0, self.frame_size[0])
                boxes[:, [1, 3]] = boxes[:, [1, 3]].clip(0, self.frame_size[1])
            spare = (boxes, [n for n, f in zip(class_names(raw), free) if f])
        return self.update_observations(obs, spare)

    def update_observations(
        self, obs: Observations, spare: tuple[np.ndarray, Sequence[str]] | None = None
    ) -> list[Event]:
        """Like :meth:`update` for prebuilt :class:`Observations`; ``spare`` is the frame's
        detections in no track: (M, 4) xyxy pixels and their M class names (None: unknown)."""
        self._last = (obs.t, obs.frame)
        events: list[Event] = []
        if self.backfill is not None and spare is not None:
            for i in range(len(obs)):
                if not self.linker.knows(int(obs.track_ids[i])):
                    events.extend(self._earlier(obs, i))
            self.backfill.add(obs.t, obs.frame, spare[0], list(spare[1]))
        if self.feet is not None:
            obs = self.feet.update(obs)
        objects, forgotten = self.linker.update(obs)
        for line in self.lines:
            events.extend(line.update(obs, objects, forgotten))
        for zone in self.zones:
            events.extend(zone.update(obs, objects))
            zone.forget(forgotten)
        return events

    def _earlier(self, obs: Observations, row: int) -> list[Event]:
        """A new track's boxes chained back (:mod:`~vidtrack.analytics.backfill`) go through the
        feet estimate, the linker and the line counters as its first observations, oldest first:
        the track then starts where the detector first saw it, for counting and for linking."""
        assert self.backfill is not None
        if obs.boxes is None:
            return []
        events: list[Event] = []
        ids = obs.track_ids[row : row + 1]
        for earlier in self.backfill.chain(obs.boxes[row], obs.classes[row], obs.t):
            past = Observations.from_arrays(
                ids, earlier.box[None, :], obs.classes[row : row + 1], np.full(1, np.nan), earlier.t, earlier.frame,
                self.anchor,
            )
            if self.feet is not None:
                past = self.feet.update(past)
            objects, _ = self.linker.update(past)
            for line in self.lines:
                events.extend(line.update(past, objects))
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
    frames: Iterable[tuple[Any, ...]],
    segments: Sequence[tuple[str, Segment]],
    line_config: LineConfig | None = None,
    link_config: LinkConfig | None = None,
) -> Scene:
    """Count crossings of tracked boxes given as ``(t, track_ids (N,), xyxy (N,4))`` per frame,
    optionally followed by the frame's detections in no track, ``spare (M,4)`` xyxy (back-filled,
    see :mod:`~vidtrack.analytics.backfill`). Every box is a person."""
    scene = Scene(segments, (), line_config, None, link_config)
    for frame, (t, ids, boxes, *rest) in enumerate(frames):
        spare = (rest[0], ["person"] * len(rest[0])) if rest else None
        scene.update_observations(Observations.from_arrays(ids, boxes, ("person",) * len(ids), None, t, frame), spare)
    scene.finish()
    return scene
