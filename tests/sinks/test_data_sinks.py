"""JSONL, MOT and summary sinks on synthetic, seeded results."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import supervision as sv

from vidtrack.frames import Frame, FrameResult
from vidtrack.sinks import JsonlSink, MotSink, SummaryBuilder
from vidtrack.sinks.data import detection_rows

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def detections(boxes, conf, classes, tracks=None) -> sv.Detections:
    names = {0: "person", 2: "car", 7: "truck"}
    class_id = np.array(classes, dtype=int)
    return sv.Detections(
        xyxy=np.array(boxes, dtype=np.float32).reshape(-1, 4),
        confidence=np.array(conf, dtype=np.float32),
        class_id=class_id,
        tracker_id=None if tracks is None else np.array(tracks, dtype=int),
        data={"class_name": np.array([names[c] for c in class_id], dtype=object)},
    )


def result(index: int, det: sv.Detections, pts: float | None = None, **kwargs) -> FrameResult:
    frame = Frame(image=np.zeros((4, 4, 3), np.uint8), index=index, pts=index / 10 if pts is None else pts, captured=0.0)
    return FrameResult(frame=frame, detections=det, **kwargs)


EMPTY = detections([], [], [])
TWO = detections([[10.04, 20.0, 50.5, 120.26], [300, 40, 360, 80]], [0.8764, 0.5], [0, 2], tracks=[3, 7])


def test_detection_rows_are_top_left_width_height() -> None:
    rows = list(detection_rows(TWO))
    assert rows[0] == {"track_id": 3, "class": "person", "confidence": 0.876, "x": 10.0, "y": 20.0, "w": 40.5, "h": 100.3}
    assert rows[1]["class"] == "car" and (rows[1]["w"], rows[1]["h"]) == (60.0, 40.0)
    untracked = list(detection_rows(detections([[0, 0, 1, 1]], [0.5], [0])))
    assert untracked[0]["track_id"] is None


def test_jsonl_one_whole_line_per_frame(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    sink = JsonlSink(path)
    sink.write(result(0, TWO))
    sink.write(result(1, EMPTY))
    sink.write(result(2, TWO[[1]], pts=1001 / 30000 * 2))
    sink.close()
    sink.close()
    lines = path.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["frame"] for r in records] == [0, 1, 2]
    assert [r["t"] for r in records] == [0.0, 0.1, 0.067]
    assert records[1]["detections"] == []
    assert records[0]["detections"][0] == {
        "track_id": 3, "class": "person", "confidence": 0.876, "x": 10.0, "y": 20.0, "w": 40.5, "h": 100.3,
    }
    assert records[2]["detections"][0]["track_id"] == 7


def test_jsonl_lines_are_whole_after_a_kill(tmp_path: Path) -> None:
    """SIGKILL between or during writes leaves only whole lines: each line is one write() call.

    Lines here are ~2 KB (20 detections). Linux completes a write to a regular file page by
    page and may stop it at a page boundary (4 KiB) when a fatal signal arrives, so no program
    can keep a longer line whole under SIGKILL; Ctrl-C and SIGTERM are held for the whole
    write (:func:`vidtrack.interrupts.deferred_interrupts`) whatever its length.
    """
    path = tmp_path / "out.jsonl"
    script = textwrap.dedent(
        f"""
        import numpy as np, supervision as sv
        from vidtrack.frames import Frame, FrameResult
        from vidtrack.sinks import JsonlSink
        n = 20
        det = sv.Detections(xyxy=np.tile([[1.0, 2.0, 30.0, 40.0]], (n, 1)).astype(np.float32),
                            confidence=np.full(n, 0.5, np.float32), class_id=np.zeros(n, int),
                            tracker_id=np.arange(1, n + 1), data={{"class_name": np.array(["person"] * n, dtype=object)}})
        sink = JsonlSink({str(path)!r})
        i = 0
        while True:
            sink.write(FrameResult(Frame(np.zeros((2, 2, 3), np.uint8), i, i / 30, 0.0), det))
            i += 1
            if i == 200:
                print("ready", flush=True)
        """
    )
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT / "src"))
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    data = path.read_text()
    assert data.endswith("\n")
    lines = data.splitlines()
    assert max(len(line) for line in lines) < 4096  # the premise above: one page per line
    frames = [json.loads(line)["frame"] for line in lines]
    assert len(frames) >= 200 and frames == list(range(len(frames)))


def test_mot_rows(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    sink = MotSink(path)
    sink.write(result(0, TWO))
    sink.write(result(1, EMPTY))
    sink.write(result(2, detections([[0, 0, 10, 10], [5, 5, 15, 25]], [0.9, 0.4], [0, 0], tracks=[-1, 4])))
    sink.close()
    lines = path.read_text().splitlines()
    assert lines == [
        "1,3,10.04,20.00,40.46,100.26,0.8764,-1,-1,-1",  # the one MOT precision, shared with vidtrack eval
        "1,7,300.00,40.00,60.00,40.00,0.5000,-1,-1,-1",
        "3,4,5.00,5.00,10.00,20.00,0.4000,-1,-1,-1",
    ]
    table = np.loadtxt(path, delimiter=",")
    assert table.shape == (3, 10)


def test_summary_counts_tracks_tags_and_timings(tmp_path: Path) -> None:
    summary = SummaryBuilder(Fraction(30000, 1001))
    rng = np.random.default_rng(3)
    best = {"person": 0.0, "car": 0.0}
    for i in range(30):
        conf = rng.uniform(0.3, 0.99, 3)
        det = detections([[0, 0, 5, 5]] * 3, conf, [0, 0, 2], tracks=[1 + i % 2, 5, 9])
        best["person"] = max(best["person"], *conf[:2])
        best["car"] = max(best["car"], conf[2])
        summary.write(result(i, det, timings_ms={"detect": 10.0 + i % 2, "encode": 4.0}, frame_age_ms=float(i)))
    summary.write(result(30, EMPTY, timings_ms={"detect": 10.5, "encode": 4.0}, frame_age_ms=30.0))
    summary.update(source="clip.mp4")
    data = summary.build()
    assert data["frames"] == 31
    assert data["duration"] == round(31 * 1001 / 30000, 3)
    assert (data["fps"], data["fps_exact"]) == (29.97, "30000/1001")
    assert data["tracks"] == {"car": 1, "person": 3}
    assert data["detections"] == {"car": 30, "person": 60}
    assert data["tags"] == {"person": round(best["person"] * 100), "car": round(best["car"] * 100)}
    assert all(isinstance(v, int) and 0 <= v <= 100 for v in data["tags"].values())
    assert data["timings_ms"] == {"detect": 10.5, "encode": 4.0}
    assert data["frame_age_ms"]["p50"] == 15.0 and data["frame_age_ms"]["p95"] == 28.5
    assert data["source"] == "clip.mp4"


def test_summary_counts_a_track_once_under_its_main_class() -> None:
    """A car the detector called a truck in one frame (the tracker kept its id) is one car
    track, not a car and a truck; a tie goes to the class seen first."""
    summary = SummaryBuilder(Fraction(30))
    frames = [([2, 2], [1, 2]), ([7, 2], [1, 2]), ([2, 7], [1, 2]), ([2], [1])]
    for i, (classes, tracks) in enumerate(frames):
        det = detections([[0, 0, 5, 5]] * len(classes), [0.9] * len(classes), classes, tracks=tracks)
        summary.write(result(i, det))
    data = summary.build()
    assert data["tracks"] == {"car": 2}
    assert data["detections"] == {"car": 5, "truck": 2}


def test_summary_live_duration_from_capture_times() -> None:
    summary = SummaryBuilder(Fraction(30), use_timestamps=True)
    for i, t in enumerate([100.0, 100.5, 103.0, 160.0 - 1 / 30]):
        summary.write(result(i, EMPTY, pts=t))
    summary.close()
    data = summary.build()
    assert data["duration"] == 60.0 and data["frames"] == 4
    assert data["tags"] == {} and data["tracks"] == {}


def test_summary_measures_frame_age_when_not_given() -> None:
    summary = SummaryBuilder(Fraction(10))
    frame = Frame(image=np.zeros((2, 2, 3), np.uint8), index=0, pts=0.0, captured=time.monotonic() - 0.25)
    summary.write(FrameResult(frame=frame, detections=EMPTY))
    age = summary.build()["frame_age_ms"]["p50"]
    assert 250 <= age < 5000
