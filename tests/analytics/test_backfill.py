"""Back-fill for line counting: a new track's boxes before it began, from detections in no track."""

from __future__ import annotations

import numpy as np
import pytest

from vidtrack.analytics import Observations, Scene, Segment
from vidtrack.analytics.backfill import BackFill

from scenes import times

# Horizontal line at y=300 across a 640x480 frame: moving down is "in".
DOOR = ("door", Segment((0.0, 300.0), (640.0, 300.0)))


def _box(x: float, y: float, w: float = 40.0, h: float = 100.0) -> list[float]:
    """A box whose bottom-centre anchor is (x, y)."""
    return [x - w / 2, y - h, x + w / 2, y]


def _late_track(spare_class: str = "person", step: float = 10.0, start_frame: int = 8):
    """A person walking down 10 px a frame from y=240, detected from frame 0; the tracker
    reports them only from ``start_frame`` on (the earlier boxes belong to no track)."""
    for frame, t in enumerate(times(16)):
        y = 240.0 + step * frame
        if frame < start_frame:
            obs = Observations.from_arrays(np.zeros(0, np.int64), np.zeros((0, 4)), [], None, t, frame)
            yield obs, (np.array([_box(200.0, y)]), [spare_class])
        else:
            obs = Observations.from_arrays(np.array([7]), np.array([_box(200.0, y)]), ["person"], np.full(1, 0.9), t, frame)
            yield obs, (np.zeros((0, 4)), [])


def _run(frames, spare: bool = True) -> tuple[Scene, list]:
    scene = Scene([DOOR])
    events = []
    for obs, spare_boxes in frames:
        events.extend(scene.update_observations(obs, spare_boxes if spare else None))
    events.extend(scene.finish())
    return scene, events


def test_a_track_that_begins_past_the_line_counts_from_its_earlier_detections():
    # The track begins at frame 8, y = 320: past the line. Its detections at y = 240..310
    # (frames 0-7) were in no track.
    scene, events = _run(_late_track())
    line = scene.lines[0]
    assert (line.total_in, line.total_out) == (1, 0)
    # Reported when it happened: the first observation clear past the line (y = 310 > 305).
    assert [(e.track_id, e.direction, e.frame) for e in events] == [(7, "in", 7)]
    # Without the spare detections the track starts past the line and nothing counts.
    scene, events = _run(_late_track(), spare=False)
    assert (scene.lines[0].total_in, scene.lines[0].total_out) == (0, 0) and events == []


def test_other_classes_and_boxes_that_do_not_overlap_are_not_chained():
    scene, _ = _run(_late_track(spare_class="car"))
    assert scene.lines[0].total_in == 0
    # 60 px a frame on 100-px boxes: consecutive boxes overlap at IoU < 0.3, no chain.
    scene, _ = _run(_late_track(step=60.0, start_frame=2))
    assert scene.lines[0].total_in == 0


def test_the_chain_stops_at_the_window_and_each_spare_box_joins_one_chain():
    fill = BackFill(window_s=0.25, min_iou=0.3)
    for frame, t in enumerate(times(5)):  # 10 fps: frames 0..4
        fill.add(t, frame, np.array([_box(100.0, 200.0 + frame)]), ["person"])
    chain = fill.chain(np.array(_box(100.0, 205.0)), "person", 0.5)
    assert [e.frame for e in chain] == [3, 4]  # oldest first, only the last 0.25 s
    np.testing.assert_allclose(chain[-1].box, _box(100.0, 204.0))
    assert fill.chain(np.array(_box(100.0, 205.0)), "person", 0.5) == []  # those boxes are taken
    # A frame with no spare detection of the class ends the chain.
    fill = BackFill()
    fill.add(0.0, 0, np.array([_box(100.0, 200.0)]), ["person"])
    fill.add(0.1, 1, np.zeros((0, 4)), [])
    fill.add(0.2, 2, np.array([_box(100.0, 202.0)]), ["person"])
    assert [e.frame for e in fill.chain(np.array(_box(100.0, 203.0)), "person", 0.3)] == [2]


def test_scene_update_takes_the_spare_detections_from_raw_and_det_index():
    sv = pytest.importorskip("supervision")

    def frame_detections(frame: int, tracked: bool):
        y = 240.0 + 10 * frame
        raw = sv.Detections(
            xyxy=np.array([_box(200.0, y), _box(500.0, 100.0)]), confidence=np.array([0.6, 0.9]),
            class_id=np.array([0, 0]), data={"class_name": np.array(["person", "person"])},
        )
        rows = [0, 1] if tracked else [1]  # the person is tracked from frame 8; the other box always
        out = sv.Detections(
            xyxy=raw.xyxy[rows], confidence=raw.confidence[rows], class_id=raw.class_id[rows],
            tracker_id=np.array([7, 3]) if tracked else np.array([3]),
            data={"class_name": raw.data["class_name"][rows], "det_index": np.array(rows)},
        )
        return raw, out

    scene = Scene([DOOR], frame_size=(640, 480))
    for frame, t in enumerate(times(16)):
        raw, tracked = frame_detections(frame, frame >= 8)
        scene.update(tracked, t, frame, raw)
    scene.finish()
    assert scene.lines[0].total_in == 1
    # Without raw detections, or when the "raw" rows are tracks (a frame the detector skipped:
    # interpolated or predicted), nothing is back-filled.
    for kind in ("none", "same", "tracks"):
        scene = Scene([DOOR], frame_size=(640, 480))
        for frame, t in enumerate(times(16)):
            raw, tracked = frame_detections(frame, frame >= 8)
            if kind == "tracks":
                raw.tracker_id = np.array([9, 3])
            scene.update(tracked, t, frame, {"none": None, "same": tracked, "tracks": raw}[kind])
        scene.finish()
        assert scene.lines[0].total_in == 0, kind
