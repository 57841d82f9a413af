"""Pictures a Python caller already holds: numpy frames, PIL images, JPEG/PNG bytes,
iterables and generators of those, and ``cv2.VideoCapture`` objects.

:func:`memory_input` wraps such an object in a :class:`MemoryInput` (or refuses it at once
with one error naming what is accepted); :func:`vidtrack.sources.open_source` opens a
:class:`MemoryInput` as a :class:`MemorySource`. Iterators are read one item at a time as
the pipeline asks for frames, never collected into a list, so an endless generator runs
in constant memory until the caller stops the run.
"""

from __future__ import annotations

import itertools
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError
from vidtrack.frames import Frame, SourceInfo
from vidtrack.sources.base import FiniteSource

#: Frame rate given to frames that carry no time (numpy arrays, PIL images).
MEMORY_FPS = Fraction(30)

#: What :func:`memory_input` accepts, for error messages.
ACCEPTED = (
    "a path, URL or webcam index; a BGR numpy frame (HxWx3 uint8, or HxW gray); a PIL image; "
    "JPEG/PNG bytes; a cv2.VideoCapture; or a list, iterable or generator of frames/images"
)


def is_spec(value: Any) -> bool:
    """True for what ``vidtrack run`` takes as text: a path, URL or webcam index."""
    return isinstance(value, (str, Path, int)) and not isinstance(value, bool)


def _is_capture(value: Any) -> bool:
    return all(callable(getattr(value, name, None)) for name in ("read", "isOpened", "get", "grab"))


def _is_pil(value: Any) -> bool:
    return type(value).__module__.startswith("PIL.") and hasattr(value, "convert") and hasattr(value, "size")


def is_picture(value: Any) -> bool:
    """True for one picture: a numpy array, a PIL image or encoded image bytes."""
    return isinstance(value, (np.ndarray, bytes, bytearray, memoryview)) or _is_pil(value)


def to_bgr(value: Any, what: str = "frame") -> np.ndarray:
    """One picture as a BGR ``uint8`` HxWx3 array.

    numpy: HxWx3 is taken as BGR (as OpenCV gives it), HxW as gray, HxWx4 as BGRA; PIL
    images are converted from their own mode; bytes are decoded as an image file (JPEG,
    PNG, BMP, TIFF, WebP: what OpenCV's ``imdecode`` reads).

    Raises:
        SourceError: not a picture, a wrong dtype/shape, or bytes that are not an image.
    """
    import cv2

    if isinstance(value, np.ndarray):
        if value.dtype != np.uint8:
            raise SourceError(
                f"{what} is a {value.dtype} array", "pass uint8 pixels 0-255 (e.g. (img * 255).astype(np.uint8))"
            )
        if value.ndim == 2:
            return cv2.cvtColor(value, cv2.COLOR_GRAY2BGR)
        if value.ndim == 3 and value.shape[2] == 3:
            return np.ascontiguousarray(value)
        if value.ndim == 3 and value.shape[2] == 4:
            return cv2.cvtColor(value, cv2.COLOR_BGRA2BGR)
        if value.ndim == 3 and value.shape[2] == 1:
            return cv2.cvtColor(value[:, :, 0], cv2.COLOR_GRAY2BGR)
        raise SourceError(f"{what} has shape {value.shape}", "pass an HxWx3 BGR (or HxW gray) uint8 array")
    if _is_pil(value):
        return np.ascontiguousarray(np.asarray(value.convert("RGB"))[:, :, ::-1])
    if isinstance(value, (bytes, bytearray, memoryview)):
        image = cv2.imdecode(np.frombuffer(value, dtype=np.uint8), cv2.IMREAD_COLOR) if len(value) else None
        if image is None:
            raise SourceError(
                f"{what}: {len(value)} bytes that are not an image file OpenCV can decode",
                "pass the bytes of a JPEG/PNG/BMP/TIFF/WebP file, or a path",
            )
        return image
    raise SourceError(f"{what} is a {type(value).__name__}", f"pass {ACCEPTED}")


class MemoryInput:
    """One source a Python caller passed as an object; opened once by :meth:`open`.

    ``kind`` is ``"frame"`` (one picture: a photo, tracked as a still), ``"frames"`` (a
    list, tuple, 4-D array, iterable or generator of pictures: one video) or ``"capture"``
    (a ``cv2.VideoCapture``, read until ``read()`` fails; the caller keeps and releases it).
    """

    def __init__(self, kind: str, items: Iterator[Any], name: str, count: int | None, fps: Fraction) -> None:
        self.kind = kind
        self.items = items
        self.name = name
        self.count = count
        self.fps = fps
        self._opened = False

    def __str__(self) -> str:
        return self.name

    def open(self, config: SourceConfig, source_id: int) -> "MemorySource":
        """The source over these pictures. Raises SourceError when opened twice or empty."""
        if self._opened:
            raise SourceError(f"{self.name} was already read by another run", "pass the frames again")
        self._opened = True
        return MemorySource(self, config, source_id)


def memory_input(value: Any) -> MemoryInput:
    """Wrap what a Python caller passed as a source; refuse anything else at once.

    Raises:
        SourceError: one line naming the type and every kind of input that is accepted.
    """
    if _is_capture(value):
        if not value.isOpened():
            raise SourceError("the cv2.VideoCapture is not open", "open it on a file or camera first, or pass the path")
        import cv2

        fps = value.get(cv2.CAP_PROP_FPS) or 0
        count = int(value.get(cv2.CAP_PROP_FRAME_COUNT) or 0) or None
        rate = Fraction(fps).limit_denominator(1001) if 0 < fps < 1000 else MEMORY_FPS
        return MemoryInput("capture", _capture_frames(value), "cv2.VideoCapture", count, rate)
    if isinstance(value, np.ndarray) and value.ndim == 4:
        return MemoryInput("frames", iter(value), f"{len(value)} numpy frames", len(value), MEMORY_FPS)
    if is_picture(value):
        name = "PIL image" if _is_pil(value) else "image bytes" if not isinstance(value, np.ndarray) else "numpy frame"
        to_bgr(value, name)  # refuse a bad one now, not at the first frame
        return MemoryInput("frame", iter([value]), name, 1, MEMORY_FPS)
    if isinstance(value, (str, Path, int, bool, dict)) or not isinstance(value, Iterable):
        raise SourceError(f"cannot track a {type(value).__name__}", f"pass {ACCEPTED}")
    count = len(value) if hasattr(value, "__len__") else None
    items = iter(value)
    try:
        first = next(items)
    except StopIteration:
        raise SourceError("the frames given are empty", "pass at least one frame") from None
    if not is_picture(first):
        raise SourceError(f"the first item given is a {type(first).__name__}, not a frame", f"pass {ACCEPTED}")
    to_bgr(first, "the first frame")
    name = "frames" if count is None else f"{count} frames"
    return MemoryInput("frames", itertools.chain([first], items), name, count, MEMORY_FPS)


def _capture_frames(capture: Any) -> Iterator[np.ndarray]:
    while True:
        ok, image = capture.read()
        if not ok or image is None:
            return
        yield image


class MemorySource(FiniteSource):
    """Frames from a :class:`MemoryInput`, one item at a time, at :data:`MEMORY_FPS` (or the capture's rate).

    ``Frame.pts`` is ``index / fps``. An item that is not a picture ends the run with a
    SourceError naming its index. The first picture is read at open to learn the size.
    """

    def __init__(self, given: MemoryInput, config: SourceConfig | None = None, source_id: int = 0) -> None:
        self.config = config or SourceConfig()
        self.source_id = source_id
        self._items = given.items
        try:
            first = next(self._items)
        except StopIteration:
            raise SourceError(f"{given.name}: no frame could be read", "check the capture or pass frames") from None
        self._first: np.ndarray | None = to_bgr(first, "frame 0")
        self.info = SourceInfo(
            name=given.name,
            width=self._first.shape[1],
            height=self._first.shape[0],
            fps=given.fps,
            frame_count=given.count,
            is_live=False,
            stills=given.kind == "frame",
        )
        super().__init__()

    def frames(self) -> Iterator[Frame]:
        """The given pictures as BGR frames, in order, at ``index / fps`` seconds; ends at the last item or ``stop()``.

        Raises:
            SourceError: an item is not a picture (the message names its index).
        """
        index = 0
        try:
            while not self._stop.is_set():
                if self._first is not None:
                    image, self._first = self._first, None
                else:
                    try:
                        item = next(self._items)
                    except StopIteration:
                        return
                    image = to_bgr(item, f"frame {index}")
                yield Frame(image, index, index / float(self.info.fps), time.monotonic(), self.source_id)
                index += 1
        finally:
            self._end()

    def close(self) -> None:
        """Stop :meth:`frames`; the caller's input (a ``cv2.VideoCapture``...) is left open. Idempotent."""
        self._stop.set()
