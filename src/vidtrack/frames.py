"""The packets that flow between pipeline stages.

Detections themselves travel as ``supervision.Detections`` (xyxy, confidence, class_id,
tracker_id, data); these small types carry the image and its timing around them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

if TYPE_CHECKING:  # supervision imports cv2; keep this module light
    import supervision as sv

    from vidtrack.sources.base import SourceStatus


class Frame:
    """One decoded image and when it was taken.

    ``pts`` is the presentation time in seconds from the start of the source: the stream
    timestamp for files (``index / fps`` exactly for constant-rate files, the file's own
    times otherwise), the capture clock for live sources. ``duration`` is how long the frame
    shows in seconds, when the source knows it (files). ``captured`` is the
    ``time.monotonic()`` reading when the frame left the decoder/camera, used to measure
    frame age (capture to annotated output).

    ``image`` is BGR uint8 (H, W, 3). A source may hand it over unconverted: ``image`` None
    with ``convert`` (a function returning the BGR image, called once, on first access) and
    ``luma`` (a function returning the gray (H, W) uint8 picture without colour conversion).
    A frame that only the motion gate looks at is then never converted to BGR
    (``--motion-gate`` with nothing drawn and the detector idle).
    """

    __slots__ = (
        "_image", "index", "pts", "captured", "source_id", "decode_ms", "duration", "_convert", "_luma", "_size",
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
        self._image = value
        self._convert = self._luma = None

    @property
    def size(self) -> tuple[int, int]:
        """``(width, height)`` in pixels, without converting the picture."""
        if self._image is None and self._size is not None:
            return self._size
        return (self.image.shape[1], self.image.shape[0])

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
    # Where the tracks come from: "detect" (the detector ran), "interpolate" (between two detected
    # frames), "predict" (live, ahead of the last detection) or "hold" (nothing moved).
    detector: str = "detect"
