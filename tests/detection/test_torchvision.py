"""torchvision's detector families through the registry: random weights, no downloads.

Each architecture is built with ``weights=None, weights_backbone=None``, its state dict saved
and loaded back through ``--model torchvision:NAME:PATH``; nothing here touches the network.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vidtrack.config import DetectorConfig
from vidtrack.detection import load_detector
from vidtrack.errors import ModelError, OptionError

torch = pytest.importorskip("torch")
tv = pytest.importorskip("vidtrack.detection.torchvision")

#: The lightest architecture: the one the run and batching tests use.
LIGHT = "ssdlite320_mobilenet_v3_large"


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory):
    """name -> a state dict of that architecture with random weights (built once per module)."""
    folder = tmp_path_factory.mktemp("torchvision")
    cache: dict[str, Path] = {}

    def get(name: str) -> Path:
        if name not in cache:
            torch.manual_seed(0)
            model = tv.build_model(name, DetectorConfig(conf=0.0, imgsz=64))
            cache[name] = folder / f"{name}.pth"
            torch.save(model.state_dict(), cache[name])
        return cache[name]

    return get


def _load(saved, name: str, **options) -> "tv.TorchvisionDetector":
    return load_detector(DetectorConfig(model=f"torchvision:{name}:{saved(name)}", **{"conf": 0.0, "imgsz": 64, **options}))


@pytest.mark.parametrize("name", list(tv.ARCHITECTURES))
def test_each_architecture_loads_from_a_state_dict_and_detects_in_frame_pixels(saved, name: str) -> None:
    detector = _load(saved, name, max_det=20)
    assert isinstance(detector, tv.TorchvisionDetector)
    assert detector.class_names == dict(enumerate(tv.COCO80)) and len(detector.class_names) == 80
    image = np.random.default_rng(1).integers(0, 256, (96, 160, 3), dtype=np.uint8)
    detections = detector.detect(image)
    assert detections.xyxy.shape == (len(detections), 4) and len(detections) <= 20
    assert detections.confidence.shape == detections.class_id.shape == (len(detections),)
    if len(detections):
        assert detections.xyxy[:, [0, 2]].min() >= 0 and detections.xyxy[:, [0, 2]].max() <= 160 + 1e-3
        assert detections.xyxy[:, [1, 3]].min() >= 0 and detections.xyxy[:, [1, 3]].max() <= 96 + 1e-3
        assert set(detections.class_id.tolist()) <= set(range(80))
        assert list(detections.data["class_name"]) == [tv.COCO80[c] for c in detections.class_id]
        assert np.all(np.diff(detections.confidence) <= 0)  # most confident first


def test_boxes_are_in_frame_pixels_not_the_model_input(saved) -> None:
    """SSDlite sees 320x320; a 96x640 frame's boxes must reach past x=320 (they are scaled back)."""
    detector = _load(saved, LIGHT, max_det=300)
    image = np.random.default_rng(2).integers(0, 256, (96, 640, 3), dtype=np.uint8)
    xyxy = detector.detect(image).xyxy
    assert len(xyxy) and xyxy[:, 2].max() > 400 and xyxy[:, 3].max() <= 96 + 1e-3


def test_batch_gives_the_same_boxes_as_one_by_one(saved) -> None:
    detector = _load(saved, LIGHT, max_det=30)
    rng = np.random.default_rng(3)
    images = [rng.integers(0, 256, (120, 160, 3), dtype=np.uint8) for _ in range(2)]
    batch = detector.detect_many(images)
    for image, together in zip(images, batch):
        alone = detector.detect(image)
        np.testing.assert_allclose(together.xyxy, alone.xyxy, atol=1e-2)
        np.testing.assert_array_equal(together.class_id, alone.class_id)


def test_torchvision_ids_map_to_the_80_yolo_names() -> None:
    assert len(tv.COCO80) == len(set(tv.COCO80)) == len(tv.COCO_IDS) == 80
    mapping = tv.COCO91_TO_80
    assert mapping[1] == 0 and tv.COCO80[mapping[1]] == "person"
    assert tv.COCO80[mapping[3]] == "car" and tv.COCO80[mapping[90]] == "toothbrush" and tv.COCO80[mapping[44]] == "bottle"
    assert all(mapping[i] == -1 for i in (0, 12, 26, 29, 30, 45, 66, 68, 69, 71, 83))


def test_conf_classes_max_det_and_single_apply_as_for_yolo() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [2, 2, 12, 12], [3, 3, 13, 13], [4, 4, 14, 14]], np.float32)
    scores = np.array([0.9, 0.2, 0.6, 0.8, 0.95], np.float32)
    labels = np.array([1, 3, 3, 12, 1])  # person, car, car, (unused id), person
    out = tv.to_detections(boxes, scores, labels, DetectorConfig(conf=0.5), None)
    assert out.class_id.tolist() == [0, 0, 2] and out.confidence.tolist() == pytest.approx([0.95, 0.9, 0.6])
    np.testing.assert_array_equal(out.xyxy[0], boxes[4])  # boxes pass through in frame pixels
    assert tv.to_detections(boxes, scores, labels, DetectorConfig(conf=0.1), [2]).class_id.tolist() == [2, 2]
    assert len(tv.to_detections(boxes, scores, labels, DetectorConfig(conf=0.0, max_det=2), None)) == 2
    single = tv.to_detections(boxes, scores, labels, DetectorConfig(conf=0.0, single=True), None)
    assert len(single) == 1 and single.confidence[0] == pytest.approx(0.95)


def test_classes_option_resolves_against_the_80_names(saved) -> None:
    detector = _load(saved, LIGHT, classes=("person", "car"))
    assert detector.class_ids == [0, 2]


def test_bad_specs_are_one_line_errors(saved, tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="torchvision has no detector"):
        load_detector(DetectorConfig(model="torchvision:yolo"))
    with pytest.raises(ModelError, match="no state dict"):
        load_detector(DetectorConfig(model=f"torchvision:{LIGHT}:{tmp_path / 'missing.pth'}"))
    with pytest.raises(ModelError, match="is not a fasterrcnn_mobilenet_v3_large_fpn state dict") as info:
        load_detector(DetectorConfig(model=f"torchvision:fasterrcnn_mobilenet_v3_large_fpn:{saved(LIGHT)}", imgsz=64))
    assert "\n" not in str(info.value)


def test_rtdetr_checkpoints_go_to_the_rtdetr_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import vidtrack.detection.ultralytics as ul

    families = []
    monkeypatch.setattr(ul, "UltralyticsDetector", lambda config, family="YOLO": families.append(family) or "stub")
    weights = tmp_path / "rtdetr-l.pt"
    weights.write_bytes(b"not read by the stub")
    assert load_detector(DetectorConfig(model=str(weights))) == "stub"
    assert load_detector(DetectorConfig(model=str(weights), backend="ultralytics")) == "stub"
    assert families == ["RTDETR", "YOLO"]


def test_vidtrack_run_writes_a_playable_mp4(saved, tmp_path: Path) -> None:
    """A real picture (Ultralytics' bus.jpg, panned over 3 frames) through ``vidtrack run`` with SSDlite."""
    import av

    from vidtrack.demo import make_pan_clip, packaged_image

    clip = make_pan_clip(packaged_image(), tmp_path / "bus.mp4", frames=3, size=(160, 120))
    out = tmp_path / "out.mp4"
    done = subprocess.run(
        [sys.executable, "-m", "vidtrack", "run", str(clip), "--model", f"torchvision:{LIGHT}:{saved(LIGHT)}",
         "--conf", "0.5", "-o", str(out), "--jsonl", str(tmp_path / "t.jsonl"), "-q"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    with av.open(str(out)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(stream)]
    assert len(frames) == 3 and frames[0].shape == (120, 160, 3)
    assert len((tmp_path / "t.jsonl").read_text().splitlines()) == 3
