"""What a run reports, by kind of source: files from a track's first frame, live once
confirmed, stills every detection; and every reported box inside its frame."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from conftest import SquareDetector, make_clip, shared_path
from test_cli import vidtrack
from vidtrack.detection.base import make_detections
from vidtrack.frames import FrameResult, SourceInfo
from vidtrack.pipeline import Lane, Pipeline
from vidtrack.runner import tracking_stages
from vidtrack.sinks import JsonlSink, MotSink, SummaryBuilder
from vidtrack.sources import open_source
from vidtrack.tracking import TrackerConfig


class Collect:
    def __init__(self) -> None:
        self.results: list[FrameResult] = []

    warnings: tuple[str, ...] = ()

    def write(self, result: FrameResult) -> None:
        self.results.append(result)

    def close(self) -> None:
        pass


def _run(spec: str, detector, tmp_path: Path, config: TrackerConfig = TrackerConfig()):
    source = open_source(spec)
    collect, summary = Collect(), SummaryBuilder(source.info.fps)
    sinks = [collect, JsonlSink(tmp_path / "out.jsonl"), MotSink(tmp_path / "out.txt"), summary]
    lane = Lane(source=source, sinks=sinks, **tracking_stages(source.info, config))
    report = Pipeline(detector, [lane]).run()[0]
    assert report.error is None
    return collect.results, summary.build()


def test_recorded_file_reports_a_track_from_its_first_frame(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=20)
    results, summary = _run(str(clip), SquareDetector(), tmp_path, TrackerConfig(min_hits=3))
    assert [r.frame.index for r in results] == list(range(20))
    # The square is in every frame: reported in all 20 (the online rule gave 18, from frame 2).
    assert [len(r.detections) for r in results] == [1] * 20
    assert {int(r.detections.tracker_id[0]) for r in results} == {1}
    first = json.loads((tmp_path / "out.jsonl").read_text().splitlines()[0])
    assert first["frame"] == 0 and first["detections"][0]["track_id"] == 1
    assert (tmp_path / "out.txt").read_text().splitlines()[0].startswith("1,1,")
    assert summary["detections"] == {"person": 20}


def test_live_sources_keep_the_latency_first_rule() -> None:
    config = TrackerConfig(min_hits=3)
    live = SourceInfo("cam", 640, 480, Fraction(30), None, is_live=True)
    recorded = SourceInfo("f.mp4", 640, 480, Fraction(30), 100)
    assert tracking_stages(live, config)["lookahead"].window == 0
    assert tracking_stages(recorded, config)["lookahead"].window == 2


def test_unrelated_photos_are_not_one_scene(tmp_path: Path) -> None:
    folder = tmp_path / "photos"
    folder.mkdir()
    image = np.zeros((120, 160, 3), np.uint8)
    image[40:70, 20:45] = (40, 200, 250)  # SquareDetector's square, at the same place in both
    for name in ("a.jpg", "b.jpg"):
        cv2.imwrite(str(folder / name), image)
    results, summary = _run(str(folder), SquareDetector(), tmp_path)
    assert [r.detections.tracker_id.tolist() for r in results] == [[1], [2]]  # no min_hits wait, no link
    assert summary["tracks"] == {"person": 2}


class OutOfFrame:
    """Boxes past every edge of a 160x120 frame, as smoothed tracks produce near edges."""

    class_names = {0: "person"}
    max_in_flight = 1

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        boxes = np.array([[-8.1, -3.0, 30.0, 40.0], [140.0, 90.0, 171.5, 132.4]])
        return make_detections(boxes, np.array([0.9, 0.8]), np.zeros(2), self.class_names)


def test_every_output_has_boxes_inside_the_frame(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=6)
    results, _ = _run(str(clip), OutOfFrame(), tmp_path, TrackerConfig(min_hits=1))
    assert all(len(r.detections) == 2 for r in results)
    for r in results:  # what the overlay draws and every sink gets
        assert r.detections.xyxy.tolist() == [[0, 0, 30, 40], [140, 90, 160, 120]]
    for line in (tmp_path / "out.jsonl").read_text().splitlines():
        for d in json.loads(line)["detections"]:
            assert d["x"] >= 0 and d["y"] >= 0 and d["x"] + d["w"] <= 160 and d["y"] + d["h"] <= 120
    for row in (tmp_path / "out.txt").read_text().splitlines():
        x, y, w, h = map(float, row.split(",")[2:6])
        assert x >= 0 and y >= 0 and x + w <= 160 and y + h <= 120


def test_a_photo_reports_its_detections(tmp_path: Path, real_model: str) -> None:
    photo = shared_path("assets", "coco128", "images", "train2017", "000000000025.jpg")
    result = vidtrack(
        "run", str(photo), "--model", real_model, "-q",
        "--jsonl", str(tmp_path / "g.jsonl"), "--summary", str(tmp_path / "g.json"),
    )
    assert result.returncode == 0, result.stderr
    detections = json.loads((tmp_path / "g.jsonl").read_text())["detections"]
    giraffes = [d for d in detections if d["class"] == "giraffe"]
    assert giraffes and max(d["confidence"] for d in giraffes) > 0.8  # Ultralytics: 0.889
    assert all(d["confidence"] >= 0.25 for d in detections)  # --conf's default
    tags = json.loads((tmp_path / "g.json").read_text())["tags"]
    assert tags["giraffe"] >= 80
