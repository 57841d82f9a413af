"""The server's one model, and the JSON shapes of the image routes.

``DetectionService`` loads the model once; every image request and every video job uses
it through :func:`vidtrack.detection.base.with_options`, which changes the thresholds
per request without loading anything. The result of one detection is reshaped three
ways, never recomputed: vidtrack's own (``/v1/detect``), DeepStack's
(``/v1/vision/detection``) and image-tagging clients' (``/v1/tags``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.labels import class_names, tags

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.detection import Detector


#: Image size (height, width) the model is compiled for at start-up: landscape 4:3, as
#: most of coco128 and many cameras' photos.
WARMUP_HW = (480, 640)
#: Pictures decoded and detected at once (image requests, and the check of a video upload's
#: first frame). A 50-megapixel picture holds about 150 MB decoded: 2 at once bound memory
#: while keeping a 2-core machine busy (the model runtime uses every core anyway).
DETECT_SLOTS = 2


class DetectionService:
    """One loaded detector shared by all requests and jobs (thread-safe as the backend is).

    Raises:
        ModelError: the model cannot be loaded (from ``load_detector``).
    """

    def __init__(self, config: DetectorConfig, *, lazy: bool = False) -> None:
        """Load ``config``'s model now, or with ``lazy`` at the first request that needs it
        (``vidtrack serve --review``: browsing recorded events needs no model).

        Raises:
            ModelError: the model cannot be loaded (now; with ``lazy``, from :attr:`detector`).
        """
        import cv2

        # Requests already run side by side on the server's threads, and the model runtime
        # uses every core: OpenCV's own thread pool on top would only oversubscribe the CPU.
        cv2.setNumThreads(1)
        import threading

        self.config = config
        #: Held around each decode+detect (see :data:`DETECT_SLOTS`).
        self.slots = threading.BoundedSemaphore(DETECT_SLOTS)
        self.slots_total = DETECT_SLOTS
        self.model_name = Path(config.model).name or str(config.model)
        self._detector: Detector | None = None
        self._loading = threading.Lock()
        if not lazy:
            self._load()

    @property
    def detector(self) -> "Detector":
        """The shared model, loaded (and warmed up) on first use when the service is lazy.

        Raises:
            ModelError: the model cannot be loaded; a later request tries again.
        """
        return self._detector if self._detector is not None else self._load()

    def _load(self) -> "Detector":
        from vidtrack.detection import load_detector

        with self._loading:
            if self._detector is None:
                detector = load_detector(self.config)
                detector.warmup(WARMUP_HW)  # compile for the commonest photo shape now, not on the first request
                self._detector = detector
            return self._detector

    @property
    def backend(self) -> str:
        """The runtime that runs the model: openvino, onnx or ultralytics."""
        return type(self.detector).__module__.rsplit(".", 1)[-1]

    def describe(self) -> dict[str, Any]:
        """``GET /v1/models``: the model's name, classes, input size and backend."""
        names = self.detector.class_names
        return {
            "models": [
                {
                    "name": self.model_name,
                    "backend": self.backend,
                    "input_size": [self.config.imgsz, self.config.imgsz],
                    "classes": [names[i] for i in sorted(names)],
                    "defaults": {"conf": self.config.conf, "iou": self.config.iou, "max_det": self.config.max_det},
                }
            ]
        }

    def detector_for(self, **options: Any) -> "Detector":
        """The shared detector with per-request ``conf``/``iou``/``classes``/``max_det``/``single``.

        Raises:
            OptionError: a bad value or an unknown class.
        """
        from vidtrack.detection.base import with_options

        return with_options(self.detector, **{k: v for k, v in options.items() if v is not None})

    def detector_for_config(self, config: DetectorConfig) -> "Detector":
        """The shared model run as ``config`` asks: its per-call thresholds and, when set, its
        tiling (a :class:`~vidtrack.detection.tiling.TiledDetector` around the shared model).

        ``config``'s model, input size, device and backend are the server's (jobs cannot set them).

        Raises:
            OptionError: a bad value or an unknown class.
        """
        from vidtrack.detection.base import PER_CALL_OPTIONS, with_options
        from vidtrack.detection.tiling import wrap_for_tiles

        changes = {name: value for name, value in vars(config).items() if name in PER_CALL_OPTIONS}
        tiled = config.tiles != "off" or bool(config.tile_regions)
        if tiled:
            changes["single"] = False  # the tiled merge applies it once, at the end
        inner = with_options(self.detector, **changes)
        return wrap_for_tiles(inner, config) if tiled else inner

    def detect(self, image: np.ndarray, **options: Any) -> tuple["sv.Detections", float]:
        """Detections in one BGR image and the milliseconds the detector took.

        Raises:
            OptionError: a bad option value.
        """
        detector = self.detector_for(**options)
        start = time.perf_counter()
        detections = detector.detect(image)
        return detections, (time.perf_counter() - start) * 1000.0


def detect_payload(detections: "sv.Detections", width: int, height: int, model: str, time_ms: float) -> dict[str, Any]:
    """``POST /v1/detect``'s answer.

    ``box`` is x, y (top-left), w, h in pixels of the image as displayed (EXIF orientation
    applied), rounded to 0.1 like ``vidtrack run``'s JSONL; ``box_normalized`` is the same
    box as fractions of the width/height (Google Vision style); detections most confident first.
    """
    order = np.argsort(-detections.confidence, kind="stable") if len(detections) else []
    names = class_names(detections)
    items = []
    for i in order:
        x1, y1, x2, y2 = (float(v) for v in detections.xyxy[i])
        items.append({
            "class": names[i],
            "class_id": int(detections.class_id[i]),
            "confidence": round(float(detections.confidence[i]), 3),
            "box": {"x": round(x1, 1), "y": round(y1, 1), "w": round(x2 - x1, 1), "h": round(y2 - y1, 1)},
            "box_normalized": {
                "left": round(x1 / width, 4), "top": round(y1 / height, 4),
                "width": round((x2 - x1) / width, 4), "height": round((y2 - y1) / height, 4),
            },
        })
    return {
        "image": {"width": width, "height": height},
        "model": model,
        "time_ms": round(time_ms, 1),
        "tags": tags(detections),
        "detections": items,
    }


def deepstack_payload(detections: "sv.Detections") -> dict[str, Any]:
    """DeepStack's ``/v1/vision/detection`` answer: labels, 0-1 confidences, integer corners."""
    predictions = []
    names = class_names(detections)
    for i in np.argsort(-detections.confidence, kind="stable") if len(detections) else []:
        x1, y1, x2, y2 = (int(round(float(v))) for v in detections.xyxy[i])
        predictions.append({
            "label": names[i],
            "confidence": round(float(detections.confidence[i]), 4),
            "x_min": x1, "y_min": y1, "x_max": x2, "y_max": y2,
        })
    return {"success": True, "predictions": predictions}


def tags_payload(detections: "sv.Detections") -> dict[str, Any]:
    """Image-tagging clients' answer: ``{"tags": {"auto": {label: 0-100}, "user": null}}``."""
    return {"tags": {"auto": tags(detections), "user": None}}
