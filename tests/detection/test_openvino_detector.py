"""The OpenVINO backend's errors (synthetic folders) and its thread safety (real model)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from conftest import model_path, shared_path
from vidtrack.config import DetectorConfig
from vidtrack.detection import load_detector
from vidtrack.errors import ModelError, OptionError


def test_folder_without_xml_is_a_one_line_model_error(tmp_path: Path) -> None:
    (tmp_path / "metadata.yaml").write_text("names: {0: person}\n")
    with pytest.raises(ModelError) as info:
        load_detector(DetectorConfig(model=str(tmp_path), backend="openvino"))
    assert "no OpenVINO model" in str(info.value) and "\n" not in str(info.value)


def test_corrupt_model_is_a_one_line_model_error(tmp_path: Path) -> None:
    pytest.importorskip("openvino")
    (tmp_path / "model.xml").write_text("<net><layers><layer id='0' type='Bogus'")
    (tmp_path / "model.bin").write_bytes(b"\0" * 16)
    with pytest.raises(ModelError) as info:
        load_detector(DetectorConfig(model=str(tmp_path)))
    message = str(info.value)
    assert "not a readable OpenVINO model" in message and "\n" not in message


@pytest.fixture(scope="module")
def openvino_model() -> str:
    model = model_path()
    if not Path(model).is_dir():
        pytest.skip("VIDTRACK_MODEL is not an OpenVINO export")
    return model


@pytest.mark.realdata
def test_bad_metadata_and_unknown_class_are_reported(openvino_model: str, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    shutil.copytree(openvino_model, copy)
    (copy / "metadata.yaml").chmod(0o644)
    with pytest.raises(OptionError, match="unknown class 'unicorn'"):
        load_detector(DetectorConfig(model=str(copy), classes=("unicorn",)))
    (copy / "metadata.yaml").write_text("names: [unclosed\n")
    with pytest.raises(ModelError, match="unreadable"):
        load_detector(DetectorConfig(model=str(copy)))


@pytest.mark.realdata
def test_concurrent_calls_give_the_sequential_results(openvino_model: str) -> None:
    import cv2

    files = sorted(shared_path("assets", "coco128", "images", "train2017").glob("*.jpg"))[:12]
    images = [cv2.imread(str(f)) for f in files]
    video = cv2.VideoCapture(str(shared_path("assets", "videos", "people_street_1080p.mp4")))
    images += [video.read()[1] for _ in range(4)]
    video.release()
    detector = load_detector(DetectorConfig(model=openvino_model))
    assert detector.max_in_flight >= 2
    expected = [detector.detect(image) for image in images]
    with ThreadPoolExecutor(max_workers=detector.max_in_flight) as pool:
        got = list(pool.map(detector.detect, images * 2))
    for i, detections in enumerate(got):
        want = expected[i % len(images)]
        assert len(detections) == len(want)
        np.testing.assert_array_equal(detections.xyxy, want.xyxy)
        np.testing.assert_array_equal(detections.class_id, want.class_id)
    assert sum(len(d) for d in expected[-4:]) > 20  # the street frames are full of people
