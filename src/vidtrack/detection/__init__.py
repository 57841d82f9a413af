"""Object detectors: an image in, ``supervision.Detections`` out.

``load_detector(config)`` picks the backend from the registry (:mod:`vidtrack.detection.registry`):
an exported OpenVINO folder runs through OpenVINO directly (no torch import), ``torchvision:NAME``
through torchvision's SSD/R-CNN/RetinaNet families, ``rtdetr-*.pt`` through Ultralytics' RT-DETR,
anything else through ``ultralytics.YOLO``; ``backend="onnx"`` runs an ``.onnx`` file through
ONNX Runtime.
"""

from vidtrack.detection.base import Detector
from vidtrack.detection.registry import load_detector

__all__ = ["Detector", "load_detector"]
