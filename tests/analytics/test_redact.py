"""Redaction: detail removed inside redacted boxes, nothing touched well outside, fail-closed on misses."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from conftest import make_clip
from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.analytics.redact import Redactor, RedactConfig
from vidtrack.analytics.stage import AnalyticsStage
from vidtrack.detection.base import make_detections
from vidtrack.errors import OptionError
from vidtrack.overlay import Overlay
from vidtrack.pipeline import Lane, Pipeline
from vidtrack.sources import open_source
from vidtrack.tracking import IoUTracker, TrackerConfig

NAMES = {0: "person", 1: "car"}


def detail(image: np.ndarray) -> float:
    """Variance of the Laplacian: high for fine texture, low for blurred or flat pixels."""
    return float(cv2.Laplacian(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.CV_64F).var())


def textured(rng: np.random.Generator, h: int = 240, w: int = 320) -> np.ndarray:
    return rng.integers(0, 256, (h, w, 3), dtype=np.uint8)


def tracked(boxes, ids, classes=None):
    classes = np.zeros(len(boxes), int) if classes is None else np.asarray(classes)
    det = make_detections(np.asarray(boxes, float).reshape(-1, 4), np.full(len(boxes), 0.9), classes, NAMES)
    det.tracker_id = np.asarray(ids, int)
    det.data["det_index"] = np.arange(len(boxes))
    return det


@pytest.mark.parametrize("mode", ["blur", "pixelate", "fill"])
def test_inside_loses_detail_outside_untouched(rng, mode):
    image = textured(rng)
    source = image.copy()
    redactor = Redactor(RedactConfig(classes=("person",), mode=mode, padding=0.1), NAMES)
    det = tracked([[100, 60, 180, 200]], [1])
    boxes, hidden = redactor.boxes(det, det)
    redactor.apply(image, boxes)
    inside = (slice(60, 200), slice(100, 180))
    assert detail(image[inside]) * 10 < detail(source[inside])
    # Well outside the padded box (8 px wide, 14 px high padding) nothing changed.
    outside = np.ones(image.shape[:2], bool)
    outside[60 - 16 : 200 + 16, 100 - 10 : 180 + 10] = False
    assert np.array_equal(image[outside], source[outside])
    assert hidden.tolist() == [True]


def test_other_classes_are_not_redacted(rng):
    image = textured(rng)
    source = image.copy()
    redactor = Redactor(RedactConfig(classes=("person",)), NAMES)
    det = tracked([[100, 60, 180, 200]], [1], classes=[1])
    redactor.apply(image, redactor.boxes(det, det)[0])
    assert np.array_equal(image, source)


def test_a_missed_detection_stays_redacted_at_the_predicted_box(rng):
    redactor = Redactor(RedactConfig(classes=("person",), hold_frames=3), NAMES)
    for frame in range(5):  # moving right 10 px a frame
        det = tracked([[100 + 10 * frame, 60, 160 + 10 * frame, 200]], [7])
        redactor.boxes(det, det)
    empty = tracked(np.zeros((0, 4)), [])
    for missed in range(1, 4):
        boxes, _ = redactor.boxes(empty, empty)
        assert len(boxes) == 1
        x1, y1, x2, y2 = boxes[0]
        # The predicted box (moved on 10 px a frame) lies inside the padded, redacted one.
        assert x1 <= 140 + 10 * missed and x2 >= 200 + 10 * missed and y1 <= 60 and y2 >= 200
    assert len(redactor.boxes(empty, empty)[0]) == 0  # hold_frames later it is let go


def test_static_region_is_always_redacted(rng):
    config = AnalyticsConfig.from_options(redact_region=["0,0,0.5,0,0.5,0.5,0,0.5"])
    stage = AnalyticsStage(config, NAMES, pictures=True)
    image = textured(rng)
    source = image.copy()
    from vidtrack.frames import Frame

    empty = tracked(np.zeros((0, 4)), [])
    stage.process(Frame(image, 0, 0.0, 0.0), empty, empty)
    assert detail(image[5:115, 5:155]) * 10 < detail(source[5:115, 5:155])
    assert np.array_equal(image[125:, :], source[125:, :]) and np.array_equal(image[:, 165:], source[:, 165:])


def test_unknown_class_is_an_error():
    with pytest.raises(OptionError, match="'persn' is not a class of this model: did you mean 'person'"):
        RedactConfig(classes=("persn",)).check_classes(NAMES)


class FlakyTexturedDetector:
    """Finds the bright square of ``make_clip`` except on the frames in ``miss``."""

    class_names = NAMES
    max_in_flight = 1

    def __init__(self, miss: set[int]) -> None:
        self.miss = miss
        self.calls = 0

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        index = self.calls
        self.calls += 1
        mask = (image[:, :, 2] > 200) & (image[:, :, 1] > 150)
        ys, xs = np.nonzero(mask)
        if index in self.miss or len(xs) == 0:
            return make_detections(np.zeros((0, 4)), np.zeros(0), np.zeros(0, int), NAMES)
        box = np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], dtype=np.float32)
        return make_detections(box, np.array([0.9]), np.array([0]), NAMES)


class Collect:
    def __init__(self) -> None:
        self.results = []

    warnings: tuple[str, ...] = ()

    def write(self, result) -> None:
        self.results.append(result)

    def close(self) -> None:
        pass


def test_pipeline_redacts_before_sinks_even_on_a_missed_frame(tmp_path: Path):
    clip = make_clip(tmp_path / "clip.avi", frames=20)
    source = open_source(str(clip))
    config = AnalyticsConfig.from_options(redact="person", redact_mode="fill")
    sink = Collect()
    lane = Lane(
        source=source,
        tracker=IoUTracker(TrackerConfig(min_hits=2)),
        sinks=[sink],
        overlay=Overlay(),
        analytics=AnalyticsStage.build(config, source.info, NAMES, pictures=True),
    )
    report = Pipeline(FlakyTexturedDetector(miss={10}), [lane]).run()[0]
    assert report.error is None and len(sink.results) == 20
    for result in sink.results:
        picture = result.annotated
        # The bright square (the "person") never reaches a sink, not even on frame 10,
        # where the detector missed it right after a detection.
        bright = (picture[:, :, 2] > 200) & (picture[:, :, 1] > 150) & (picture[:, :, 0] < 120)  # not the white HUD
        assert bright.sum() < 20, f"frame {result.frame.index} shows the redacted object"
