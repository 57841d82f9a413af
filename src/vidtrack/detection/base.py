"""The detector contract and the pieces every backend shares."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, Sequence, runtime_checkable

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.errors import ModelError, OptionError, VidtrackError, exception_cause, path_error, short_path
from vidtrack.paths import check_readable, stat_mode

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

    def detect(self, image: np.ndarray) -> "sv.Detections": ...

    def warmup(self, image_hw: tuple[int, int]) -> None:
        """Prepare for frames of ``image_hw`` (height, width) pixels before the first arrives
        (compile, allocate); a no-op for backends that need nothing. Called once per size."""


@runtime_checkable
class TimedDetector(Detector, Protocol):
    """A detector that also reports its preprocess/infer/postprocess milliseconds (``vidtrack bench``)."""

    def detect_timed(self, image: np.ndarray, timings: dict[str, float] | None) -> "sv.Detections":
        """``detect`` that adds each inner stage's milliseconds to ``timings`` (when not None)."""


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
    config = getattr(detector, "config", None)
    if not isinstance(config, DetectorConfig):
        raise OptionError("this detector has fixed options", "load it with the options wanted")
    if changes.get("classes") is not None:
        from vidtrack.config import split_classes

        changes["classes"] = split_classes(changes["classes"])
    new = dataclasses.replace(config, **changes)
    if new == config:
        return detector
    view = copy.copy(detector)
    view.config = new  # type: ignore[attr-defined]
    view.class_ids = resolve_classes(new.classes, detector.class_names)  # type: ignore[attr-defined]
    return view


def looks_like_path(model: str) -> bool:
    """True when ``model`` names a file or folder rather than a bare hub name."""
    if any(sep in model for sep in ("/", "\\")):
        return True
    try:
        return Path(model).exists()
    except OSError:  # e.g. a name over 255 bytes: a path, and an unusable one
        return True


def load_detector(config: DetectorConfig) -> Detector:
    """Load the model named by ``config.model`` with the best backend for its format.

    ``backend="auto"``: an exported OpenVINO folder runs through OpenVINO; a ``.pt`` model on
    a CPU is exported to OpenVINO once (cached, see :mod:`vidtrack.detection.export`) and runs
    through that; anything else, and every model on CUDA, through Ultralytics/PyTorch.

    Raises:
        ModelError: no model at the path, an unusable path (any OS error), not a model, or
            not downloadable (one line + fix); also *any* other failure while loading
            (backends raise TypeError, RuntimeError, ... for a file that is not a model).
        OptionError: ``config.classes`` names a class the model does not have.

    With ``config.tiles`` or ``config.tile_regions`` set, the backend is wrapped in a
    :class:`~vidtrack.detection.tiling.TiledDetector` (see :mod:`vidtrack.detection.tiling`).
    """
    from vidtrack.detection.tiling import inner_config, wrap_for_tiles

    tiled = config.tiles != "off" or bool(config.tile_regions)
    try:
        inner = _load(inner_config(config) if tiled else config)
        return wrap_for_tiles(inner, config) if tiled else inner
    except VidtrackError:
        raise
    except OSError as exc:
        raise path_error(ModelError, "read model", config.model, exc) from exc
    except Exception as exc:  # every backend has its own exception types for a bad file
        raise ModelError(
            f"{short_path(config.model)} is not a model vidtrack can load ({exception_cause(exc)})",
            "pass --model with a .pt/.onnx file or an exported model folder, or set VIDTRACK_MODEL",
        ) from exc


def _load(config: DetectorConfig) -> Detector:
    model = config.model
    path = Path(model).expanduser()
    mode = stat_mode(path) if looks_like_path(model) else None
    if looks_like_path(model):
        if mode is None:
            raise ModelError(
                f"no model at {short_path(model)}", "pass --model PATH to an existing model or set VIDTRACK_MODEL"
            )
        check_readable(path, ModelError, "read model")
        if stat.S_ISREG(mode) and path.suffix.lower() not in MODEL_FILE_SUFFIXES:
            raise ModelError(
                f"{short_path(model)} is not a model file ({path.suffix or 'no suffix'})",
                f"pass --model with a {', '.join(MODEL_FILE_SUFFIXES[:5])}... file or an exported model folder",
            )
    backend = config.backend
    if backend == "auto":
        # OpenVINO exports run directly (tested box-for-box against Ultralytics on coco128).
        # ONNX files go through Ultralytics unless --backend onnx asks for the direct path,
        # which has only been tested on synthetic models so far.
        backend = "openvino" if mode is not None and stat.S_ISDIR(mode) and any(path.glob("*.xml")) else "ultralytics"
        if path.suffix.lower() == ".pt" and _export_applies(config.device):
            exported = _openvino_export_of(config)
            if exported is not None:
                from dataclasses import replace

                from vidtrack.detection.openvino import OpenVINODetector

                return OpenVINODetector(replace(config, model=str(exported)))
    if backend == "openvino":
        from vidtrack.detection.openvino import OpenVINODetector

        return OpenVINODetector(config)
    if backend == "onnx":
        from vidtrack.detection.onnx import OnnxDetector

        return OnnxDetector(config)
    from vidtrack.detection.ultralytics import UltralyticsDetector

    return UltralyticsDetector(config)


def _export_applies(device: str | None) -> bool:
    from vidtrack.detection.export import export_applies

    return export_applies(device)


def _openvino_export_of(config: DetectorConfig) -> Path | None:
    """The cached OpenVINO export of the ``.pt`` model ``config.model`` (exported on first use).

    A bare name that is not on disk (``yolo11n.pt``) is downloaded by Ultralytics first.
    Returns None, after logging why, when the weights cannot be exported: the caller then
    runs them through PyTorch as before.
    """
    import logging

    from vidtrack.detection.export import ExportError, cached_openvino_export

    weights = Path(config.model).expanduser()
    if not weights.is_file():
        from vidtrack.detection.ultralytics import load_yolo

        weights = Path(load_yolo(config.model).ckpt_path)
    try:
        return cached_openvino_export(weights)
    except ExportError as exc:
        logging.getLogger("vidtrack").warning("running %s through PyTorch: %s", weights.name, exc.one_line())
        return None
