"""Any model Ultralytics loads (.pt, ONNX, OpenVINO, ...), run through ``ultralytics.YOLO``.

This is the reference backend: the direct OpenVINO/ONNX backends are tested to return
the same boxes. torch and ultralytics are imported here, on first use only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import keep_most_confident, looks_like_path, make_detections, resolve_classes
from vidtrack.detection.registry import backend
from vidtrack.errors import ModelError

if TYPE_CHECKING:
    import supervision as sv


def load_yolo(model: str, family: str = "YOLO"):  # -> ultralytics.YOLO
    """``ultralytics.YOLO(model)`` (or ``ultralytics.RTDETR`` for ``family="RTDETR"``) with its
    failures turned into one-line errors."""
    os.environ.setdefault("YOLO_VERBOSE", "False")  # ultralytics logs model loading to stdout otherwise
    # Ultralytics pip-installs missing optional packages at run time unless told not to: a run
    # (or a server answering a request) must never install software behind the user's back.
    os.environ.setdefault("YOLO_AUTOINSTALL", "false")
    try:
        import ultralytics
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ModelError(
            f"the ultralytics package is needed for model {model}", "pip install vidtrack (ultralytics is one of its dependencies)"
        ) from exc
    from vidtrack.detection.perturb import hook_ultralytics

    hook_ultralytics()  # the test-only numerics pass; a no-op unless VIDTRACK_TEST_PERTURB is set
    try:
        yolo = ultralytics.YOLO(model, task="detect") if family == "YOLO" else ultralytics.RTDETR(model)
        dict(yolo.names)  # loads the weights now: YOLO() defers some formats' checks to first use
        return yolo
    except Exception as exc:  # ultralytics raises many types here
        if looks_like_path(model):
            raise ModelError(
                f"{model} is not a model Ultralytics can load ({type(exc).__name__})",
                "pass --model with a .pt/.onnx file or an exported model folder",
            ) from exc
        raise ModelError(
            f"model {model!r} is not on disk and could not be downloaded (offline?)",
            "pass --model PATH to a local model or set VIDTRACK_MODEL",
        ) from exc


class UltralyticsDetector:
    """``ultralytics.YOLO(...).predict`` (or ``RTDETR``'s) on one frame at a time."""

    max_in_flight = 1  # YOLO.predict is not thread-safe

    def __init__(self, config: DetectorConfig, family: str = "YOLO") -> None:
        self.config = config
        self.model = load_yolo(config.model, family)
        self.class_names: dict[int, str] = dict(self.model.names)
        self.class_ids = resolve_classes(config.classes, self.class_names)
        self._lock = threading.Lock()

    def warmup(self, image_hw: tuple[int, int]) -> None:
        """Nothing to prepare: Ultralytics sets itself up on the first ``predict``."""

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """``predict`` on one BGR image: ``(N, 4)`` xyxy float pixels of that image, scores and classes.

        Applies the config's ``conf``, ``iou`` (NMS), ``imgsz``, ``device``, ``classes`` and
        ``max_det``; with ``single``, only the most confident box is kept. Calls are serialised
        (``YOLO.predict`` is not thread-safe). Errors of the model itself propagate as raised.
        """
        from vidtrack.detection.perturb import note_model_use

        note_model_use()  # test bookkeeping (tests/conftest.py); a no-op elsewhere
        cfg = self.config
        with self._lock:
            result = self.model.predict(
                image,
                conf=cfg.conf,
                iou=cfg.iou,
                imgsz=cfg.imgsz,
                device=cfg.device,
                classes=self.class_ids,
                max_det=cfg.max_det,
                verbose=False,
            )[0]
        boxes = result.boxes
        detections = make_detections(
            boxes.xyxy.cpu().numpy(), boxes.conf.cpu().numpy(), boxes.cls.cpu().numpy(), self.class_names
        )
        return keep_most_confident(detections) if cfg.single else detections


@backend("ultralytics")
def load_ultralytics(config: DetectorConfig) -> UltralyticsDetector:
    """The ``ultralytics`` backend: any model ``ultralytics.YOLO`` loads (.pt, .onnx, exports...)."""
    return UltralyticsDetector(config)


def _is_rtdetr(config: DetectorConfig, path: Path) -> bool:
    """An Ultralytics RT-DETR checkpoint (``rtdetr-l.pt``, ``rtdetr-x.pt``): by its name, as Ultralytics names them."""
    return path.name.lower().startswith("rtdetr") and path.suffix.lower() == ".pt"


@backend("rtdetr", claims=_is_rtdetr)
def load_rtdetr(config: DetectorConfig) -> UltralyticsDetector:
    """The ``rtdetr`` backend: Baidu's RT-DETR through ``ultralytics.RTDETR`` (NMS-free; ``--iou`` unused)."""
    return UltralyticsDetector(config, family="RTDETR")
