"""The plain-Python path for small frames gives the numpy path's results to the last bit."""

from __future__ import annotations

import numpy as np
import pytest

import vidtrack.tracking.tracker as tracker_module
from vidtrack.tracking import IoUTracker, TrackerConfig


def scene(seed: int, frames: int = 120) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Boxes that move (some fast), jitter, vanish for a few frames, cross each other, come
    in three classes (one of them switching class now and then), with scores spread over
    [0, 1], the odd degenerate or NaN box and duplicate boxes."""
    rng = np.random.default_rng(seed)
    n = 9
    pos = rng.uniform(0, 600, (n, 2))
    vel = rng.normal(0, 6, (n, 2)) * rng.choice([1, 1, 4], (n, 1))
    size = rng.uniform(20, 120, (n, 2))
    cls = rng.choice([0.0, 2.0, 7.0, -1.0], n)  # -1: a confusable-class group (duplicates dropped)
    out = []
    for _ in range(frames):
        pos += vel
        seen = rng.random(n) > 0.2
        xy = pos[seen] + rng.normal(0, 2, (int(seen.sum()), 2))
        wh = size[seen] * rng.uniform(0.9, 1.1, (int(seen.sum()), 2))
        boxes = np.concatenate([xy, xy + wh], axis=1)
        scores = rng.uniform(0.0, 1.0, len(boxes))
        classes = cls[seen].copy()
        flip = rng.random(len(classes)) < 0.1
        classes[flip] = 7.0
        if len(boxes) and rng.random() < 0.1:
            boxes[0, 2] = boxes[0, 0]  # zero width
        if len(boxes) > 1 and rng.random() < 0.05:
            scores[1] = np.nan
        if len(boxes) > 2 and rng.random() < 0.2:
            boxes = np.concatenate([boxes, boxes[2:3] + 1.0])
            scores = np.append(scores, 0.9)
            classes = np.append(classes, classes[2])
        out.append((boxes, scores, classes))
    return out


def run(frames, config: TrackerConfig, small: int, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    monkeypatch.setattr(tracker_module, "SMALL_PAIRS", small)
    tracker = IoUTracker(config, frame_rate=15)
    results = []
    for boxes, scores, classes in frames:
        det_index, keys, ids = tracker.step(boxes, scores, classes)
        results.append(
            (det_index.tolist(), keys.tolist(), ids.tolist(), tracker.last_boxes.tolist(), tracker.last_adopted.tolist())
        )
    return results


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(
    "config",
    [
        TrackerConfig(),
        TrackerConfig(min_hits=1, smooth_boxes=False, low_iou_threshold=0.1, high_score_rank=0.5),
        TrackerConfig(min_score_rank=0.2, new_track_gate=3.0, iou_buffer=0.6, max_age=0.3),
        TrackerConfig(iou_buffer=0.0, new_track_gate=0.0, iou_threshold=0.05),
        TrackerConfig(min_hits=4, new_track_gate=1.0, new_track_score_rank=0.6, position_gain=0.3),
    ],
)
def test_small_frames_path_matches_numpy_path(seed: int, config: TrackerConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    frames = scene(seed)
    numpy_path = run(frames, config, 0, monkeypatch)
    python_path = run(frames, config, 10**9, monkeypatch)
    mixed = run(frames, config, 40, monkeypatch)  # frames switch paths: the state is handed over
    assert python_path == numpy_path
    assert mixed == numpy_path
    assert sum(max(r[2], default=0) > 0 for r in python_path) > len(frames) // 2  # confirmed tracks most of the time


def test_state_is_handed_over_to_compensation_and_tentative_checks() -> None:
    """After small frames, compensate() and has_tentative see the same tracks."""
    tracker = IoUTracker(TrackerConfig(min_hits=2))
    box = np.array([[100.0, 100.0, 150.0, 200.0]])
    tracker.update_arrays(box, np.array([0.9]), np.zeros(1))
    assert tracker.has_tentative
    tracker.update_arrays(box, np.array([0.9]), np.zeros(1))
    assert not tracker.has_tentative
    tracker.compensate(np.array([[1.0, 0.0, 40.0], [0.0, 1.0, 0.0]]))  # the camera panned 40 px
    det_index, ids, boxes = tracker.update_arrays(box + [40.0, 0.0, 40.0, 0.0], np.array([0.9]), np.zeros(1))
    assert ids.tolist() == [1] and boxes[0, 0] == pytest.approx(140.0)
