"""Look-ahead: recorded video reports a confirmed track from its first matched frame."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.detection.base import make_detections
from vidtrack.tracking import IoUTracker, TrackerConfig
from vidtrack.tracking.lookahead import LookAhead

NAMES = {0: "person"}


def _frames(rng: np.random.Generator, count: int = 40) -> list:
    """One object walking right from frame 3, plus a one-frame flicker at frame 10 and
    random extra boxes: what an online tracker sees."""
    frames = []
    for i in range(count):
        boxes, scores = [], []
        if i >= 3:
            x = 10.0 + 4 * i
            boxes.append([x, 50, x + 30, 110])
            scores.append(0.9)
        if i == 10:
            boxes.append([300, 300, 340, 360])
            scores.append(0.95)
        for _ in range(int(rng.integers(0, 2))):
            x, y = rng.uniform(400, 900, 2)
            boxes.append([x, y, x + 20, y + 20])
            scores.append(float(rng.uniform(0.3, 0.9)))
        frames.append(make_detections(np.array(boxes).reshape(-1, 4), np.array(scores), np.zeros(len(scores)), NAMES))
    return frames


def _run(frames: list, min_hits: int, window: int) -> list:
    tracker = IoUTracker(TrackerConfig(min_hits=min_hits))
    stage: LookAhead[int] = LookAhead(window)
    out = []
    for i, det in enumerate(frames):
        out.extend(stage.push_detections(i, tracker.update_all(det)))
    out.extend(stage.flush_detections())
    return out


@pytest.mark.parametrize("min_hits", [1, 2, 3, 5])
def test_tracks_start_at_their_first_matched_frame(min_hits: int, rng: np.random.Generator) -> None:
    frames = _frames(rng)
    out = _run(frames, min_hits, window=min_hits - 1)
    assert [i for i, _ in out] == list(range(len(frames)))  # every frame once, in order

    # The same frames through the plain online tracker: rows of confirmed tracks only.
    online = IoUTracker(TrackerConfig(min_hits=min_hits))
    plain = [online.update(det) for det in frames]
    first_online = {}
    for i, det in enumerate(plain):
        for track in det.tracker_id.tolist():
            first_online.setdefault(track, i)
    first_ahead = {}
    for i, det in out:
        assert "track_key" not in det.data and "adopted_key" not in det.data
        for track in det.tracker_id.tolist():
            first_ahead.setdefault(track, i)
    assert set(first_ahead) == set(first_online)  # same tracks, same ids
    # The whole confirmation delay back: min_hits - 1 frames, one less for a track confirmed
    # early (all of its detections sure enough to start a track).
    delays = {min_hits - 1, min_hits - 2} if min_hits > 2 else {min_hits - 1}
    for track, frame in first_online.items():
        assert frame - first_ahead[track] in delays
    walker = {int(t) for i, det in out for t, x in zip(det.tracker_id, det.xyxy[:, 0]) if i == 20 and x == 90}
    assert len(walker) == 1 and first_ahead[walker.pop()] == 3  # the walker: from the frame it appears
    # Rows the online tracker reported are unchanged; only earlier rows were added.
    for (i, det), online_det in zip(out, plain):
        later = np.isin(det.tracker_id, online_det.tracker_id)
        assert np.array_equal(np.sort(det.tracker_id[later]), np.sort(online_det.tracker_id))


def test_one_frame_flicker_is_never_reported(rng: np.random.Generator) -> None:
    out = _run(_frames(rng), min_hits=3, window=2)
    assert all(not np.any(det.xyxy[:, 0] == 300) for _, det in out)


def test_window_zero_is_latency_first() -> None:
    stage: LookAhead[str] = LookAhead(0)
    released = stage.push("a", np.array([7, 8]), np.array([0, 3]))
    assert [(item, ids.tolist()) for item, ids in released] == [("a", [0, 3])]
    assert len(stage) == 0


def test_back_fill_by_key_and_release_order() -> None:
    stage: LookAhead[str] = LookAhead(2)
    assert stage.push("f0", np.array([5]), np.array([0])) == []
    assert stage.push("f1", np.array([5, 6]), np.array([0, 0])) == []
    out = stage.push("f2", np.array([5, 6]), np.array([4, 0]))  # key 5 confirmed as id 4
    assert [(item, ids.tolist()) for item, ids in out] == [("f0", [4])]
    out = stage.flush()
    assert [(item, ids.tolist()) for item, ids in out] == [("f1", [4, 0]), ("f2", [4, 0])]
    with pytest.raises(ValueError):
        LookAhead(-1)


def test_an_adopted_row_joins_its_track_before_its_frame_leaves() -> None:
    """IoUTracker.last_adopted: the row with key 9 (a box no track took) joins track key 5."""
    stage: LookAhead[str] = LookAhead(2)
    assert stage.push("f0", np.array([9, 7]), np.array([0, 0])) == []
    assert stage.push("f1", np.array([5]), np.array([0])) == []
    out = stage.push("f2", np.array([5]), np.array([3]), adopted=np.array([9]))
    assert [(item, ids.tolist()) for item, ids in out] == [("f0", [3, 0])]  # key 7: still nobody's
    out = stage.flush()
    assert [(item, ids.tolist()) for item, ids in out] == [("f1", [3]), ("f2", [3])]
