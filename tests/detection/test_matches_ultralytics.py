"""The direct-runtime detector returns Ultralytics' boxes and Ultralytics' mAP (issue 5).

Real model (VIDTRACK_MODEL or ../shared's OpenVINO INT8 YOLO11n) on ../shared coco128:
- every image: the same boxes as ``ultralytics.YOLO(model).predict`` (count, classes, IoU,
  confidence), with default options and with classes / max_det / iou / conf changed;
- mAP50-95 of the project's detections, scored with Ultralytics' own matching and AP code,
  within 0.005 of what ``YOLO(model).val`` reports in the same run;
- the OpenVINO path imports neither torch nor ultralytics.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT_ROOT, model_path, shared_path
from vidtrack.config import DetectorConfig
from vidtrack.detection import load_detector

pytestmark = pytest.mark.realdata


@pytest.fixture(scope="module")
def model() -> str:
    return model_path()


@pytest.fixture(scope="module")
def coco128() -> Path:
    return shared_path("assets", "coco128")


@pytest.fixture(scope="module")
def images(coco128: Path) -> list[tuple[str, np.ndarray]]:
    import cv2

    files = sorted((coco128 / "images" / "train2017").glob("*.jpg"))
    assert len(files) == 128
    return [(f.name, cv2.imread(str(f))) for f in files]


@pytest.fixture(scope="module")
def yolo(model: str):
    from ultralytics import YOLO

    return YOLO(model, task="detect")


#: End-to-end agreement allows for hardware numerics. OpenVINO's INT8 kernels differ slightly
#: between CPUs (AVX2, AVX-512 VNNI/BF16, AMX) and between static- and dynamic-shape compiles:
#: on an AMD EPYC with AVX-512 one image's confidences moved by up to 0.021 (0.780 -> 0.759),
#: so a box near the --conf floor or an NMS tie can come and go. Boxes are matched by IoU; a
#: box at least CONF_MARGIN above the floor must be found by both, with confidences within
#: CONF_TOLERANCE. Exactness is checked where it is CPU-independent: on identical raw output
#: (test_identical_raw_output_gives_identical_boxes).
CONF_MARGIN = 0.05
CONF_TOLERANCE = 0.05
MATCH_IOU = 0.9
#: Share of confident boxes allowed to differ anyway (an NMS decision flipped by a tiny
#: shift of two overlapping boxes' IoU around --iou).
MAX_UNMATCHED_SHARE = 0.02


def compare_detections(ours, theirs, conf_floor: float) -> tuple[int, int, int, float]:
    """(confident boxes, confident boxes unmatched on either side, matched, max |Δconf| of matched)."""
    from vidtrack.tracking.iou import greedy_match

    xyxy = theirs.xyxy.cpu().numpy()
    conf = theirs.conf.cpu().numpy()
    cls = theirs.cls.cpu().numpy().astype(int)
    pairs = greedy_match(ours.xyxy, xyxy, MATCH_IOU, ours.class_id, cls)
    sure = conf_floor + CONF_MARGIN
    confident = int((conf >= sure).sum() + (ours.confidence >= sure).sum())
    unmatched_theirs = np.setdiff1d(np.flatnonzero(conf >= sure), pairs[:, 1])
    unmatched_ours = np.setdiff1d(np.flatnonzero(ours.confidence >= sure), pairs[:, 0])
    worst = float(np.abs(ours.confidence[pairs[:, 0]] - conf[pairs[:, 1]]).max()) if len(pairs) else 0.0
    return confident, len(unmatched_theirs) + len(unmatched_ours), len(pairs), worst


@pytest.mark.parametrize(
    "options",
    [
        {},  # the defaults every user gets
        {"conf": 0.1, "iou": 0.5, "classes": ("person", "car", "dining table"), "max_det": 5},
    ],
    ids=["defaults", "conf-iou-classes-maxdet"],
)
def test_same_boxes_as_ultralytics_predict(options: dict, model: str, images, yolo) -> None:
    """End to end, on this CPU: the boxes Ultralytics finds, within hardware-numerics tolerance."""
    config = DetectorConfig(model=model, **options)
    detector = load_detector(config)
    if Path(model).is_dir():
        from vidtrack.detection.openvino import OpenVINODetector

        assert isinstance(detector, OpenVINODetector)
    class_ids = None
    if config.classes:
        by_name = {v: k for k, v in yolo.names.items()}
        class_ids = [by_name[c] for c in config.classes]
    # the options variant runs on a subset: it checks the option plumbing, not the model
    subset = images if not options else images[::8]
    confident = unmatched = matched = 0
    worst = 0.0
    for name, image in subset:
        ours = detector.detect(image)
        theirs = yolo.predict(
            image, conf=config.conf, iou=config.iou, classes=class_ids, max_det=config.max_det, verbose=False
        )[0].boxes
        if config.classes:
            assert set(ours.data["class_name"]) <= set(config.classes), name
        assert len(ours) <= config.max_det, name
        assert list(ours.data["class_name"]) == [yolo.names[int(c)] for c in ours.class_id], name
        c, u, m, w = compare_detections(ours, theirs, config.conf)
        confident, unmatched, matched, worst = confident + c, unmatched + u, matched + m, max(worst, w)
    assert matched > (300 if not options else 10)  # the comparison saw real detections
    assert worst <= CONF_TOLERANCE, f"matched boxes' confidence differs by up to {worst:.3f}"
    assert unmatched <= MAX_UNMATCHED_SHARE * confident, f"{unmatched} of {confident} confident boxes unmatched"


def test_identical_raw_output_gives_identical_boxes(model: str, images, yolo) -> None:
    """CPU-independent exactness: Ultralytics' own model input and raw output, fed through our
    letterbox, decoding, NMS and scaling, give exactly Ultralytics' boxes."""
    from vidtrack.detection.yolo_io import InputBuffer, decode_predictions, plan_letterbox, scale_to_source

    yolo.predict(images[0][1], verbose=False)  # builds the predictor
    predictor = yolo.predictor
    seen: dict[str, object] = {}
    inference = predictor.inference

    def spy(im, *args, **kwargs):
        seen["input"] = im.detach().cpu().numpy().copy()
        seen["raw"] = out = inference(im, *args, **kwargs)
        return out

    predictor.inference = spy
    stride = int(max(predictor.model.stride) if hasattr(predictor.model.stride, "__len__") else predictor.model.stride)
    boxes = 0
    try:
        for name, image in images:
            theirs = yolo.predict(image, verbose=False)[0].boxes
            their_input = seen["input"]
            hw = their_input.shape[2:]
            box = plan_letterbox(image.shape[:2], (640, 640), stride, minimal_rect=hw != (640, 640))
            assert box.input_hw == hw, name
            np.testing.assert_array_equal(InputBuffer().fill(image, box), their_input, err_msg=name)
            raw = seen["raw"]
            raw = raw[0] if isinstance(raw, (list, tuple)) else raw
            raw = raw.detach().cpu().numpy() if hasattr(raw, "detach") else np.asarray(raw)
            xyxy, conf, cls = decode_predictions(raw, 0.25, 0.7, None, 300)
            xyxy = scale_to_source(xyxy, box)
            assert len(xyxy) == len(theirs), f"{name}: {len(xyxy)} boxes, Ultralytics {len(theirs)}"
            np.testing.assert_array_equal(cls, theirs.cls.cpu().numpy().astype(int), err_msg=name)
            np.testing.assert_allclose(xyxy, theirs.xyxy.cpu().numpy(), atol=1e-3, err_msg=name)
            np.testing.assert_allclose(conf, theirs.conf.cpu().numpy(), atol=1e-6, err_msg=name)
            boxes += len(xyxy)
    finally:
        predictor.inference = inference
    assert boxes > 300


def test_single_keeps_the_most_confident_box(model: str, images) -> None:
    detector = load_detector(DetectorConfig(model=model))
    single = load_detector(DetectorConfig(model=model, single=True))
    for name, image in images[:6]:
        everything = detector.detect(image)
        one = single.detect(image)
        assert len(one) == min(1, len(everything)), name
        if len(one):
            assert one.confidence[0] == everything.confidence.max()


def _dataset_yaml(tmp_path: Path, coco128: Path, names: dict[int, str]) -> Path:
    """A dataset in tmp_path that reads ../shared's images in place (Ultralytics writes a label cache
    beside the labels, so the small label files are copied and the images linked)."""
    root = tmp_path / "coco128"
    (root / "images" / "train2017").mkdir(parents=True)
    for image in (coco128 / "images" / "train2017").glob("*.jpg"):  # per file: Ultralytics resolves folders
        (root / "images" / "train2017" / image.name).symlink_to(image)
    shutil.copytree(coco128 / "labels" / "train2017", root / "labels" / "train2017")
    data = tmp_path / "coco128.yaml"
    # JSON is valid YAML; the names must be the model's for Ultralytics' checks
    data.write_text(json.dumps({"path": str(root), "train": "images/train2017", "val": "images/train2017",
                                "names": {int(k): v for k, v in names.items()}}))
    return data


def _labels_xyxy(label_file: Path, shape: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    h, w = shape
    if not label_file.exists():
        return np.zeros((0, 4), np.float32), np.zeros(0, np.float32)
    rows = np.loadtxt(label_file, ndmin=2, dtype=np.float32)
    cx, cy, bw, bh = rows[:, 1] * w, rows[:, 2] * h, rows[:, 3] * w, rows[:, 4] * h
    return np.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], 1), rows[:, 0]


def _validator_protocol(detector, image: np.ndarray, imgsz: int = 640, stride: int = 32):
    """Ultralytics' validator input and NMS, done with the project's code and runtime.

    Its protocol differs from ``predict``: the long side is first resized to ``imgsz`` (area
    interpolation when shrinking), the letterbox adds half a stride of padding all round and
    never enlarges, and NMS keeps every class above the threshold per anchor.
    Returns the resized image's shape and its detections in that image's pixels.
    """
    import cv2

    from vidtrack.detection.yolo_io import decode_predictions, plan_letterbox, scale_to_source

    h0, w0 = image.shape[:2]
    r = imgsz / max(h0, w0)
    if r != 1:
        size = (min(math.ceil(w0 * r), imgsz), min(math.ceil(h0 * r), imgsz))
        image = cv2.resize(image, size, interpolation=cv2.INTER_LINEAR if r > 1 else cv2.INTER_AREA)
    h, w = image.shape[:2]
    if detector.letterbox_for((imgsz // 2, imgsz)).input_hw == (imgsz, imgsz):
        # a runtime that takes square inputs only (INT8 on AMX CPUs): the validator then drops
        # its rectangular batches and pads every image to imgsz x imgsz
        target = [imgsz, imgsz]
    else:
        aspect = h / w
        shape = (aspect, 1.0) if aspect < 1 else (1.0, 1 / aspect) if aspect > 1 else (1.0, 1.0)
        target = (np.ceil(np.array(shape) * imgsz / stride + 0.5).astype(int) * stride).tolist()
    box = plan_letterbox((h, w), (target[0], target[1]), stride, scaleup=False)
    raw = detector.raw_output(image, box)
    xyxy, conf, cls = decode_predictions(raw, 0.001, 0.7, None, 300, multi_label=True)
    return (h, w), scale_to_source(xyxy, box), conf, cls


def _map50_95(pairs, names: dict[int, str], tmp_path: Path) -> float:
    """mAP50-95 by Ultralytics' own matching (DetectionValidator) and AP code (DetMetrics)."""
    import torch
    from ultralytics.models.yolo.detect import DetectionValidator
    from ultralytics.utils.metrics import DetMetrics

    validator = DetectionValidator(save_dir=tmp_path / "val")
    metrics = DetMetrics(names=names)
    for name, (gt_xyxy, gt_cls), (xyxy, conf, cls) in pairs:
        preds = {"bboxes": torch.from_numpy(xyxy), "cls": torch.from_numpy(cls.astype(np.float32)),
                 "conf": torch.from_numpy(conf)}
        batch = {"bboxes": torch.from_numpy(gt_xyxy), "cls": torch.from_numpy(gt_cls.astype(np.float32))}
        metrics.update_stats({
            **validator._process_batch(preds, batch),
            "target_cls": gt_cls,
            "target_img": np.unique(gt_cls),
            "conf": conf,
            "pred_cls": cls.astype(np.float32),
            "im_name": name,
        })
    metrics.process(save_dir=tmp_path)
    return float(metrics.box.map)


def test_map50_95_matches_ultralytics_validator(model: str, coco128: Path, images, yolo, tmp_path: Path) -> None:
    """Our pre/post-processing and runtime, run with the validator's protocol, give its mAP50-95.

    Note: ``predict``'s protocol (what the app and every backend use, and what
    ``test_same_boxes_as_ultralytics_predict`` pins) scores lower on coco128 at conf 0.001:
    0.4998 for Ultralytics' own predict and for ours, against 0.5249 from ``val`` for the
    shared model; the gap is the validator's extra padding and multi-label NMS.
    """
    if not Path(model).is_dir():
        pytest.skip("VIDTRACK_MODEL is not an OpenVINO export")
    data = _dataset_yaml(tmp_path, coco128, yolo.names)
    reference = yolo.val(
        data=str(data), batch=1, imgsz=640, plots=False, verbose=False, workers=0, project=str(tmp_path / "runs")
    ).box.map
    assert not (coco128 / "labels" / "train2017.cache").exists(), "the test wrote into ../shared"

    detector = load_detector(DetectorConfig(model=model))
    pairs = []
    for name, image in images:
        hw, xyxy, conf, cls = _validator_protocol(detector, image)
        labels = _labels_xyxy(coco128 / "labels" / "train2017" / (Path(name).stem + ".txt"), hw)
        pairs.append((name, labels, (xyxy, conf, cls)))
    ours = _map50_95(pairs, yolo.names, tmp_path)
    assert 0.4 < reference < 0.7  # a sane model on coco128 (0.525 for the shared INT8 YOLO11n)
    assert abs(ours - reference) <= 0.005, f"mAP50-95 {ours:.4f} vs Ultralytics val {reference:.4f}"


def test_openvino_path_imports_neither_torch_nor_ultralytics(model: str, coco128: Path) -> None:
    if not Path(model).is_dir():
        pytest.skip("VIDTRACK_MODEL is not an OpenVINO export")
    image = coco128 / "images" / "train2017" / "000000000009.jpg"
    code = (
        "import sys, cv2\n"
        "from vidtrack.config import DetectorConfig\n"
        "from vidtrack.detection import load_detector\n"
        f"d = load_detector(DetectorConfig(model={model!r}))\n"
        f"n = len(d.detect(cv2.imread({str(image)!r})))\n"
        "print(n, sorted(m for m in ('torch', 'ultralytics', 'torchvision') if m in sys.modules))\n"
    )
    env_path = str(PROJECT_ROOT / "src")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": env_path})
    assert out.returncode == 0, out.stderr
    count, loaded = out.stdout.strip().split(" ", 1)
    assert int(count) > 0
    assert loaded == "[]"
