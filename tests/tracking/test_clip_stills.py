"""Boxes are clipped to the picture; stills report every detection, each its own object."""

from __future__ import annotations

import numpy as np

from vidtrack.detection.base import make_detections
from vidtrack.tracking.clip import clip_to_frame
from vidtrack.tracking.stills import StillsTracker

NAMES = {0: "person", 23: "giraffe"}


def test_clip_to_frame_keeps_boxes_inside_and_drops_invisible_ones() -> None:
    det = make_detections(
        np.array([[-8.1, 10, 40, 50], [600, 650, 1290, 732.4], [10, 10, 20, 20], [1300, 10, 1400, 50]]),
        np.array([0.9, 0.8, 0.7, 0.6]),
        np.zeros(4),
        NAMES,
    )
    before = det.xyxy.copy()
    out = clip_to_frame(det, 1280, 720)
    assert out.xyxy.tolist() == [[0, 10, 40, 50], [600, 650, 1280, 720], [10, 10, 20, 20]]
    assert out.confidence.tolist() == np.float32([0.9, 0.8, 0.7]).tolist()
    assert np.array_equal(det.xyxy, before)  # input untouched
    inside = make_detections(np.array([[0, 0, 1280, 720]]), np.array([0.5]), np.zeros(1), NAMES)
    assert clip_to_frame(inside, 1280, 720) is inside


def test_stills_report_every_detection_with_a_new_id() -> None:
    tracker = StillsTracker()
    det = make_detections(np.array([[0, 0, 10, 10], [0, 0, 10, 10]]), np.array([0.3, 0.26]), np.array([23, 0]), NAMES)
    first, second = tracker.update_all(det), tracker.update_all(det)
    assert first.tracker_id.tolist() == [1, 2]  # low scores and no history: still reported
    assert second.tracker_id.tolist() == [3, 4]  # the same boxes in the next photo: new objects
    assert first.data["det_index"].tolist() == [0, 1]
    assert list(first.data["class_name"]) == ["giraffe", "person"]
    assert det.tracker_id is None
