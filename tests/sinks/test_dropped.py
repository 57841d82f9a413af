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
