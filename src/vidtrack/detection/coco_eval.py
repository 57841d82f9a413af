"""COCO detection scores (AP, AP50, AP by object size) for YOLO-format labels.

``vidtrack eval-detect IMAGES LABELS`` runs a detector over a folder of images and scores
its boxes against the YOLO label files (``class cx cy w h`` normalised to the image, one
object per line, ``LABELS/<image stem>.txt``; an image without a label file has no objects)
with pycocotools' ``COCOeval`` (bbox, 101-point interpolated AP over IoU 0.50:0.95;
small/medium/large = box area below 32², below 96², above, in image pixels).
"""

from __future__ import annotations

import contextlib
import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from vidtrack.errors import OptionError, SourceError

if TYPE_CHECKING:
    from vidtrack.detection.base import Detector


@dataclass(frozen=True)
class Objects:
    """Boxes of one image: ``xyxy`` (N, 4) float pixels, ``class_id`` (N,), ``confidence`` (N,) (1 for labels)."""

    xyxy: np.ndarray
    class_id: np.ndarray
    confidence: np.ndarray


@dataclass(frozen=True)
class DetectionScores:
    """COCO bbox scores in [0, 1] (-1 where COCOeval has no object of that size), plus run facts."""

    ap: float
    ap50: float
    ap_small: float
    ap_medium: float
    ap_large: float
    images: int = 0
    seconds: float = 0.0  # detector time only, summed over images

    def line(self) -> str:
        """``AP 0.xxx AP50 0.xxx AP_small 0.xxx AP_medium 0.xxx AP_large 0.xxx``."""
        return (
            f"AP {self.ap:.3f} AP50 {self.ap50:.3f} AP_small {self.ap_small:.3f} "
            f"AP_medium {self.ap_medium:.3f} AP_large {self.ap_large:.3f}"
        )


def read_yolo_labels(path: Path, image_hw: tuple[int, int]) -> Objects:
    """One YOLO label file -> boxes in pixels of an image of ``image_hw``; a missing file is no objects.

    Raises:
        SourceError: a line that is not ``class cx cy w h`` numbers.
    """
    h, w = image_hw
    if not path.exists():
        return Objects(np.zeros((0, 4), np.float64), np.zeros(0, np.int64), np.zeros(0, np.float64))
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        parts = line.split()
        try:
            values = [float(v) for v in parts[:5]]
        except ValueError:
            values = []
        if len(values) != 5:
            raise SourceError(f"{path}:{number} is not 'class cx cy w h'", "use YOLO-format label files (normalised boxes)")
        rows.append(values)
    data = np.asarray(rows, np.float64).reshape(-1, 5)
    cx, cy, bw, bh = data[:, 1] * w, data[:, 2] * h, data[:, 3] * w, data[:, 4] * h
    xyxy = np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], axis=1)
    return Objects(xyxy, data[:, 0].astype(np.int64), np.ones(len(data)))


def coco_scores(truth: Sequence[Objects], found: Sequence[Objects], image_hw: Sequence[tuple[int, int]]) -> DetectionScores:
    """Score detections against ground truth, image by image, with pycocotools' COCOeval.

    Args:
        truth: ground-truth boxes per image (pixels).
        found: detections per image, same order (pixels, with confidences).
        image_hw: each image's height and width in pixels.

    Raises:
        OptionError: pycocotools is not installed (the fix names the extra).
    """
    try:
        from pycocotools.coco import COCO
        from pycocotools.cocoeval import COCOeval
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise OptionError("eval-detect needs pycocotools", "pip install 'vidtrack[eval]'") from exc
    images, annotations, results = [], [], []
    classes: set[int] = set()
    for image_id, (gt, det, (h, w)) in enumerate(zip(truth, found, image_hw), 1):
        images.append({"id": image_id, "height": int(h), "width": int(w)})
        for box, cls in zip(gt.xyxy, gt.class_id):
            bw, bh = float(box[2] - box[0]), float(box[3] - box[1])
            annotations.append({
                "id": len(annotations) + 1, "image_id": image_id, "category_id": int(cls) + 1,
                "bbox": [float(box[0]), float(box[1]), bw, bh], "area": bw * bh, "iscrowd": 0,
            })
            classes.add(int(cls))
        for box, cls, conf in zip(det.xyxy, det.class_id, det.confidence):
            results.append({
                "image_id": image_id, "category_id": int(cls) + 1, "score": float(conf),
                "bbox": [float(box[0]), float(box[1]), float(box[2] - box[0]), float(box[3] - box[1])],
            })
            classes.add(int(cls))
    if not annotations:
        raise OptionError("the labels hold no objects", "point LABELS at the folder of YOLO .txt files for these images")
    quiet = io.StringIO()  # pycocotools prints its progress; library code must not
    with contextlib.redirect_stdout(quiet):
        gt_api = COCO()
        gt_api.dataset = {
            "images": images, "annotations": annotations,
            "categories": [{"id": c + 1, "name": str(c)} for c in sorted(classes)],
        }
        gt_api.createIndex()
        if not results:
            return DetectionScores(0.0, 0.0, 0.0, 0.0, 0.0, len(images))
        dt_api = gt_api.loadRes(results)
        evaluator = COCOeval(gt_api, dt_api, "bbox")
        evaluator.evaluate()
        evaluator.accumulate()
        evaluator.summarize()
    s = evaluator.stats
    return DetectionScores(float(s[0]), float(s[1]), float(s[3]), float(s[4]), float(s[5]), len(images))


def list_eval_images(spec: str | Path) -> list[Path]:
    """The images of a folder or glob, in natural order.

    Raises:
        SourceError: nothing there (one line with the fix).
    """
    from vidtrack.sources.images import list_images

    files = list_images(str(spec))
    if not files:
        raise SourceError(f"no images in {spec}", "pass a folder or glob of .jpg/.png images")
    return files


def evaluate_detector(
    detector: "Detector",
    images: Sequence[Path],
    labels: Path,
    on_image: Callable[[int, int], None] | None = None,
) -> DetectionScores:
    """Run ``detector`` on each image and score it against ``labels/<stem>.txt``.

    Args:
        detector: any :class:`~vidtrack.detection.base.Detector` (tiled or not).
        images: image files.
        labels: folder of YOLO label files.
        on_image: called with (done, total) after each image (progress display).

    Raises:
        SourceError: LABELS is not a folder, or an image cannot be read.
    """
    import cv2

    if not labels.is_dir():
        raise SourceError(f"no label folder at {labels}", "pass the folder that holds the YOLO .txt label files")
    truth, found, sizes = [], [], []
    seconds = 0.0
    for i, path in enumerate(images):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise SourceError(f"{path} is not a readable image", "remove it or convert it to .jpg/.png")
        hw = (int(image.shape[0]), int(image.shape[1]))
        t0 = time.perf_counter()
        detections = detector.detect(image)
        seconds += time.perf_counter() - t0
        found.append(Objects(np.asarray(detections.xyxy, np.float64), np.asarray(detections.class_id), np.asarray(detections.confidence)))
        truth.append(read_yolo_labels(labels / f"{path.stem}.txt", hw))
        sizes.append(hw)
        if on_image is not None:
            on_image(i + 1, len(images))
    scores = coco_scores(truth, found, sizes)
    return DetectionScores(scores.ap, scores.ap50, scores.ap_small, scores.ap_medium, scores.ap_large, len(images), seconds)
