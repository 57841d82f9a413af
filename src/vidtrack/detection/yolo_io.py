"""YOLO pre- and post-processing in numpy/OpenCV, for runtimes that run the bare graph.

The direct OpenVINO and ONNX Runtime backends must return the same boxes as
``ultralytics.YOLO(model).predict``. So this module reproduces, step by step, what
Ultralytics does around the network for detection models:

- pre: ``LetterBox`` (aspect-preserving linear resize, grey 114 padding split around the
  image; with ``minimal_rect`` the padding only reaches the next multiple of the stride,
  which is what Ultralytics does for models with a dynamic input shape), BGR -> RGB,
  uint8 -> float32 / 255, HWC -> NCHW;
- post: ``non_max_suppression`` with ``multi_label=False, agnostic=False`` (best class per
  anchor, confidence filter, class filter, class-aware greedy NMS through a per-class
  coordinate offset, ``max_nms`` pre-cap, ``max_det`` cap), then ``scale_boxes`` back
  to the original image and clipping to it.

Floating-point steps are done in float32 in the same order as Ultralytics' torch code,
so results agree to the last few ulps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Sequence

import cv2
import numpy as np

if TYPE_CHECKING:
    import supervision as sv

    from vidtrack.config import DetectorConfig

PAD_VALUE = 114  # Ultralytics' letterbox grey
MAX_NMS = 30000  # Ultralytics: most candidates fed to NMS (highest confidence first)
MAX_WH = 7680  # Ultralytics: per-class offset that keeps classes apart in class-aware NMS


@dataclass(frozen=True, slots=True)
class Letterbox:
    """Where an image of ``source_hw`` lands inside a model input of ``input_hw``."""

    source_hw: tuple[int, int]
    input_hw: tuple[int, int]
    resized_wh: tuple[int, int]  # size of the image inside the input, without padding
    top: int
    left: int

    @property
    def gain_xy(self) -> tuple[float, float]:
        """Input pixels per source pixel, per axis (the two differ by rounding only)."""
        return self.resized_wh[0] / self.source_hw[1], self.resized_wh[1] / self.source_hw[0]


def plan_letterbox(
    source_hw: tuple[int, int],
    target_hw: tuple[int, int],
    stride: int = 32,
    minimal_rect: bool = False,
    scaleup: bool = True,
) -> Letterbox:
    """Ultralytics' ``LetterBox`` geometry (centre padding).

    ``minimal_rect`` (Ultralytics' ``auto``) pads only up to a multiple of ``stride``:
    a 1920x1080 frame at 640 becomes a 640x384 input instead of 640x640, about 40% less
    work. Only models with a dynamic input shape accept that. ``scaleup=False`` never
    enlarges the image (Ultralytics' validator does that; ``predict`` does not).
    """
    h, w = source_hw
    th, tw = target_hw
    r = min(th / h, tw / w)
    if not scaleup:
        r = min(r, 1.0)
    new_w, new_h = max(round(w * r), 1), max(round(h * r), 1)
    dw, dh = tw - new_w, th - new_h
    if minimal_rect:
        dw, dh = dw % stride, dh % stride
    top, bottom = round(dh / 2 - 0.1), round(dh / 2 + 0.1)
    left, right = round(dw / 2 - 0.1), round(dw / 2 + 0.1)
    return Letterbox(
        source_hw=(h, w),
        input_hw=(new_h + top + bottom, new_w + left + right),
        resized_wh=(new_w, new_h),
        top=top,
        left=left,
    )


class InputBuffer:
    """Reusable letterbox canvas and NCHW float32 blob for one in-flight inference.

    Each frame is resized straight into the canvas and converted straight into the blob,
    so a stream of same-sized frames allocates nothing per frame. The padding is only
    repainted when the letterbox geometry changes. Not thread-safe: one per request.
    """

    def __init__(self) -> None:
        self._canvas: np.ndarray | None = None
        self._blob: np.ndarray | None = None
        self._batch: np.ndarray | None = None  # (B, 3, H, W) for fill_many
        self._layout: Letterbox | None = None

    def fill(self, image: np.ndarray, box: Letterbox) -> np.ndarray:
        """Letterbox a BGR uint8 ``image`` and return the (1, 3, H, W) RGB blob in [0, 1].

        The returned array is reused by the next call.

        Raises:
            ValueError: ``image`` is not an HxWx3 uint8 array.
        """
        ih, iw = box.input_hw
        if self._blob is None or self._blob.shape != (1, 3, ih, iw):
            self._blob = np.empty((1, 3, ih, iw), np.float32)
        self._fill_into(image, box, self._blob[0])
        return self._blob

    def fill_many(self, images: Sequence[np.ndarray], boxes: Sequence[Letterbox]) -> np.ndarray:
        """Letterbox several images into one (B, 3, H, W) blob, one batch for one model call.

        Every ``boxes[i]`` must have the same ``input_hw``; the blob is reused by the next
        call with the same batch size.

        Raises:
            ValueError: the boxes disagree on the input size, or an image is not HxWx3 uint8.
        """
        sizes = {box.input_hw for box in boxes}
        if len(sizes) != 1 or len(images) != len(boxes):
            raise ValueError(f"a batch needs one input size per image, got {sorted(sizes)} for {len(images)} images")
        ih, iw = boxes[0].input_hw
        if self._batch is None or self._batch.shape != (len(images), 3, ih, iw):
            self._batch = np.empty((len(images), 3, ih, iw), np.float32)
        for i, (image, box) in enumerate(zip(images, boxes)):
            self._fill_into(image, box, self._batch[i])
        return self._batch

    def _fill_into(self, image: np.ndarray, box: Letterbox, out: np.ndarray) -> None:
        """Letterbox ``image`` on the canvas and write it as RGB float32 / 255 into ``out`` (3, H, W)."""
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 BGR image, got {image.dtype} {image.shape}")
        ih, iw = box.input_hw
        if self._canvas is None or self._canvas.shape[:2] != (ih, iw):
            self._canvas = np.empty((ih, iw, 3), np.uint8)
            self._layout = None
        canvas = self._canvas
        if self._layout != box:
            canvas[:] = PAD_VALUE
            self._layout = box
        new_w, new_h = box.resized_wh
        inner = canvas[box.top : box.top + new_h, box.left : box.left + new_w]
        if image.shape[:2] == (new_h, new_w):
            inner[:] = image
        else:
            # cv2 writes into the view when it has the exact size and type
            out_img = cv2.resize(image, (new_w, new_h), dst=inner, interpolation=cv2.INTER_LINEAR)
            if out_img is not inner and not np.shares_memory(out_img, canvas):  # pragma: no cover - cv2 fallback
                inner[:] = out_img
        # BGR -> RGB by reversing the channel axis; float32 division as in Ultralytics
        np.divide(canvas.transpose(2, 0, 1)[::-1], np.float32(255), out=out, dtype=np.float32)


def letterbox_image(image: np.ndarray, box: Letterbox) -> np.ndarray:
    """The letterboxed uint8 BGR image (allocates; for tests and one-off use)."""
    new_w, new_h = box.resized_wh
    resized = image if image.shape[:2] == (new_h, new_w) else cv2.resize(image, (new_w, new_h))
    ih, iw = box.input_hw
    bottom = ih - new_h - box.top
    right = iw - new_w - box.left
    return cv2.copyMakeBorder(
        resized, box.top, bottom, box.left, right, cv2.BORDER_CONSTANT, value=(PAD_VALUE,) * 3
    )


def nms(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float) -> np.ndarray:
    """Greedy NMS: indices of kept boxes, highest score first (torchvision's semantics).

    A box is dropped when its IoU with an already kept box is strictly above
    ``iou_threshold``; equal scores keep their input order.
    """
    if len(boxes) == 0:
        return np.empty(0, dtype=np.int64)
    x1, y1, x2, y2 = boxes[:, 0], boxes[:, 1], boxes[:, 2], boxes[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        if not rest.size:
            break
        w = np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest])
        h = np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest])
        inter = np.clip(w, 0, None) * np.clip(h, 0, None)
        iou = inter / (areas[i] + areas[rest] - inter)
        order = rest[~(iou > iou_threshold)]  # NaN IoU (two empty boxes) keeps the box, as torch does
    return np.asarray(keep, dtype=np.int64)


def decode_predictions(
    prediction: np.ndarray,
    conf_threshold: float,
    iou_threshold: float,
    class_ids: Sequence[int] | None = None,
    max_det: int = 300,
    max_nms: int = MAX_NMS,
    multi_label: bool = False,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Raw YOLO output for one image -> ``(xyxy, confidence, class_id)`` in input pixels.

    ``prediction`` is either ``(4 + nc, N)`` (cx, cy, w, h, class scores per anchor; the
    usual export) or ``(N, 6)`` rows of ``x1, y1, x2, y2, score, class`` from an
    end-to-end model that does its own NMS. A leading batch axis of 1 is dropped.
    ``multi_label`` keeps every class above the threshold per anchor instead of the best
    one only: what Ultralytics' validator does to score mAP, not what ``predict`` does.
    """
    if prediction.ndim == 3:
        if prediction.shape[0] != 1:
            raise ValueError(f"expected one image's predictions, got batch {prediction.shape[0]}")
        prediction = prediction[0]
    wanted = None if class_ids is None else np.asarray(list(class_ids), dtype=np.float32)
    if prediction.shape[-1] == 6:  # end-to-end: already NMSed
        rows = prediction[prediction[:, 4] > conf_threshold]
        if wanted is not None:
            rows = rows[np.isin(rows[:, 5], wanted)]
        rows = rows[:max_det].astype(np.float32)
        return rows[:, :4].copy(), rows[:, 4].copy(), rows[:, 5].astype(np.int64)

    num_classes = prediction.shape[0] - 4
    scores_all = prediction[4 : 4 + num_classes]
    best = scores_all.max(axis=0)
    candidates = np.flatnonzero(best > conf_threshold)
    empty = (np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))
    if not candidates.size:
        return empty
    x = prediction[:, candidates]
    if multi_label and num_classes > 1:
        # one row per (anchor, class) above the threshold, anchor-major as torch.where gives them
        anchor, class_id = np.nonzero(x[4:].T > conf_threshold)
        confidence = x[4 + class_id, anchor]
        x = x[:, anchor]
    else:
        confidence = best[candidates]
        class_id = x[4:].argmax(axis=0)
    if wanted is not None:
        mask = np.isin(class_id.astype(np.float32), wanted)
        x, confidence, class_id = x[:, mask], confidence[mask], class_id[mask]
    if not confidence.size:
        return empty
    if confidence.size > max_nms:
        top = np.argsort(-confidence, kind="stable")[:max_nms]
        x, confidence, class_id = x[:, top], confidence[top], class_id[top]
    xyxy = np.empty((confidence.size, 4), np.float32)
    half_w, half_h = x[2] / 2, x[3] / 2
    xyxy[:, 0] = x[0] - half_w
    xyxy[:, 1] = x[1] - half_h
    xyxy[:, 2] = x[0] + half_w
    xyxy[:, 3] = x[1] + half_h
    offset = (class_id.astype(np.float32) * np.float32(MAX_WH))[:, None]
    keep = nms(xyxy + offset, confidence, iou_threshold)[:max_det]
    return xyxy[keep], confidence[keep], class_id[keep]


def scale_to_source(xyxy: np.ndarray, box: Letterbox) -> np.ndarray:
    """Map input-pixel boxes back to the source image and clip them to it (in place)."""
    gain_x, gain_y = box.gain_xy
    xyxy[:, [0, 2]] -= box.left
    xyxy[:, [1, 3]] -= box.top
    xyxy[:, [0, 2]] /= gain_x
    xyxy[:, [1, 3]] /= gain_y
    h, w = box.source_hw
    xyxy[:, [0, 2]] = xyxy[:, [0, 2]].clip(0, w)
    xyxy[:, [1, 3]] = xyxy[:, [1, 3]].clip(0, h)
    return xyxy


@dataclass(frozen=True, slots=True)
class ExportInfo:
    """What an Ultralytics export says about its model (metadata.yaml / ONNX metadata)."""

    names: dict[int, str]
    imgsz: tuple[int, int]  # (h, w) the model was exported for
    stride: int
    dynamic: bool  # exported with a dynamic input shape: Ultralytics then letterboxes to a minimal rectangle
    end2end: bool  # the graph does its own NMS and outputs (N, 6) rows


def parse_export_info(meta: dict, source: str) -> ExportInfo:
    """Read Ultralytics export metadata; values may be strings (ONNX) or parsed (YAML).

    Raises ``ValueError`` naming ``source`` when the class names are missing.
    """
    import ast

    def value(key: str, default: object = None) -> object:
        v = meta.get(key, default)
        if isinstance(v, str) and key in ("names", "imgsz", "args", "end2end"):
            try:
                return ast.literal_eval(v)
            except (ValueError, SyntaxError):
                return default
        return v

    names = value("names")
    if isinstance(names, (list, tuple)):
        names = dict(enumerate(names))
    if not isinstance(names, dict) or not names:
        raise ValueError(f"{source} has no class names (not an Ultralytics export?)")
    imgsz = value("imgsz", [640, 640])
    if isinstance(imgsz, int):
        imgsz = [imgsz, imgsz]
    args = value("args", {}) or {}
    if not isinstance(args, dict):
        args = {}
    return ExportInfo(
        names={int(k): str(v) for k, v in names.items()},
        imgsz=(int(imgsz[0]), int(imgsz[1])),
        stride=int(meta.get("stride", 32)),
        dynamic=bool(args.get("dynamic", False)),
        end2end=bool(value("end2end", False) or args.get("nms", False)),
    )


def predictions_to_detections(
    raw: np.ndarray,
    box: Letterbox,
    config: "DetectorConfig",
    class_ids: Sequence[int] | None,
    names: dict[int, str],
    model_input: np.ndarray,
) -> "sv.Detections":
    """Raw model output for one letterboxed image -> ``sv.Detections`` in source pixels.

    NMS, the confidence/class filters and ``max_det`` as Ultralytics' ``predict`` applies
    them; ``config.single`` keeps only the most confident box. ``model_input`` is the tensor
    the model ran on for ``raw`` (``(1, 3, H, W)`` with a ``(1, ...)`` raw, ``(3, H, W)``
    with one image's raw): the test-only numerics pass (:mod:`vidtrack.detection.perturb`,
    ``VIDTRACK_TEST_PERTURB``) keys its noise on it; otherwise it is not read.
    """
    from vidtrack.detection.base import keep_most_confident, make_detections
    from vidtrack.detection.perturb import note_model_use, perturb_output

    note_model_use()
    raw = perturb_output(raw, model_input)
    xyxy, conf, cls = decode_predictions(raw, config.conf, config.iou, class_ids, config.max_det)
    scale_to_source(xyxy, box)
    detections = make_detections(xyxy, conf, cls, names)
    return keep_most_confident(detections) if config.single else detections


def add_stage_times(timings: dict[str, float] | None, marks: tuple[float, float, float, float]) -> None:
    """Add preprocess/infer/postprocess milliseconds from four ``perf_counter`` marks."""
    if timings is None:
        return
    t1, t2, t3, t4 = marks
    for stage, ms in (("preprocess", t2 - t1), ("infer", t3 - t2), ("postprocess", t4 - t3)):
        timings[stage] = timings.get(stage, 0.0) + ms * 1e3

