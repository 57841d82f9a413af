"""torchvision's detector families as a backend: ``--model torchvision:NAME[:PATH.pth]``.

The seed's three detector families side by side with YOLO: SSD (``ssdlite320_mobilenet_v3_large``,
``ssd300_vgg16``), two-stage R-CNN (``fasterrcnn_resnet50_fpn_v2``,
``fasterrcnn_mobilenet_v3_large_fpn``) and RetinaNet (``retinanet_resnet50_fpn_v2``).
``torchvision:NAME`` loads torchvision's COCO weights (downloaded and cached by torchvision on
first use); ``torchvision:NAME:PATH.pth`` builds the architecture without downloading anything
and loads a saved ``state_dict`` (offline machines, fine-tuned weights with the 91 COCO ids).

Every family returns ``sv.Detections`` like the YOLO backends: boxes in frame pixels
(torchvision's own transform resizes and maps them back), the same 80 COCO class names
(:data:`COCO91_TO_80` maps torchvision's 91 category ids; its 11 unused ids are dropped),
and ``--conf``, ``--classes``, ``--max-det`` and ``--single`` applied as for YOLO: the model's
score floor is ``--conf`` (boxes under it are dropped before NMS, as Ultralytics does) and its
cap ``--max-det``; classes and ``--single`` are applied to its output. ``--iou`` is not used:
each family keeps the NMS threshold it was trained with. ``--imgsz`` sets the shorter side the R-CNN and RetinaNet families resize to
(torchvision's default is 800; the longer side is capped at 1333/800 of it); the SSD
families always see their fixed 300 or 320 px input.

torch and torchvision are imported on first use only.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from vidtrack.config import DetectorConfig
from vidtrack.detection.base import keep_most_confident, make_detections, resolve_classes
from vidtrack.detection.registry import backend
from vidtrack.errors import ModelError, OptionError, exception_cause, short_path

if TYPE_CHECKING:
    import supervision as sv

PREFIX = "torchvision:"

#: The 80 COCO class names, in the order YOLO models number them (Ultralytics' coco.yaml).
COCO80 = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat", "traffic light",
    "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog", "horse", "sheep", "cow",
    "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella", "handbag", "tie", "suitcase", "frisbee",
    "skis", "snowboard", "sports ball", "kite", "baseball bat", "baseball glove", "skateboard", "surfboard",
    "tennis racket", "bottle", "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple",
    "sandwich", "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote", "keyboard", "cell phone",
    "microwave", "oven", "toaster", "sink", "refrigerator", "book", "clock", "vase", "scissors", "teddy bear",
    "hair drier", "toothbrush",
)
#: The COCO category ids (1-90) that name a class, in YOLO's order: torchvision's label ``COCO_IDS[i]`` is
#: YOLO class ``i``. The other ids (0 background; 12, 26, 29, 30, 45, 66, 68, 69, 71, 83: unused
#: in COCO 2017) are never reported.
COCO_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 27, 28, 31, 32, 33, 34,
    35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63,
    64, 65, 67, 70, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90,
)
#: torchvision label (0-90) -> YOLO class id (0-79), -1 for ids that name no class.
COCO91_TO_80 = np.full(91, -1, dtype=np.int64)
COCO91_TO_80[list(COCO_IDS)] = np.arange(len(COCO_IDS))


#: Family of each supported architecture: which constructor arguments set its score floor,
#: its detection cap and its input size.
ARCHITECTURES = {
    "ssdlite320_mobilenet_v3_large": "ssd",
    "ssd300_vgg16": "ssd",
    "fasterrcnn_resnet50_fpn_v2": "rcnn",
    "fasterrcnn_mobilenet_v3_large_fpn": "rcnn",
    "retinanet_resnet50_fpn_v2": "retinanet",
}


def parse_spec(model: str) -> tuple[str, Path | None]:
    """``"torchvision:NAME[:PATH]"`` -> (NAME, PATH or None).

    Raises:
        OptionError: an architecture this backend does not know (names the known ones).
    """
    rest = model[len(PREFIX):] if model.startswith(PREFIX) else model
    name, _, path = rest.partition(":")
    if name not in ARCHITECTURES:
        raise OptionError(f"--model {model!r}: torchvision has no detector {name!r} here",
                          f"use torchvision:NAME with NAME one of {', '.join(ARCHITECTURES)}")
    return name, (Path(path).expanduser() if path else None)


def build_model(name: str, config: DetectorConfig, weights: Any = None) -> Any:
    """The torchvision architecture ``name`` in eval mode, its thresholds set from ``config``.

    ``weights``: ``"DEFAULT"`` for torchvision's COCO weights (downloaded once), None for
    random weights (nothing is downloaded: the backbone is random too).
    """
    from torchvision.models import get_model

    family = ARCHITECTURES[name]
    kwargs: dict[str, Any] = {"weights": weights, "weights_backbone": None, "num_classes": 91}
    if weights is not None:
        kwargs.pop("weights_backbone")
        kwargs.pop("num_classes")
    if family in ("rcnn", "retinanet"):
        kwargs.update(min_size=config.imgsz, max_size=round(config.imgsz * 1333 / 800))
    model = get_model(name, **kwargs).eval()
    apply_thresholds(model, family, config)
    return model


def apply_thresholds(model: Any, family: str, config: DetectorConfig) -> None:
    """Set the model's score floor to ``--conf`` and its cap to ``--max-det``, as YOLO's NMS
    drops boxes under ``--conf`` before it runs (set before each call: a per-request copy may
    use other values)."""
    if family == "rcnn":
        model.roi_heads.score_thresh = config.conf
        model.roi_heads.detections_per_img = config.max_det
    else:  # SSD and RetinaNet keep both on the model itself
        model.score_thresh = config.conf
        model.detections_per_img = config.max_det


def to_detections(
    boxes: np.ndarray, scores: np.ndarray, labels: np.ndarray, config: DetectorConfig, class_ids: Sequence[int] | None
) -> "sv.Detections":
    """One image's torchvision output -> ``sv.Detections`` with YOLO's class ids and options.

    ``boxes`` (N, 4) xyxy in frame pixels, ``scores`` (N,), ``labels`` (N,) torchvision COCO
    ids. Keeps COCO classes only, ``score >= conf``, ``class_ids`` (None: all), then the
    ``max_det`` most confident (and with ``single`` only the best one).
    """
    labels = np.asarray(labels, dtype=np.int64).reshape(-1)
    inside = (labels >= 0) & (labels < len(COCO91_TO_80))
    cls = np.where(inside, COCO91_TO_80[np.clip(labels, 0, len(COCO91_TO_80) - 1)], -1)
    scores = np.asarray(scores, dtype=np.float32).reshape(-1)
    keep = (cls >= 0) & (scores >= config.conf)
    if class_ids is not None:
        keep &= np.isin(cls, list(class_ids))
    order = np.flatnonzero(keep)
    order = order[np.argsort(-scores[order], kind="stable")][: config.max_det]
    names = dict(enumerate(COCO80))
    detections = make_detections(np.asarray(boxes, dtype=np.float32).reshape(-1, 4)[order], scores[order], cls[order], names)
    return keep_most_confident(detections) if config.single else detections


class TorchvisionDetector:
    """A torchvision detection model on BGR frames; ``detect_many`` runs a list in one forward pass."""

    max_in_flight = 1  # one model, one forward pass at a time

    def __init__(self, config: DetectorConfig) -> None:
        name, path = parse_spec(config.model)
        self.config = config
        self.name = name
        try:
            import torch
        except ImportError as exc:  # pragma: no cover - torch comes with ultralytics
            raise ModelError("the torch package is needed for torchvision models", "pip install vidtrack") from exc
        self._torch = torch
        self.device = torch.device(_torch_device(config.device))
        self.model = _load_model(name, path, config).to(self.device)
        self.class_names: dict[int, str] = dict(enumerate(COCO80))
        self.class_ids = resolve_classes(config.classes, self.class_names)
        self._lock = threading.Lock()

    def warmup(self, image_hw: tuple[int, int]) -> None:
        """One forward pass on a black frame of ``image_hw`` (allocates torch's buffers)."""
        self.detect(np.zeros((*image_hw, 3), dtype=np.uint8))

    def detect(self, image: np.ndarray) -> "sv.Detections":
        """Objects in one BGR image (H, W, 3) uint8; boxes in its pixels."""
        return self.detect_many([image])[0]

    def detect_many(self, images: Sequence[np.ndarray]) -> list["sv.Detections"]:
        """Objects in each BGR image, one forward pass for all (sizes may differ)."""
        torch = self._torch
        tensors = [
            torch.from_numpy(np.ascontiguousarray(img[:, :, ::-1])).to(self.device).permute(2, 0, 1).float().div_(255)
            for img in images
        ]
        with self._lock, torch.inference_mode():
            apply_thresholds(self.model, ARCHITECTURES[self.name], self.config)
            outputs = self.model(tensors)
        return [
            to_detections(o["boxes"].cpu().numpy(), o["scores"].cpu().numpy(), o["labels"].cpu().numpy(),
                          self.config, self.class_ids)
            for o in outputs
        ]


def _torch_device(device: str | None) -> str:
    """``--device`` as torch names it: None/cpu -> cpu, ``0`` -> cuda:0."""
    if device is None or device == "":
        return "cpu"
    return f"cuda:{device}" if device.isdigit() else device


def _load_model(name: str, path: Path | None, config: DetectorConfig) -> Any:
    """Build ``name`` and load its weights: the ``state_dict`` at ``path``, or torchvision's COCO weights.

    Raises:
        ModelError: no file at ``path``, a file that is not this architecture's state dict, or
            COCO weights that cannot be downloaded (offline).
    """
    import torch

    if path is None:
        try:
            return build_model(name, config, weights="DEFAULT")
        except Exception as exc:  # URLError, RuntimeError (hash), OSError...
            raise ModelError(
                f"torchvision's COCO weights for {name} are not cached and could not be downloaded ({exception_cause(exc)})",
                f"connect once to let torchvision cache them, or pass --model torchvision:{name}:PATH.pth",
            ) from exc
    if not path.is_file():
        raise ModelError(f"no state dict at {short_path(path)}", f"pass --model torchvision:{name}:PATH to a saved .pth file")
    model = build_model(name, config)
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        if isinstance(state, dict) and "model" in state and isinstance(state["model"], dict):
            state = state["model"]  # torchvision's reference training scripts save {"model": ...}
        model.load_state_dict(state)
    except Exception as exc:
        raise ModelError(
            f"{short_path(path)} is not a {name} state dict ({exception_cause(exc)})",
            f"save it with torch.save(model.state_dict(), PATH) from torchvision's {name} with 91 classes",
        ) from exc
    return model


@backend("torchvision", prefix=PREFIX)
def load_torchvision(config: DetectorConfig) -> TorchvisionDetector:
    """The ``torchvision`` backend: ``--model torchvision:NAME[:PATH.pth]``."""
    return TorchvisionDetector(config)
