"""The packets that flow between pipeline stages.

Detections themselves travel as ``supervision.Detections`` (xyxy, confidence, class_id,
tracker_id, data); these small types carry the image and its timing around them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # supervision imports cv2; keep this module light
    import supervision as sv


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

    ``image`` is BGR uint8 (H, W, 3). A source may hand it over unconverted: ``image`` None
    with ``convert`` (a function returning the BGR image, called once, on first access) and
    ``luma`` (a function returning the gray (H, W) uint8 picture without colour conversion).
    A frame that only the motion gate looks at is then never converted to BGR
    (``--motion-gate`` with nothing drawn and the detector idle).
    """

    __slots__ = (
        "_image", "index", "pts", "captured", "source_id", "decode_ms", "duration", "_convert", "_luma", "_size", "time",
    )

    def __init__(
        self,
        image: np.ndarray | None,
        index: int,
        pts: float,
        captured: float,
        source_id: int = 0,
        decode_ms: float = 0.0,  # time spent reading/decoding this frame
        duration: float | None = None,  # seconds on screen (files); None: until the next frame
        convert: "Callable[[], np.ndarray] | None" = None,
        luma: "Callable[[], np.ndarray] | None" = None,
        size: tuple[int, int] | None = None,  # (width, height) of an unconverted image
        time: "datetime | None" = None,  # wall-clock time of the picture, when known (--start-time)
    ) -> None:
        if image is None and convert is None:
            raise ValueError("a Frame needs an image or a function that converts one")
        self._image = image
        self.index = index
        self.pts = pts
        self.captured = captured
        self.source_id = source_id
        self.decode_ms = decode_ms
        self.duration = duration
        self._convert = convert
        self._luma = luma
        self._size = size
        self.time = time

    @property
    def image(self) -> np.ndarray:
        """The BGR picture (converted now if the source left it unconverted)."""
        if self._image is None:
            assert self._convert is not None
            self._image = self._convert()
            self._convert = self._luma = None
        return self._image

    @image.setter
    def image(self, value: np.ndarray) -> None:
        """Replace the picture with ``value`` (BGR ``uint8``, ``(H, W, 3)``); a pending conversion is dropped."""
        self._image = value
        self._convert = self._luma = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, without converting the picture."""
        if self._image is None and self._size is not None:
            return self._size
        return (self.image.shape[1], self.image.shape[0])

    @property
    def picture_nbytes(self) -> int:
        """Bytes of the BGR picture, without converting it (queues bounded in bytes read this)."""
        if self._image is not None:
            return int(self._image.nbytes)
        width, height = self.size
        return width * height * 3

    @property
    def converted(self) -> bool:
        """False while the BGR picture has not been made (see the class docstring)."""
        return self._image is not None

    def gray(self) -> np.ndarray:
        """The picture in gray (H, W) uint8: the decoder's luma plane when the frame is unconverted."""
        if self._image is None and self._luma is not None:
            return self._luma()
        import cv2

        return cv2.cvtColor(self.image, cv2.COLOR_BGR2GRAY)

    def __repr__(self) -> str:
        return f"Frame(index={self.index}, pts={self.pts}, source_id={self.source_id})"


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
    still_names: tuple[str, ...] = ()  # photos: their file names in frame order (-o folder/ keeps them)


class SourceState(enum.Enum):
    """Where a source stands; the one vocabulary for pipeline, overlay, viewers and summary.

    Files and image folders go CONNECTED -> ENDED. Live sources start CONNECTING, are
    CONNECTED while new pictures arrive, STALLED once ``--stall-timeout`` seconds pass with
    no new picture (nothing received, or a frozen camera repeating one image), RECONNECTING
    during each reopen attempt, and ENDED when stopped, finished (an HLS playlist with
    ``#EXT-X-ENDLIST``) or given up (then the source's ``error`` says why).
    """

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STALLED = "stalled"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A :class:`SourceState` plus the reconnect attempt it belongs to.

    ``attempt`` counts reopen attempts since the stream last made progress (0 while
    connected or before the first failure). ``str()`` is the label shown to people
    (``"reconnecting 3"``, ``"stalled"``); code compares ``state``, never the label.
    """

    state: SourceState
    attempt: int = 0

    def __str__(self) -> str:
        if self.state is SourceState.RECONNECTING and self.attempt:
            return f"{self.state.value} {self.attempt}"
        return self.state.value

    @property
    def ok(self) -> bool:
        """True while pictures flow normally (CONNECTED)."""
        return self.state is SourceState.CONNECTED



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
    The last four fields are filled by later stages and sinks when asked for (``--start-time``,
    ``--speed-zone``, ``--snapshots``, ``--clips``) and written only when set.
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


@dataclass(slots=True)
class FrameResult:
    """A frame after the detect/track/draw stages, as handed to the sinks."""

    frame: Frame
    detections: "sv.Detections"
    annotated: np.ndarray | None = None
    timings_ms: dict[str, float] = field(default_factory=dict)
    events: tuple[Event, ...] = ()  # analytics events decided at this frame
    fps: float | None = None  # the lane's processing rate, frames/s over its last 30 frames
    frame_age_ms: float | None = None  # capture (or decode) to finished, milliseconds
    counts: dict[str, int] = field(default_factory=dict)  # objects per class in ``detections``
    detected: dict[str, int] = field(default_factory=dict)  # the detector's boxes per class, reported or not
    # Of those, boxes repeating a stronger box of a confusable class on one object (left out by the tracker)
    repeated: dict[str, int] = field(default_factory=dict)
    source_name: str = ""  # the source as shown to people (credentials masked)
    status: SourceStatus | None = None  # the source's state when the frame was finished
    # Where the tracks come from: "detect" (the detector ran), "interpolate" (between two detected
    # frames), "predict" (live, ahead of the last detection) or "hold" (nothing moved).
    detector: str = "detect"

    # The picture after redaction and before drawing, kept only when a sink asks for it
    # (snapshots, clean clips); None otherwise (frame.image is then that picture, unless drawn on).
    clean: np.ndarray | None = None
    redacted: bool = False  # the redactor processed this picture (redaction on)


@dataclass
class ScheduleCounts:
    """Frames of one lane by what the detector did (``--motion-gate``, ``--detect-every``): HUD and summary."""

    detected: int = 0
    gated: int = 0  # nothing moved: tracks held
    strided: int = 0  # between detections of a moving scene: tracks interpolated or predicted

    @property
    def frames(self) -> int:
        """Frames counted in all: ``detected + gated + strided``."""
        return self.detected + self.gated + self.strided

    def add(self, action: str) -> None:
        """Count one frame by the schedule's verdict (detect, hold, skip)."""
        if action == "detect":
            self.detected += 1
        elif action == "hold":
            self.gated += 1
        else:
            self.strided += 1


@dataclass
class LaneReport:
    """What happened in one lane, for the end-of-run table and the summary file."""

    source: SourceInfo
    frames: int = 0
    wall_s: float = 0.0
    first_output_s: float | None = None  # run start → first finished frame
    processing_fps: float = 0.0  # excluding start-up: first to last finished frame
    stage_ms: dict[str, float] = field(default_factory=dict)
    schedule: ScheduleCounts | None = None  # frames detected / gated / strided (--motion-gate, --detect-every)
    status: SourceStatus | None = None  # the source's status when the lane ended
    stopped: bool = False  # stopped early by the user or a signal
    error: BaseException | None = None
