"""Tracker lifecycle on small hand-made frames."""

from __future__ import annotations

import numpy as np
import pytest
import supervision as sv

from vidtrack.errors import OptionError
from vidtrack.tracking import IoUTracker, TrackerConfig

BOX = [100.0, 100.0, 150.0, 200.0]


def dets(boxes: list[list[float]], conf: float | list[float] = 0.95, cls: int | list[int] = 0) -> sv.Detections:
    n = len(boxes)
    return sv.Detections(
        xyxy=np.asarray(boxes, dtype=np.float32).reshape(-1, 4),
        confidence=np.broadcast_to(np.asarray(conf, dtype=np.float32), (n,)).copy(),
        class_id=np.broadcast_to(np.asarray(cls, dtype=int), (n,)).copy(),
    )


def ids_of(out: sv.Detections) -> list[int]:
    return out.tracker_id.tolist()


def test_birth_after_min_hits() -> None:
    # The second detection ranks below new_track_score_rank (0.5 of 0.3..0.9: 0.33 < 0.35):
    # the track waits for its min_hits-th match.
    tracker = IoUTracker(TrackerConfig(min_hits=3))
    calibrated(tracker, np.linspace(0.3, 0.9, 200))
    assert len(tracker.update(dets([BOX], conf=0.85))) == 0
    assert len(tracker.update(dets([BOX], conf=0.5))) == 0
    assert ids_of(tracker.update(dets([BOX], conf=0.5))) == [1]
    assert ids_of(tracker.update(dets([BOX], conf=0.5))) == [1]


@pytest.mark.parametrize("min_hits", [2, 3, 5])
def test_sure_tracks_are_confirmed_one_match_earlier(min_hits: int) -> None:
    """Every detection ranking as high as a new track needs: confirmed at match min_hits - 1,
    never before the second (ByteTrack activates a track at its second match)."""
    tracker = IoUTracker(TrackerConfig(min_hits=min_hits))
    calibrated(tracker, np.linspace(0.3, 0.9, 200))
    first = max(2, min_hits - 1)
    for hit in range(1, first):
        assert len(tracker.update(dets([BOX], conf=0.85))) == 0, hit
    assert ids_of(tracker.update(dets([BOX], conf=0.8))) == [1]


def test_min_hits_one_reports_at_once() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    assert ids_of(tracker.update(dets([BOX, [300, 100, 350, 200]]))) == [1, 2]


def test_tentative_track_dies_at_first_miss() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=4))
    tracker.update(dets([BOX]))
    tracker.update(dets([BOX]))
    tracker.update(sv.Detections.empty())
    assert tracker.active_count == 0
    for _ in range(2):
        assert len(tracker.update(dets([BOX]))) == 0


@pytest.mark.parametrize("fps", [5, 10, 30])
def test_coasting_keeps_id_then_death_after_max_age(fps: int) -> None:
    # max_age is in seconds: 0.5 s is 5 frames at 10 fps, 15 at 30 fps.
    tracker = IoUTracker(TrackerConfig(min_hits=1, max_age=0.5), frame_rate=fps)
    frames = round(0.5 * fps)
    assert ids_of(tracker.update(dets([BOX]))) == [1]
    for _ in range(frames):  # coast exactly max_age
        assert len(tracker.update(sv.Detections.empty())) == 0
    assert ids_of(tracker.update(dets([BOX]))) == [1]
    for _ in range(frames + 1):  # one frame too many
        tracker.update(sv.Detections.empty())
    assert tracker.active_count == 0
    assert ids_of(tracker.update(dets([BOX]))) == [2]


def test_ids_belong_to_the_instance_and_reset_restarts() -> None:
    first, second = IoUTracker(TrackerConfig(min_hits=1)), IoUTracker(TrackerConfig(min_hits=1))
    assert ids_of(first.update(dets([BOX, [300, 100, 350, 200]]))) == [1, 2]
    assert ids_of(second.update(dets([BOX]))) == [1]
    first.reset()
    assert first.active_count == 0
    assert ids_of(first.update(dets([[500, 100, 550, 200]]))) == [1]


def test_input_is_not_mutated_and_det_index_maps_rows() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1, smooth_boxes=False))
    frame = dets([BOX, [300, 100, 350, 200], [5, 5, 5, 5]], conf=[0.95, 0.92, 0.99])
    before = (frame.xyxy.copy(), frame.confidence.copy(), frame.class_id.copy())
    out = tracker.update(frame)
    np.testing.assert_array_equal(frame.xyxy, before[0])
    np.testing.assert_array_equal(frame.confidence, before[1])
    np.testing.assert_array_equal(frame.class_id, before[2])
    assert frame.tracker_id is None
    assert "det_index" not in frame.data
    assert out.data["det_index"].tolist() == [0, 1]  # the zero-area row is never tracked
    np.testing.assert_array_equal(out.xyxy, frame.xyxy[[0, 1]])
    np.testing.assert_array_equal(out.confidence, frame.confidence[[0, 1]])


def test_det_index_follows_shuffled_input() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    boxes = [[i * 100.0, 0.0, i * 100.0 + 50, 100.0] for i in range(5)]
    first = tracker.update(dets(boxes))
    by_x = {round(float(b[0])): t for b, t in zip(first.xyxy, first.tracker_id)}
    order = [3, 0, 4, 1, 2]
    out = tracker.update(dets([boxes[i] for i in order]))
    for row, track_id in zip(out.data["det_index"], out.tracker_id):
        assert by_x[round(boxes[order[row]][0])] == track_id


def test_empty_frames() -> None:
    tracker = IoUTracker()
    out = tracker.update(sv.Detections.empty())
    assert len(out) == 0 and out.tracker_id is not None and len(out.tracker_id) == 0
    det_index, ids, boxes = tracker.update_arrays(np.empty((0, 4)), np.empty(0), np.empty(0))
    assert len(det_index) == len(ids) == len(boxes) == 0


def test_zero_area_and_nan_boxes_never_track() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    bad = dets([[10, 10, 10, 50], [10, 10, 50, 10], [60, 60, 40, 40]])
    nan = np.array([[np.nan, 0, 10, 10]])
    with np.errstate(all="raise"):
        for _ in range(3):
            assert len(tracker.update(bad)) == 0
            assert len(tracker.update_arrays(nan, np.ones(1), np.zeros(1))[0]) == 0
    assert tracker.active_count == 0


def test_class_aware_matching() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    assert ids_of(tracker.update(dets([BOX], cls=2))) == [1]
    # Same place, other class: a new track, the car track coasts.
    assert ids_of(tracker.update(dets([BOX], cls=0))) == [2]
    assert ids_of(tracker.update(dets([BOX, BOX], cls=[0, 2]))) == [2, 1]


def named(detections: sv.Detections, names: list[str]) -> sv.Detections:
    detections.data["class_name"] = np.array(names)
    return detections


def test_confusable_classes_continue_a_track_and_keep_their_own_class() -> None:
    """A car seen as a truck (or a bus) for a frame keeps its id; each row keeps the class the
    detector gave it. Without names (or for unrelated classes) matching stays strict."""
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    assert ids_of(tracker.update(named(dets([BOX], cls=2), ["car"]))) == [1]
    out = tracker.update(named(dets([BOX], cls=7), ["truck"]))
    assert ids_of(out) == [1] and out.class_id.tolist() == [7]
    assert ids_of(tracker.update(named(dets([BOX], cls=5), ["bus"]))) == [1]
    # A person at the same place is another object.
    assert ids_of(tracker.update(named(dets([BOX, BOX], cls=[2, 0]), ["car", "person"]))) == [1, 2]
    # Bicycle and motorcycle are one group, apart from the vehicles.
    assert ids_of(tracker.update(named(dets([BOX, BOX], cls=[1, 0]), ["bicycle", "person"]))) == [3, 2]
    assert ids_of(tracker.update(named(dets([BOX, BOX], cls=[3, 0]), ["motorcycle", "person"]))) == [3, 2]
    # No class names (numpy callers, detections built by hand): strict as before.
    strict = IoUTracker(TrackerConfig(min_hits=1))
    assert ids_of(strict.update(dets([BOX], cls=2))) == [1]
    assert ids_of(strict.update(dets([BOX], cls=7))) == [2]


def test_a_car_and_a_truck_box_on_one_vehicle_are_one_object() -> None:
    """The detector's per-class NMS keeps a car box and a truck box on one vehicle: the tracker
    keeps the stronger (its row is reported, the other is not) instead of starting a second
    track on the same object. Boxes of one class, or of unrelated classes, are left alone."""
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    twin = [BOX[0] + 1, BOX[1], BOX[2] + 1, BOX[3]]
    out = tracker.update(named(dets([BOX, twin], conf=[0.6, 0.9], cls=[2, 7]), ["car", "truck"]))
    assert out.data["det_index"].tolist() == [1] and ids_of(out) == [1]
    out = tracker.update(named(dets([BOX, twin], conf=[0.9, 0.6], cls=[2, 7]), ["car", "truck"]))
    assert out.data["det_index"].tolist() == [0] and ids_of(out) == [1]
    # A person on the same box is another object; far apart, two vehicles are two.
    other = IoUTracker(TrackerConfig(min_hits=1))
    out = other.update(named(dets([BOX, twin], conf=[0.9, 0.6], cls=[2, 0]), ["car", "person"]))
    assert len(out) == 2
    out = other.update(named(dets([BOX, [400, 100, 450, 200]], conf=[0.9, 0.6], cls=[2, 7]), ["car", "truck"]))
    assert len(out) == 2


def test_confusable_groups_never_collide_with_class_ids() -> None:
    from vidtrack.tracking.classes import CONFUSABLE, association_class

    groups = {association_class(k, name) for k, group in enumerate(CONFUSABLE) for name in group}
    assert len(groups) == len(CONFUSABLE) and all(g < 0 for g in groups)
    assert association_class(42, "giraffe") == 42.0


def calibrated(tracker: IoUTracker, scores: np.ndarray) -> None:
    """Show ``tracker`` a detector's score distribution, one far-away box per frame,
    each seen once (they never last long enough to be confirmed)."""
    for i, score in enumerate(scores.tolist()):
        x = 10_000.0 + 200.0 * i
        tracker.update_arrays(np.array([[x, 0.0, x + 50, 100.0]]), np.array([score]), np.zeros(1))


def test_weak_detections_extend_but_never_start_tracks() -> None:
    # A detector scoring 0.5..1.0: 0.55 ranks near 0.1 (below new_track_score_rank 0.4
    # and high_score_rank 0.2), 0.95 near 0.9; 0.45 ranks 0, under min_score_rank 0.05.
    cfg = TrackerConfig(min_hits=1, high_score_rank=0.2, new_track_score_rank=0.4, min_score_rank=0.05)
    tracker = IoUTracker(cfg)
    calibrated(tracker, np.linspace(0.5, 1.0, 400))
    assert len(tracker.update(dets([BOX], conf=0.55))) == 0
    (track_id,) = ids_of(tracker.update(dets([BOX], conf=0.95)))
    assert ids_of(tracker.update(dets([BOX], conf=0.55))) == [track_id]
    assert len(tracker.update(dets([BOX], conf=0.45))) == 0  # below min_score_rank


def test_thresholds_follow_the_detectors_own_scale() -> None:
    # The same relative score starts a track whatever the detector's raw scale: a 0.6 from
    # a detector scoring 0.25..0.9 is as good as a 0.9 from one scoring 0.5..1.0.
    for low, high, score in ((0.25, 0.9, 0.6), (0.5, 1.0, 0.9)):
        tracker = IoUTracker(TrackerConfig(min_hits=1))
        calibrated(tracker, np.linspace(low, high, 400))
        assert len(tracker.update(dets([BOX], conf=score))) == 1
        assert tracker.score_rank(np.array([score]))[0] > 0.5
        assert len(tracker.update(dets([[400, 100, 450, 200]], conf=low + 0.1 * (high - low)))) == 0


def test_equal_scores_are_all_confident() -> None:
    # Ground truth (all 1.0) or a detector without scores: nothing is "weak".
    tracker = IoUTracker(TrackerConfig(min_hits=1, high_score_rank=0.99, new_track_score_rank=0.99))
    for _ in range(5):
        out = tracker.update(dets([BOX, [300, 100, 350, 200]], conf=1.0))
    assert ids_of(out) == [1, 2]
    np.testing.assert_allclose(tracker.score_rank(np.array([1.0])), 1.0)


def test_yolo_like_scores_start_tracks_from_the_first_frame() -> None:
    # Regression: raw thresholds tuned to MOT15 (new tracks at 0.9) tracked nothing
    # when a YOLO model scored real persons 0.3-0.85.
    rng = np.random.default_rng(3)
    tracker = IoUTracker(TrackerConfig())
    boxes = [[100.0 * i, 0.0, 100.0 * i + 50, 120.0] for i in range(8)]
    reported = []
    for _ in range(20):
        reported.append(len(tracker.update(dets(boxes, conf=rng.uniform(0.3, 0.85, 8).tolist()))))
    assert reported[0] == 0  # min_hits (sure tracks: one match earlier)
    assert min(reported[5:]) >= 7


def test_constant_velocity_carries_a_track_across_a_gap() -> None:
    # 10 px/frame, 50 px wide, unseen for 8 frames: the box it reappears in does not
    # overlap where it was last seen, only the motion prediction can keep the id.
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    ids = []
    for t in range(30):
        x = 10.0 * t
        frame = sv.Detections.empty() if 10 <= t < 18 else dets([[x, 0, x + 50, 100]])
        ids += ids_of(tracker.update(frame))
    assert len(ids) == 22
    assert set(ids) == {1}


def test_a_lagging_filtered_box_gives_way_to_the_detection() -> None:
    """A box moving 5 px a frame is reported filtered (close to, not equal to, the detection); when
    the object jumps so far that the filtered box overlaps its detection below IoU 0.6, the
    detection's own box is reported for that frame."""
    from vidtrack.tracking.tracker import LAG_IOU

    tracker = IoUTracker(TrackerConfig(min_hits=1))
    for t in range(6):
        x = 5.0 * t + (2.0 if t % 2 else -2.0)  # jitter: the filter smooths it
        box = [x, 0, x + 50, 100]
        out = tracker.update(dets([box]))
    assert out.xyxy[0].tolist() != box
    box = [box[0] + 45, 0, box[2] + 45, 100]  # a jump of 40 px beyond the prediction
    out = tracker.update(dets([box]))
    assert ids_of(out) == [1] and out.xyxy[0].tolist() == box
    assert LAG_IOU == 0.6


def test_tracks_with_a_velocity_take_a_leftover_within_half_the_gate() -> None:
    """A 50 px box moving 40 px a frame stops dead: its next box overlaps the prediction too
    little for the IoU pass, but lies 0.8 box sizes from it, within half of new_track_gate 2."""
    def run(gate: float) -> list[int]:
        tracker = IoUTracker(TrackerConfig(min_hits=1, iou_buffer=0.0, new_track_gate=gate))
        ids = []
        for t in range(5):
            ids += ids_of(tracker.update(dets([[40.0 * t, 0, 40.0 * t + 50, 50]])))
        return ids + ids_of(tracker.update(dets([[160.0, 0, 210.0, 50]])))

    assert run(2.0) == [1] * 6
    assert run(1.0) == [1] * 5 + [2]


def test_a_weak_second_box_continues_a_track_seen_once() -> None:
    """A sure box, then a weak one 40 px on (IoU 0.11: no IoU pass takes it): the gate of a
    track seen once takes weak leftovers too."""
    tracker = IoUTracker(TrackerConfig(min_hits=2))
    calibrated(tracker, np.linspace(0.3, 0.9, 200))
    assert len(tracker.update(dets([BOX], conf=0.85))) == 0
    moved = [BOX[0] + 40, BOX[1], BOX[2] + 40, BOX[3]]
    assert tracker.score_rank(np.array([0.35]))[0] < TrackerConfig().high_score_rank  # weak
    assert ids_of(tracker.update(dets([moved], conf=0.35))) == [1]


def test_smoothed_boxes_stay_close_to_detections() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    for t in range(10):
        out = tracker.update(dets([[5.0 * t, 0, 5.0 * t + 50, 100]]))
    np.testing.assert_allclose(out.xyxy[0], [45, 0, 95, 100], atol=1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"iou_threshold": 1.5},
        {"min_hits": 0},
        {"max_age": -1},
        {"new_track_score_rank": -0.1},
        {"high_score_rank": 1.5},
        {"score_memory": 0},
        {"position_gain": 2},
    ],
)
def test_bad_config_raises_option_error(kwargs: dict) -> None:
    with pytest.raises(OptionError):
        TrackerConfig(**kwargs)


def test_tracking_package_imports_no_heavy_modules() -> None:
    import subprocess
    import sys

    code = (
        "import sys, vidtrack.tracking, vidtrack.evaluation;"
        "bad=[m for m in ('cv2','torch','ultralytics','supervision','trackeval') if m in sys.modules];"
        "print(','.join(bad))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_update_keeps_masks_and_data_of_the_tracked_rows() -> None:
    boxes = [BOX, [300, 100, 350, 200], [5, 5, 5, 5]]
    mask = np.zeros((3, 8, 8), dtype=bool)
    mask[1, 2, 2] = True
    names = np.array(["a", "b", "c"], dtype=object)
    for with_mask in (False, True):
        tracker = IoUTracker(TrackerConfig(min_hits=1, smooth_boxes=False))
        frame = dets(boxes, conf=[0.9, 0.8, 0.95])
        frame.data = {"class_name": names}
        if with_mask:
            frame.mask = mask
        out = tracker.update(frame)
        assert out.data["det_index"].tolist() == [0, 1]
        assert out.data["class_name"].tolist() == ["a", "b"]
        assert out.xyxy.dtype == frame.xyxy.dtype and out.tracker_id.tolist() == [1, 2]
        np.testing.assert_array_equal(out.confidence, frame.confidence[:2])
        if with_mask:
            np.testing.assert_array_equal(out.mask, mask[:2])
        else:
            assert out.mask is None
