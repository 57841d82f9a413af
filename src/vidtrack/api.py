"""The Python API's two entry points: :func:`track` (the ``run`` pipeline as a generator) and :func:`detect`.

Both take the ``run`` command's option names as keyword arguments (``conf=0.4``,
``classes="person,car"``, ``max_age=2``, ``output="out.mp4"``...) and turn them into the
same validated request as the CLI (:func:`vidtrack.options.request_from_options`), so an
option means the same thing everywhere and a bad one raises the same one-line
:class:`~vidtrack.errors.VidtrackError`.
"""

from __future__ import annotations

import functools
import logging
import queue
import threading
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Union

import numpy as np

from vidtrack.errors import ModelError, OptionError, SourceError, VidtrackError, in_terms_of
from vidtrack.request import RunRequest

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.config import DetectorConfig
    from vidtrack.detection import Detector
    from vidtrack.frames import FrameResult
    from vidtrack.runner import RunOutcome

log = logging.getLogger("vidtrack")

#: A source as ``vidtrack run`` takes it: a path, URL, glob, or webcam index (``0``).
SourceSpec = Union[str, Path, int]

#: Finished frames waiting for the caller. A caller slower than the pipeline slows a file
#: run down (nothing is lost) and makes a live source skip to its newest picture.
RESULT_QUEUE = 4
_END = object()


def track(
    source: SourceSpec | Iterable[SourceSpec], *, model: str | Path | None = None, annotate: bool = False, **options: Any
) -> Iterator["FrameResult"]:
    """Detect and track objects in a video, image folder, webcam or stream, one frame at a time.

    Runs the same pipeline as ``vidtrack run`` (decode, detect, track and outputs overlap on
    their own threads) and yields each finished frame as a :class:`~vidtrack.frames.FrameResult`:
    ``.detections`` (``sv.Detections``, xyxy in source pixels, ``tracker_id`` set),
    ``.frame.index``/``.frame.pts`` (seconds), ``.frame.image`` (BGR) and, with ``annotate=True``
    or a video output, ``.annotated`` (drawn on the frame's own image). Outputs named in
    ``options`` (``output``, ``jsonl``, ``mot``, ``summary``...) are written as in the CLI.

    Closing the generator (``break`` out of a ``for`` loop, ``.close()``, or garbage
    collection) stops the sources and finalises every output, as Ctrl-C does in the CLI, so
    a webcam can be tracked until the caller decides to stop. When the run ends by itself
    the generator's return value (``StopIteration.value``) is the run's
    :class:`~vidtrack.runner.RunOutcome` (per-source summaries).

    Args:
        source: one source spec (``"clip.mp4"``, ``"frames/"``, ``0``, ``"rtsp://..."``) or
            a list of several, which run side by side (``result.frame.source_id`` tells them
            apart); or pictures held in memory: one BGR numpy frame, PIL image or JPEG/PNG
            bytes (a still), a list, 4-D array, iterable or generator of them (one video at
            30 fps, read one item at a time, never collected), or a ``cv2.VideoCapture``
            (read until it ends; the caller releases it). Anything else raises SourceError
            at the call, naming what is accepted.
        model: model file or exported folder; default ``$VIDTRACK_MODEL`` or ``yolo11n.pt``.
        annotate: draw boxes, labels and trails on every frame even without a video output.
        **options: ``vidtrack run`` options by name; :data:`vidtrack.options.OPTIONS` gives each
            one's type, range, default and help (``vidtrack run --help-all`` shows the same). Values
            are coerced and checked by that table, as the CLI's are (``conf="0.4"`` is 0.4).

    Raises:
        OptionError: an unknown option or a bad value (at the call, before any frame).
        SourceError, ModelError, OutputError: bad source, model or output path (at the
            first ``next()``, before any output file is created).
    """
    request = _request(source, model, options)
    if annotate:
        request = replace(request, annotate=True)
    return _run_as_generator(request)


def _request(source: SourceSpec | Iterable[SourceSpec], model: str | Path | None, options: dict[str, Any]) -> "RunRequest":
    from vidtrack.options import request_from_options

    from vidtrack.sources.memory import is_spec, memory_input

    if "model" in options:
        raise TypeError("pass the model as model=..., once")
    specs = _sources(source, is_spec, memory_input)
    if not specs:
        raise SourceError("no source given", "pass a video file, image folder, webcam index or stream URL")
    try:
        request = request_from_options([str(s) for s in specs], {**options, "model": None if model is None else str(model)})
    except OptionError as exc:
        raise in_terms_of(exc, "python") from None
    return replace(request, sources=[s if not is_spec(s) else str(s) for s in specs])


def _sources(source: Any, is_spec: Any, memory_input: Any) -> list[Any]:
    """What ``track`` was given, as a list of specs and in-memory inputs; iterators are never drained.

    A list or tuple whose first item is a path, URL or index is several sources; any
    other iterable (a generator, a list of frames...) is one stream of frames, read lazily.
    """
    if is_spec(source):
        return [source]
    if isinstance(source, (list, tuple)) and source and all(is_spec(s) for s in source):
        return list(source)
    if isinstance(source, (list, tuple)) and not source:
        return []
    return [memory_input(source)]


def _run_as_generator(request: "RunRequest") -> Iterator["FrameResult"]:
    """Runs ``request`` on a worker thread and hands its frames over through a small queue."""
    from vidtrack.runner import execute
    from vidtrack.web.view import WebView  # the serve= viewer, handed to the runner

    results: "queue.Queue[Any]" = queue.Queue(maxsize=RESULT_QUEUE)
    cancel = threading.Event()  # set when the caller closes the generator
    finished: dict[str, Any] = {}

    def hand_over(_lane: int, result: "FrameResult") -> bool:
        """Give ``result`` to the caller and wait until they take it: only then is it written.

        So the outputs hold exactly the frames the caller received: after a ``break`` at
        frame 49 the video has frames 0-49, not the few more already in flight.
        """
        taken = threading.Event()
        while not cancel.is_set():  # after close() nobody reads: drop instead of blocking the run
            try:
                results.put((result, taken), timeout=0.1)
                break
            except queue.Full:
                continue
        while not cancel.is_set():
            if taken.wait(0.05):
                return True
        return taken.is_set()

    def work() -> None:
        try:
            finished["outcome"] = execute(request, gate=hand_over, cancel=cancel, web_view=WebView)
        except BaseException as exc:  # handed to the caller's thread
            finished["error"] = exc
        finally:
            while True:  # the end marker must get through even if the caller stopped reading
                try:
                    results.put(_END, timeout=0.1)
                    break
                except queue.Full:
                    if cancel.is_set():
                        _drain(results)

    worker = threading.Thread(target=work, name="vidtrack-track", daemon=True)
    worker.start()
    try:
        while True:
            item = results.get()
            if item is _END:
                break
            result, taken = item
            taken.set()  # the caller has it: the run writes it (see hand_over)
            yield result
    finally:
        cancel.set()  # stops the run as Ctrl-C would; no-op when it already ended
        while worker.is_alive():
            _drain(results)
            worker.join(timeout=0.1)
    if "error" in finished:
        error = finished["error"]
        raise in_terms_of(error, "python") if isinstance(error, VidtrackError) else error
    outcome: "RunOutcome" = finished["outcome"]
    for warning in outcome.warnings:
        log.warning("%s", warning)
    if outcome.error is not None:
        raise in_terms_of(outcome.error, "python") if isinstance(outcome.error, VidtrackError) else outcome.error
    return outcome


def _drain(results: "queue.Queue[Any]") -> None:
    try:
        while True:
            results.get_nowait()
    except queue.Empty:
        pass


def detect(
    image_or_path: np.ndarray | str | Path, *, model: str | Path | None = None, single: bool = False, **options: Any
) -> "sv.Detections":
    """Detect objects in one still image.

    Args:
        image_or_path: an HxWx3 uint8 BGR array (as OpenCV reads it), a PIL image, the
            bytes of a JPEG/PNG file, or an image file's path.
        model: model file or exported folder; default ``$VIDTRACK_MODEL`` or ``yolo11n.pt``.
            The loaded model is kept for the next call with the same settings.
        single: localization mode: at most the one most confident object.
        **options: detector options by their ``run`` names: ``conf``, ``iou``, ``imgsz``,
            ``device``, ``classes``, ``max_det``, ``backend``.

    Returns:
        ``sv.Detections``: ``xyxy`` (N, 4) float32 pixels of the image, ``confidence``,
        ``class_id`` and ``data["class_name"]``; no ``tracker_id``.

    Raises:
        OptionError: an unknown or bad option. SourceError: the file is missing or not an
        image. ModelError: the model cannot be found or loaded. ValueError: an array that
        is not HxWx3 uint8.
    """
    from vidtrack.options import DETECTOR_OPTIONS, check_known, request_from_options

    try:
        check_known(options, [k for k in DETECTOR_OPTIONS if k not in ("model", "single")], where="detect option")
        config = request_from_options([], {**options, "single": single, "model": None if model is None else str(model)}).detector
    except OptionError as exc:
        raise in_terms_of(exc, "python") from None
    image = _read_image(image_or_path)
    try:
        detector = _detector(config)
    except ModelError as exc:
        raise in_terms_of(exc, "python") from None
    return detector.detect(image)


def _read_image(image_or_path: Any) -> np.ndarray:
    from vidtrack.sources.memory import ACCEPTED, is_picture, is_spec, to_bgr

    if isinstance(image_or_path, np.ndarray):
        image = image_or_path
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 BGR image, got {image.dtype} {image.shape}")
        return image
    if is_picture(image_or_path):  # a PIL image or JPEG/PNG bytes
        return to_bgr(image_or_path, "the image")
    if not is_spec(image_or_path):
        raise SourceError(f"cannot detect in a {type(image_or_path).__name__}", f"pass one picture: {ACCEPTED.split('; or')[0]}")
    import cv2

    path = Path(image_or_path).expanduser()
    if not path.is_file():
        raise SourceError(f"no such image: {path}", "check the path")
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SourceError(f"{path} is not an image OpenCV can read", "pass a .jpg, .png, .bmp, .tif or .webp file")
    return image


@functools.lru_cache(maxsize=4)
def _detector(config: "DetectorConfig") -> "Detector":
    """Loaded detectors by their (frozen, hashable) config: a second ``detect`` reuses the model."""
    from vidtrack.detection import load_detector

    return load_detector(config)
