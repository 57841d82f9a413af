"""Surveillance analytics on any ``sv.Detections`` stream: counting lines, zones, events, redaction.

The counting and zone logic (:mod:`.lines`, :mod:`.zones`, :mod:`.identity`,
:mod:`.backfill`, :mod:`.geometry`) imports numpy only; redaction (:mod:`.redact`) uses OpenCV, imported when
it first runs. Names are exported lazily so ``import vidtrack.analytics`` stays light::

    from vidtrack.analytics import Scene, Segment, Polygon

    scene = Scene(lines=[("door", Segment((0, 300), (640, 300)))],
                  zones=[("desk", Polygon([(10, 10), (200, 10), (200, 200)]), None)])
    for frame in frames:                      # your own loop: detect, then track
        detections = detector(frame.image)
        tracked = tracker.update(detections)  # data["det_index"]: each row's detection
        # raw= (optional): detections in no track start new tracks earlier, for the lines
        for event in scene.update(tracked, t=frame.pts, frame=frame.index, raw=detections):
            print(event.to_json())
    scene.finish(); print(scene.summary())
"""

from __future__ import annotations

from typing import Any

_EXPORTS = {
    "Event": "vidtrack.analytics.events",
    "Segment": "vidtrack.analytics.geometry",
    "Polygon": "vidtrack.analytics.geometry",
    "anchor_points": "vidtrack.analytics.geometry",
    "TrackLinker": "vidtrack.analytics.identity",
    "LinkConfig": "vidtrack.analytics.identity",
    "LineCounter": "vidtrack.analytics.lines",
    "LineConfig": "vidtrack.analytics.lines",
    "ZoneMonitor": "vidtrack.analytics.zones",
    "ZoneConfig": "vidtrack.analytics.zones",
    "Observations": "vidtrack.analytics.observations",
    "Scene": "vidtrack.analytics.scene",
    "Redactor": "vidtrack.analytics.redact",
    "RedactConfig": "vidtrack.analytics.redact",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vidtrack.analytics' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
