"""vidtrack: real-time video object detection and tracking.

Importing this package is instant and has no side effects: every name below is imported
on first use (PEP 562), and torch, ultralytics and OpenCV only by the stages that need them.

    import vidtrack

    detections = vidtrack.detect("street.jpg", conf=0.4)     # sv.Detections
    print(vidtrack.tags(detections))                         # {"person": 91, "car": 88}
    for result in vidtrack.track("street.mp4", output="street_tracked.mp4"):
        print(result.frame.index, result.detections.tracker_id)

    tracker = vidtrack.IoUTracker(vidtrack.TrackerConfig(max_age=2.0), frame_rate=25)
    tracked = tracker.update(my_detections)                  # your detector's sv.Detections
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vidtrack.version import __version__

#: Public name -> the module that defines it.
_EXPORTS = {
    "track": "vidtrack.api",
    "detect": "vidtrack.api",
    "tags": "vidtrack.labels",
    "IoUTracker": "vidtrack.tracking",
    "TrackerConfig": "vidtrack.tracking",
    "load_detector": "vidtrack.detection",
    "DetectorConfig": "vidtrack.config",
    "Overlay": "vidtrack.overlay",
    "open_source": "vidtrack.sources",
}

__all__ = ["__version__", *_EXPORTS]

if TYPE_CHECKING:
    from vidtrack.api import detect, track
    from vidtrack.config import DetectorConfig
    from vidtrack.detection import load_detector
    from vidtrack.labels import tags
    from vidtrack.overlay import Overlay
    from vidtrack.sources import open_source
    from vidtrack.tracking import IoUTracker, TrackerConfig


def __getattr__(name: str) -> Any:
    """Import a public name's module on first access (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'vidtrack' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
