"""``vidtrack eval-detect``: COCO scores for YOLO labels (ground truth fed back scores 1.0)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vidtrack.detection.base import make_detections
from vidtrack.detection.coco_eval import evaluate_detector, list_eval_images, read_yolo_labels

LABELS = {  # image -> YOLO rows (class cx cy w h): small, medium and large objects
    "a": ["0 0.5 0.5 0.4 0.6", "2 0.1 0.1 0.05 0.05"],
    "b": ["0 0.3 0.6 0.2 0.3", "0 0.7 0.6 0.2 0.3", "1 0.5 0.1 0.1 0.08"],
    "c": [],  # background image: no label file
}


@pytest.fixture
def labelled(tmp_path: Path) -> tuple[Path, Path]:
    import cv2

    images, labels = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    labels.mkdir()
    for i, (stem, rows) in enumerate(LABELS.items()):
        cv2.imwrite(str(images / f"{stem}.png"), np.full((240, 320, 3), 40 * (i + 1), np.uint8))
        if rows:
            (labels / f"{stem}.txt").write_text("\n".join(rows) + "\n")
    return images, labels


class LabelDetector:
    """Answers with the labels of the image it is shown (known by its grey level), shifted by ``shift`` px."""

    class_names = {0: "person", 1: "bicycle", 2: "car"}
    max_in_flight = 1

    def __init__(self, labels: Path, shift: float = 0.0) -> None:
        self.labels, self.shift = labels, shift

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        stem = list(LABELS)[int(image[0, 0, 0]) // 40 - 1]
        truth = read_yolo_labels(self.labels / f"{stem}.txt", image.shape[:2])
        return make_detections(truth.xyxy + self.shift, np.full(len(truth.xyxy), 0.9), truth.class_id, self.class_names)


def test_ground_truth_as_detections_scores_one(labelled: tuple[Path, Path]) -> None:
    images, labels = labelled
    scores = evaluate_detector(LabelDetector(labels), list_eval_images(images), labels)
    assert scores.images == 3
    assert (scores.ap, scores.ap50, scores.ap_small, scores.ap_medium, scores.ap_large) == pytest.approx((1, 1, 1, 1, 1))
    assert scores.line() == "AP 1.000 AP50 1.000 AP_small 1.000 AP_medium 1.000 AP_large 1.000"


def test_shifted_boxes_score_less(labelled: tuple[Path, Path]) -> None:
    images, labels = labelled
    scores = evaluate_detector(LabelDetector(labels, shift=6.0), list_eval_images(images), labels)
    assert scores.ap < 0.9 and scores.ap_small < scores.ap_large


def test_cli_prints_the_scores_last(labelled: tuple[Path, Path], monkeypatch, capsys) -> None:
    from vidtrack import cli
    import vidtrack.detection

    images, labels = labelled
    monkeypatch.setattr(vidtrack.detection, "load_detector", lambda config: LabelDetector(labels))
    with pytest.raises(SystemExit) as done:
        cli.main(["eval-detect", str(images), str(labels), "--model", "stub", "--tiles", "auto"])
    assert done.value.code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last == "AP 1.000 AP50 1.000 AP_small 1.000 AP_medium 1.000 AP_large 1.000"


@pytest.mark.parametrize(
    "args, message",
    [
        (["nowhere", "labels"], "no images in nowhere"),
        (["IMAGES", "nowhere"], "no label folder at nowhere"),
        (["IMAGES", "LABELS", "--tiles", "lots"], "--tiles 'lots'"),
    ],
)
def test_cli_errors_are_one_line(labelled: tuple[Path, Path], args: list[str], message: str, capsys) -> None:
    from vidtrack import cli

    images, labels = labelled
    args = [str(images) if a == "IMAGES" else str(labels) if a == "LABELS" else a for a in args]
    with pytest.raises(SystemExit) as done:
        cli.main(["eval-detect", *args, "--model", "stub"])
    err = capsys.readouterr().err.strip()
    assert done.value.code == 2 and err.startswith("error: ") and message in err and "\n" not in err
