"""The summary's dropped detections: detections that never became part of a reported track."""

from __future__ import annotations

import numpy as np
import supervision as sv

from vidtrack.frames import Frame, FrameResult
from vidtrack.sinks.summary import DROPPED_WARN_MIN, SummaryBuilder, dropped_detections, dropped_hint


def test_dropped_share_per_class() -> None:
    out = dropped_detections({"car": 268, "person": 10}, {"car": 140, "person": 10})
    assert out == {"car": {"count": 128, "share": 0.478}, "person": {"count": 0, "share": 0.0}}


def test_hint_names_the_knobs_only_when_the_share_is_large() -> None:
    large = {"source": "a.mp4", "dropped_detections": {"car": {"count": 128, "share": 0.478}}}
    hint = dropped_hint(large)
    assert hint is not None and "car 48% (128)" in hint and "--new-track-score-rank" in hint
    small = {"dropped_detections": {"car": {"count": 5, "share": 0.02}}}
    assert dropped_hint(small) is None
    few = {"dropped_detections": {"car": {"count": DROPPED_WARN_MIN - 1, "share": 0.9}}}
    assert dropped_hint(few) is None


def test_hint_leaves_out_classes_that_were_never_tracked() -> None:
    data = {"source": "street.mp4", "tracks": {"car": 3},
            "dropped_detections": {"car": {"count": 128, "share": 0.478}, "potted plant": {"count": 202, "share": 1.0}}}
    hint = dropped_hint(data)
    assert hint is not None and "car 48%" in hint and "potted plant" not in hint
    assert dropped_hint({**data, "tracks": {}}) is None


def test_summary_builder_counts_what_the_frames_say() -> None:
    summary = SummaryBuilder(fps=30)
    image = np.zeros((8, 8, 3), np.uint8)
    for index in range(3):
        reported = sv.Detections(xyxy=np.array([[0, 0, 4, 4]], float), class_id=np.array([2]),
                                 confidence=np.array([0.9]), tracker_id=np.array([1]))
        frame = Frame(image=image, index=index, pts=index / 30, captured=0.0)
        summary.write(FrameResult(frame=frame, detections=reported, detected={"2": 2, "0": 1}))
    built = summary.build()
    assert built["dropped_detections"] == {"0": {"count": 3, "share": 1.0}, "2": {"count": 3, "share": 0.5}}


def test_repeated_boxes_are_what_the_tracker_leaves_out_and_not_dropped() -> None:
    """A car box and a truck box on one vehicle: the tracker follows one object; the weaker box is
    a repeat, counted apart from the dropped detections (so the hint never asks to lower a knob)."""
    from vidtrack.tracking import IoUTracker, TrackerConfig
    from vidtrack.tracking.repeats import repeated_boxes

    def frame(dx: float) -> sv.Detections:
        car = [100 + dx, 50, 200 + dx, 120]
        return sv.Detections(
            xyxy=np.array([car, [101 + dx, 51, 201 + dx, 121], [400, 300, 440, 380]], float),
            confidence=np.array([0.8, 0.6, 0.9]), class_id=np.array([2, 7, 0]),
            data={"class_name": np.array(["car", "truck", "person"])},
        )

    tracker = IoUTracker(TrackerConfig(min_hits=1))
    summary = SummaryBuilder(fps=30)
    image = np.zeros((8, 8, 3), np.uint8)
    for index in range(5):
        detections = frame(4.0 * index)
        tracked = tracker.update(detections)
        left_out = sorted(set(range(len(detections))) - set(tracked.data["det_index"].tolist()))
        assert [str(detections.data["class_name"][i]) for i in left_out] == ["truck"]
        assert repeated_boxes(detections) == {"truck": 1}
        result = FrameResult(frame=Frame(image=image, index=index, pts=index / 30, captured=0.0), detections=tracked,
                             detected={"car": 1, "truck": 1, "person": 1}, repeated=repeated_boxes(detections))
        summary.write(result)
    dropped = summary.build()["dropped_detections"]
    assert dropped["truck"] == {"count": 0, "share": 0.0, "repeats": 5}
    assert dropped["car"] == {"count": 0, "share": 0.0}
    # Boxes of different groups, or too far apart, are never repeats.
    apart = frame(0.0)
    apart.xyxy[1] = [300, 50, 400, 120]
    assert repeated_boxes(apart) == {}
    assert repeated_boxes(sv.Detections(xyxy=apart.xyxy, class_id=apart.class_id, confidence=apart.confidence)) == {}
