"""Ultralytics-exported ``.onnx`` models run through ONNX Runtime directly (no torch).

Pre/post-processing from :mod:`yolo_io`, as in the OpenVINO backend; class names, input
size and the dynamic-shape flag come from the metadata Ultralytics writes into the file.
"""

from __future__ import annotations

import queue
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import resolve_classes
from vidtrack.detection.registry import backend
from vidtrack.detection.yolo_io import (
    InputBuffer,
    Letterbox,
    add_stage_times,
    parse_export_info,
    plan_letterbox,
    predictions_to_detections,
)
from vidtrack.errors import ModelError

if TYPE_CHECKING:
    import supervision as sv


class OnnxDetector:
    """YOLO detection with an Ultralytics ONNX export on ONNX Runtime's CPU provider.

    ``max_in_flight`` is 1 by default: one run already uses every core through ORT's
    intra-op threads, so a second concurrent run mostly adds contention.
    """

    def __init__(self, config: DetectorConfig, *, requests: int = 1, threads: int | None = None) -> None:
        self.config = config
        path = Path(config.model).expanduser()
        if not path.is_file():
            raise ModelError(f"no ONNX model at {path}", "pass --model with an exported .onnx file")
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise ModelError(f"the onnxruntime package is needed for {path}", "pip install 'vidtrack[onnx]'") from exc
        options = ort.SessionOptions()
        # threads: None lets ORT use every core; fewer leaves room for decode/encode stages
        if threads:
            options.intra_op_num_threads = threads
        try:
            self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own exception types for bad files
            first = str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
            raise ModelError(
                f"{path} is not a loadable ONNX model ({first})", "re-export it with `yolo export format=onnx`"
            ) from exc
        inputs = self._session.get_inputs()
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            raise ModelError(f"{path} does not take one NCHW image", "pass a YOLO detection model")
        self._input_name = inputs[0].name
        meta = self._session.get_modelmeta().custom_metadata_map
        try:
            self.info = parse_export_info(meta, str(path))
        except ValueError as exc:
            raise ModelError(str(exc), "export the model with Ultralytics (`yolo export format=onnx`)") from exc
        self.class_names: dict[int, str] = dict(self.info.names)
        self.class_ids = resolve_classes(config.classes, self.class_names)
        h, w = inputs[0].shape[2:]
        self._fixed_hw = (h, w) if isinstance(h, int) and isinstance(w, int) else None
        self._minimal_rect = self._fixed_hw is None and self.info.dynamic
        self._target_hw = self._fixed_hw or (config.imgsz, config.imgsz)
        self.max_in_flight = max(1, int(requests))
        self._buffers: queue.SimpleQueue[InputBuffer] = queue.SimpleQueue()
        for _ in range(self.max_in_flight):
            self._buffers.put(InputBuffer())

    def letterbox_for(self, image_hw: tuple[int, int]) -> Letterbox:
        """The input geometry used for an image of ``image_hw`` (as Ultralytics' ``predict``)."""
        return plan_letterbox(image_hw, self._target_hw, self.info.stride, self._minimal_rect)

    def warmup(self, image_hw: tuple[int, int]) -> None:
        """Nothing to prepare: the ONNX Runtime session is built when the model loads."""

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """Detect objects in one BGR uint8 image (thread-safe)."""
        return self.detect_timed(image, None)

    def detect_timed(self, image: np.ndarray, timings: dict[str, float] | None) -> "sv.Detections":
        """``detect`` that also adds preprocess/infer/postprocess milliseconds to ``timings``."""
        cfg = self.config
        box = self.letterbox_for(image.shape[:2])
        buffer = self._buffers.get()
        try:
            t1 = time.perf_counter()
            blob = buffer.fill(image, box)
            t2 = time.perf_counter()
            raw = self._session.run(None, {self._input_name: blob})[0]
            t3 = time.perf_counter()
            detections = predictions_to_detections(raw, box, cfg, self.class_ids, self.class_names, blob)
        finally:
            self._buffers.put(buffer)
        add_stage_times(timings, (t1, t2, t3, time.perf_counter()))
        return detections


@backend("onnx")
def load_onnx(config: DetectorConfig) -> OnnxDetector:
    """The ``onnx`` backend: an ``.onnx`` file run through ONNX Runtime directly."""
    return OnnxDetector(config)
