"""The tracker at any frame rate: settings in seconds, fast movers, camera motion (synthetic, seeded)."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.tracking import IoUTracker, TrackerConfig


def moving_box(frames: int, step: tuple[float, float], seed: int, size=(40.0, 80.0), start=(100.0, 100.0)):
    """One object moving ``step`` pixels a frame, box corners jittered by 1 px (seeded)."""
    rng = np.random.default_rng(seed)
    for i in range(frames):
        x, y = start[0] + step[0] * i, start[1] + step[1] * i
        box = np.array([[x, y, x + size[0], y + size[1]]]) + rng.normal(0.0, 1.0, (1, 4))
        yield box


def ids_over(tracker: IoUTracker, boxes, affines=None) -> list[int]:
    """The reported id per frame (0 when the object is not reported)."""
    out = []
    for i, box in enumerate(boxes):
        if affines is not None and affines[i] is not None:
            tracker.compensate(affines[i])
        index, ids, _ = tracker.update_arrays(box, np.ones(1), np.zeros(1))
        out.append(int(ids[0]) if len(ids) else 0)
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_fast_mover_at_low_fps_keeps_one_id(seed: int) -> None:
    # 5 fps, moving 0.7 box widths a frame: consecutive boxes overlap at IoU ~0.2, below
    # --iou-threshold 0.3. The buffered pass and the new track's gate keep one id.
    boxes = list(moving_box(40, (28.0, 10.0), seed))
    ids = ids_over(IoUTracker(TrackerConfig(), frame_rate=5), boxes)
    reported = [i for i in ids if i]
    assert len(reported) >= 0.9 * len(ids) and len(set(reported)) == 1, ids
    # Without them the same object is lost at once (this test can fail).
    plain = TrackerConfig(iou_buffer=0.0, new_track_gate=0.0)
    assert not any(ids_over(IoUTracker(plain, frame_rate=5), boxes))


@pytest.mark.parametrize("fps", [5.0, 10.0, 15.0, 30.0, 60.0])
def test_seconds_based_settings_at_several_rates(fps: float) -> None:
    config = TrackerConfig()
    assert config.max_age_frames(fps) == round(config.max_age * fps)
    position, velocity = config.gains_at(fps)
    # The box lag in seconds, (1 - a) / a / fps, is the one the setting has at 30 fps.
    lag = (1 - position) / position / fps
    assert lag == pytest.approx((1 - config.position_gain) / config.position_gain / 30.0)
    assert velocity == pytest.approx(min(1.0, config.velocity_gain * (30.0 / fps) ** 0.5))
    # An object unseen for just under max_age seconds keeps its id; just over, it is gone.
    tracker = IoUTracker(TrackerConfig(min_hits=1), frame_rate=fps)
    box = np.array([[100.0, 100.0, 140.0, 180.0]])
    assert tracker.update_arrays(box, np.ones(1), np.zeros(1))[1].tolist() == [1]
    for _ in range(config.max_age_frames(fps)):
        tracker.update_arrays(np.empty((0, 4)), np.empty(0), np.empty(0))
    assert tracker.active_count == 1
    tracker.update_arrays(np.empty((0, 4)), np.empty(0), np.empty(0))
    assert tracker.active_count == 0


def test_frame_rate_must_be_positive() -> None:
    from vidtrack.errors import OptionError

    with pytest.raises(OptionError, match="frame rate"):
        IoUTracker(frame_rate=0)


@pytest.mark.parametrize("seed", [3, 4])
def test_affine_compensation_keeps_a_still_object_in_a_panning_picture(seed: int) -> None:
    # The camera pans 60 px a frame (1.5 box widths): without compensation the object's
    # box never overlaps its previous place; with the affine the prediction lands on it.
    pan = np.array([[1.0, 0.0, -60.0], [0.0, 1.0, 0.0]])
    boxes = list(moving_box(20, (-60.0, 0.0), seed, start=(1500.0, 100.0)))
    affines = [None] + [pan] * 19
    ids = ids_over(IoUTracker(TrackerConfig(min_hits=1)), boxes, affines)
    assert set(ids) == {1}, ids
    lost = ids_over(IoUTracker(TrackerConfig(min_hits=1, new_track_gate=0.0)), boxes)
    assert len(set(lost)) > 1


def test_compensate_moves_boxes_scales_sizes_and_turns_velocities() -> None:
    tracker = IoUTracker(TrackerConfig(min_hits=1))
    for x in (100.0, 110.0):  # velocity +10 px/frame in x
        tracker.update_arrays(np.array([[x, 100.0, x + 40.0, 180.0]]), np.ones(1), np.zeros(1))
    zoom = np.array([[2.0, 0.0, 5.0], [0.0, 2.0, -3.0]])  # scale 2 about the origin, then shift
    tracker.compensate(zoom)
    state = tracker._state[:1]
    centre = np.array([130.0, 140.0]) * 2 + [5.0, -3.0]
    box = state[0, 0:4]
    np.testing.assert_allclose((box[0:2] + box[2:4]) / 2, centre, atol=1e-6)
    np.testing.assert_allclose(box[2:4] - box[0:2], [80.0, 160.0], atol=1e-6)
    np.testing.assert_allclose(state[0, 4:8], np.array([10.0, 0.0, 10.0, 0.0]) * 2, atol=1e-6)
