"""The packets that flow between pipeline stages.

Detections themselves travel as ``supervision.Detections`` (xyxy, confidence, class_id,
tracker_id, data); these small types carry the image and its timing around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # supervision imports cv2; keep this module light
    import supervision as sv

    from vidtrack.sources.base import SourceStatus


@dataclass(slots=True)
class Frame:
    """One decoded image and when it was taken.

    ``pts`` is the presentation time in seconds from the start of the source: the stream
    timestamp for files (``index / fps`` exactly for constant-rate files, the file's own
    times otherwise), the capture clock for live sources. ``duration`` is how long the frame
    shows in seconds, when the source knows it (files). ``captured`` is the
    ``time.monotonic()`` reading when the frame left the decoder/camera, used to measure
    frame age (capture to annotated output). ``time`` is the wall-clock time the frame shows
    (timezone-aware), set by the pipeline when the recording's start is known
    (``--start-time``, see :mod:`vidtrack.wallclock`); None otherwise.
    """

    image: np.ndarray
    index: int
    pts: float
    captured: float
    source_id: int = 0
    decode_ms: float = 0.0  # time spent reading/decoding this frame
    duration: float | None = None  # seconds on screen (files); None: until the next frame
    time: datetime | None = None  # wall-clock time of the picture, when known (--start-time)


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What is known about a source before reading it.

    ``width`` x ``height`` is the first frame's size in pixels (later frames of a file may
    differ); ``fps`` the average rate of a file (frames / duration), exact.
    """

    name: str
    width: int
    height: int
    fps: Fraction | None  # exact rate when the container says it (30000/1001 stays so)
    frame_count: int | None  # None when unknown (live, or a header without it)
    is_live: bool = False
    media_path: Path | None = None  # the file itself, for audio pass-through
    stills: bool = False  # unrelated photos: each frame is its own scene, nothing is tracked across them
    time_base: Fraction | None = None  # the file's timestamp tick in seconds (1/30000, 1/90000...)
    start_time: float = 0.0  # source time (s) of the first frame: where the copied audio starts
    sample_aspect_ratio: Fraction | None = None  # pixel width/height when not square (32/27 for 16:9 DVD)


@dataclass(slots=True)
class FrameResult:
    """A frame after the detect/track/draw stages, as handed to the sinks."""

    frame: Frame
    detections: "sv.Detections"
    annotated: np.ndarray | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    events: tuple[Any, ...] = ()  # analytics events (vidtrack.analytics.Event) decided at this frame
    fps: float | None = None  # the lane's processing rate, frames/s over its last 30 frames
    frame_age_ms: float | None = None  # capture (or decode) to finished, milliseconds
    counts: dict[str, int] = field(default_factory=dict)  # objects per class in ``detections``
    source_name: str = ""  # the source as shown to people (credentials masked)
    status: "SourceStatus | None" = None  # the source's state when the frame was finished
    # The picture after redaction and before drawing, kept only when a sink asks for it
    # (snapshots, clean clips); None otherwise (frame.image is then that picture, unless drawn on).
    clean: np.ndarray | None = None
    redacted: bool = False  # the redactor processed this picture (redaction on)
