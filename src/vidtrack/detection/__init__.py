"""Object detectors: an image in, ``supervision.Detections`` out.

``load_detector(config)`` picks the backend from the model: an OpenVINO folder or an
``.onnx`` file runs through its runtime directly (no torch import), anything else through
``ultralytics.YOLO``.
"""

from vidtrack.detection.base import Detector, load_detector

__all__ = ["Detector", "load_detector"]
