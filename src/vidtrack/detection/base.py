"""The detector contract and the pieces every backend shares (loading: :mod:`vidtrack.detection.registry`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence, runtime_checkable

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.errors import OptionError

if TYPE_CHECKING:
    import supervision as sv


class Detector(Protocol):
    """Finds objects in one BGR image.

    ``detect`` returns ``sv.Detections`` with ``xyxy`` in image pixels, ``confidence``,
    ``class_id`` and ``data["class_name"]``. ``max_in_flight`` says how many ``detect``
    calls may run at once from different threads (1 = not thread-safe); the pipeline
    keeps that many frames in flight.
    """

    class_names: dict[int, str]
    max_in_flight: int

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """Objects in one BGR ``uint8`` ``(H, W, 3)`` image, as ``sv.Detections``.

        ``xyxy`` ``(N, 4)`` float pixels of that image, ``confidence`` ``(N,)`` in 0..1,
        ``class_id`` ``(N,)`` int and ``data["class_name"]`` ``(N,)``; N may be 0.
        Raises whatever the backend's model raises (backends document their own).
        """

    def warmup(self, image_hw: tuple[int, int]) -> None:
        """Prepare for frames of ``image_hw`` (height, width) pixels before the first arrives
        (compile, allocate); a no-op for backends that need nothing. Called once per size."""


@runtime_checkable
class TimedDetector(Detector, Protocol):
    """A detector that also reports its preprocess/infer/postprocess milliseconds (``vidtrack bench``)."""

    def detect_timed(self, image: np.ndarray, timings: dict[str, float] | None) -> "sv.Detections":
        """``detect`` that adds each inner stage's milliseconds to ``timings`` (when not None)."""


@runtime_checkable
class BatchDetector(Protocol):
    """A detector that runs several images in one call (tiling sends a frame's tiles together)."""

    def detect_many(self, images: Sequence[np.ndarray]) -> list["sv.Detections"]:
        """``detect`` on each image, in order, in as few model calls as the backend can."""


@runtime_checkable
class FixedInputDetector(Protocol):
    """A detector whose model sees a fixed input side (pixels): tiling sizes its tiles to it."""

    model_input: int | None


@runtime_checkable
class ConfiguredDetector(Protocol):
    """A detector built from a :class:`DetectorConfig` that applies its after-inference options
    (``conf``, ``iou``, ``classes``, ``max_det``, ``single``) from ``config`` and ``class_ids``
    on every call, so :func:`with_options` can give a copy other values."""

    config: DetectorConfig
    class_ids: list[int] | None


def resolve_classes(wanted: Sequence[str] | None, names: dict[int, str]) -> list[int] | None:
    """Turn ``--classes person,car`` or ``0,2`` into class ids, checking each one."""
    if not wanted:
        return None
    by_name = {n.lower(): i for i, n in names.items()}
    ids: list[int] = []
    for item in wanted:
        key = str(item).strip()
        if key.isdigit() and int(key) in names:
            ids.append(int(key))
        elif key.lower() in by_name:
            ids.append(by_name[key.lower()])
        else:
            import difflib

            close = difflib.get_close_matches(key.lower(), list(by_name), n=1)
            sample = ", ".join(list(names.values())[:6])
            raise OptionError(
                f"unknown class {key!r} for this model (--classes)",
                f"did you mean {close[0]!r}?" if close else f"use names or ids the model knows (e.g. {sample}, ...)",
            )
    return sorted(set(ids))


def make_detections(
    xyxy: np.ndarray, confidence: np.ndarray, class_id: np.ndarray, names: dict[int, str]
) -> "sv.Detections":
    """Build ``sv.Detections`` with ``data["class_name"]`` filled in."""
    import supervision as sv

    class_id = class_id.astype(int, copy=False)
    return sv.Detections(
        xyxy=np.asarray(xyxy, dtype=np.float32).reshape(-1, 4),
        confidence=np.asarray(confidence, dtype=np.float32),
        class_id=class_id,
        data={"class_name": np.array([names.get(int(c), str(c)) for c in class_id], dtype=object)},
    )


def keep_most_confident(detections: "sv.Detections") -> "sv.Detections":
    """Localization mode: at most one detection, the most confident."""
    if len(detections) <= 1:
        return detections
    return detections[[int(np.argmax(detections.confidence))]]


#: Suffixes of single-file models the backends load (Ultralytics' export formats, its
#: ``.yaml`` model definitions, an OpenVINO ``.xml``). Folders (OpenVINO, CoreML,
#: SavedModel, NCNN... exports) are left to the backends to judge.
MODEL_FILE_SUFFIXES = (".pt", ".pth", ".torchscript", ".onnx", ".engine", ".pb", ".tflite", ".mnn", ".pte", ".xml", ".yaml", ".yml")


#: The options :func:`with_options` may change on a loaded detector (they act after inference).
PER_CALL_OPTIONS = ("conf", "iou", "classes", "max_det", "single")


def with_options(detector: Detector, **changes: Any) -> Detector:
    """A detector that shares ``detector``'s loaded model but uses other thresholds.

    For servers: one model in memory, each request with its own ``conf``, ``iou``,
    ``classes``, ``max_det`` and ``single`` (names as in :class:`DetectorConfig`; classes
    as names or ids). The copy shares the model, its compiled engines and locks, so it is
    as thread-safe as the original. ``detector`` itself is not changed.

    Raises:
        OptionError: an option outside :data:`PER_CALL_OPTIONS`, a bad value, an unknown
            class, or a detector without a ``config`` to change.
    """
    import copy
    import dataclasses

    unknown = sorted(set(changes) - set(PER_CALL_OPTIONS))
    if unknown:
        raise OptionError(f"{unknown[0]!r} cannot change per request", f"use {', '.join(PER_CALL_OPTIONS)}")
    if not isinstance(detector, ConfiguredDetector) or not isinstance(detector.config, DetectorConfig):
        raise OptionError("this detector has fixed options", "load it with the options wanted")
    config = detector.config
    if changes.get("classes") is not None:
        from vidtrack.config import split_classes

        changes["classes"] = split_classes(changes["classes"])
    new = dataclasses.replace(config, **changes)
    if new == config:
        return detector
    view = copy.copy(detector)
    view.config = new
    view.class_ids = resolve_classes(new.classes, detector.class_names)
    return view


def looks_like_path(model: str) -> bool:
    """True when ``model`` names a file or folder rather than a bare hub name."""
    if any(sep in model for sep in ("/", "\\")):
        return True
    try:
        return Path(model).exists()
    except OSError:  # e.g. a name over 255 bytes: a path, and an unusable one
        return True
