"""A .pt model on CPU is exported to OpenVINO once, cached, and gives PyTorch's outputs.

Offline CI has no trained .pt, so the model is YOLO11n built from Ultralytics' bundled
``yolo11n.yaml`` with seeded random weights: the export path is the same for any weights.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from vidtrack.config import DetectorConfig
from vidtrack.detection import export
from vidtrack.detection import load_detector


@pytest.fixture(scope="module")
def random_pt(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """YOLO11n with seeded random weights, saved as a .pt file (~5 MB)."""
    import torch
    from ultralytics import YOLO

    torch.manual_seed(0)
    path = tmp_path_factory.mktemp("weights") / "random11n.pt"
    YOLO("yolo11n.yaml", task="detect").save(str(path))
    return path


def _torch_output(weights: Path, blob: np.ndarray) -> np.ndarray:
    """The PyTorch model's raw (1, 4 + classes, anchors) output for a preprocessed blob."""
    import torch

    from vidtrack.detection.ultralytics import load_yolo

    net = load_yolo(str(weights)).model.float().eval()
    with torch.no_grad():
        out = net(torch.from_numpy(blob.copy()))
    return (out[0] if isinstance(out, (list, tuple)) else out).numpy()


def test_first_use_exports_once_and_matches_pytorch(
    random_pt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from vidtrack.detection.openvino import OpenVINODetector
    from vidtrack.detection.perturb import perturb_output
    from vidtrack.detection.yolo_io import InputBuffer

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    caplog.set_level(logging.INFO, logger="vidtrack")
    detector = load_detector(DetectorConfig(model=str(random_pt), device="cpu"))
    assert isinstance(detector, OpenVINODetector)
    exported = [r.getMessage() for r in caplog.records if "exported" in r.getMessage()]
    assert len(exported) == 1 and "random11n.pt" in exported[0], exported
    folder = export.export_dir_for(random_pt)
    assert folder.parent == tmp_path / "cache" / "vidtrack" / "exports" and export.has_model(folder)
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".export-")]  # no leftovers

    # Same weights, same preprocessed input: OpenVINO (FP32) and PyTorch agree.
    image = np.random.default_rng(7).integers(0, 256, (360, 640, 3), dtype=np.uint8)
    box = detector.letterbox_for(image.shape[:2])
    ov_raw = detector.raw_output(image, box)
    blob = InputBuffer().fill(image, box)
    # Under the numerics pass (VIDTRACK_TEST_PERTURB) the backend's raw output is moved as on another
    # CPU; the PyTorch reference runs outside any backend, so it gets the same move for the same input.
    torch_raw = perturb_output(_torch_output(random_pt, blob), blob)
    assert ov_raw.shape == torch_raw.shape and ov_raw.shape[1] == 84
    np.testing.assert_allclose(ov_raw[:, :4], torch_raw[:, :4], atol=0.05)  # box coordinates, pixels
    np.testing.assert_allclose(ov_raw[:, 4:], torch_raw[:, 4:], atol=1e-4)  # class scores, 0-1
    names = detector.detect(image).data.get("class_name", [])
    assert set(names) <= set(detector.class_names.values())

    # Second use: the cached export, no new export and no new log line.
    caplog.clear()

    def no_export(*_args: object) -> float:
        raise AssertionError("exported again despite the cache")

    monkeypatch.setattr(export, "_export", no_export)
    again = load_detector(DetectorConfig(model=str(random_pt), device="cpu"))
    assert isinstance(again, OpenVINODetector) and Path(again.xml).parent == folder
    assert not [r for r in caplog.records if "exported" in r.getMessage()]


def test_ultralytics_backend_keeps_pytorch(random_pt: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vidtrack.detection.ultralytics import UltralyticsDetector

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    detector = load_detector(DetectorConfig(model=str(random_pt), backend="ultralytics", device="cpu"))
    assert isinstance(detector, UltralyticsDetector)
    assert not (tmp_path / "cache").exists()


@pytest.mark.parametrize(
    ("device", "applies"), [("cpu", True), ("intel:gpu", True), ("0", False), ("cuda:0", False), ("mps", False)]
)
def test_export_applies_to_cpu_and_openvino_devices_only(device: str, applies: bool) -> None:
    assert export.export_applies(device) is applies


def test_changed_weights_get_a_new_cache_key(tmp_path: Path) -> None:
    weights = tmp_path / "m.pt"
    weights.write_bytes(b"one")
    first = export.export_dir_for(weights, tmp_path)
    weights.write_bytes(b"two")
    second = export.export_dir_for(weights, tmp_path)
    assert first != second and first.name.startswith("m-") and "-ul" in first.name and "-ov" in first.name
