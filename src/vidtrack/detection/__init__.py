"""Object detectors: an image in, ``supervision.Detections`` out.

``load_detector(config)`` picks the backend from the model: an exported OpenVINO folder
runs through OpenVINO directly (no torch import), anything else through
``ultralytics.YOLO``; ``backend="onnx"`` runs an ``.onnx`` file through ONNX Runtime.
"""

from vidtrack.detection.base import Detector, load_detector

__all__ = ["Detector", "load_detector"]
