"""Analytics events: one record per line crossing, zone entry, zone exit and loiter alarm."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: The event types, as written in the ``"type"`` field.
EVENT_TYPES = ("cross", "enter", "exit", "loiter", "speeding")


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened to one tracked object at one frame.

    ``t`` is the frame's presentation time in seconds (the video's own clock; capture time
    for live sources) and ``frame`` its 0-based index. ``line``/``zone`` names where it
    happened (one of the two is set). ``direction`` is ``"in"``/``"out"`` for crossings
    and ``None`` for zone events. ``dwell_s`` is the visit's length so far (loiter) or in
    total (exit) in seconds; ``confidence`` the detection's score at that frame, if known;
    ``time`` the wall-clock time of ``t`` (ISO 8601 with offset) when the start is known.
    """

    t: float
    frame: int
    type: str
    track_id: int
    cls: str
    line: str | None = None
    zone: str | None = None
    direction: str | None = None
    dwell_s: float | None = None
    confidence: float | None = None
    time: str | None = None  # wall-clock time, ISO 8601 with UTC offset, when known (--start-time)
    snapshot: str | None = None  # the event's picture in the --snapshots folder, when written
    speed_kmh: float | None = None  # speeding events: the measured speed
    clip: str | None = None  # the review-item clip (--clips folder) the event is in, when written

    def to_json(self) -> dict[str, Any]:
        """The JSONL record: ``{"t", "frame", "type", "track_id", "class", "line"|"zone", "direction", "dwell_s", "confidence"}``."""
        record: dict[str, Any] = {
            "t": round(self.t, 3),
            **({"time": self.time} if self.time is not None else {}),
            "frame": self.frame,
            "type": self.type,
            "track_id": self.track_id,
            "class": self.cls,
        }
        if self.line is not None:
            record["line"] = self.line
        else:
            record["zone"] = self.zone
        record["direction"] = self.direction
        record["dwell_s"] = None if self.dwell_s is None else round(self.dwell_s, 3)
        record["confidence"] = None if self.confidence is None else round(self.confidence, 3)
        if self.speed_kmh is not None:
            record["speed_kmh"] = round(self.speed_kmh, 1)
        if self.snapshot is not None:
            record["snapshot"] = self.snapshot
        if self.clip is not None:
            record["clip"] = self.clip
        return record
