"""When the detector runs: motion gating and strided detection keep every frame's answer."""

from __future__ import annotations

from pathlib import Path
from typing import Callable
from types import SimpleNamespace

import numpy as np
import pytest

from conftest import SquareDetector, make_clip
from vidtrack.analytics.config import AnalyticsConfig
from vidtrack.config import ScheduleConfig
from vidtrack.errors import OptionError
from vidtrack.frames import FrameResult
from vidtrack.pipeline import Lane, Pipeline
from vidtrack.runner import RunRequest, execute, tracking_stages
from vidtrack.sources import open_source
from vidtrack.tracking import TrackerConfig


class Collect:
    warnings: tuple[str, ...] = ()

    def __init__(self) -> None:
        self.results: list[FrameResult] = []

    def write(self, result: FrameResult) -> None:
        self.results.append(result)

    def close(self) -> None:
        pass


def parked_then_moving(path: Path, still: int = 40, moving: int = 20, seed: int = 7) -> Path:
    """A noisy MJPEG clip: the square stands still for ``still`` frames, then moves 3 px a frame."""
    import cv2

    rng = np.random.default_rng(seed)
    width, height = 160, 120
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (width, height))
    background = np.zeros((height, width, 3), np.float64)
    background[:] = np.linspace(0, 80, width)[None, :, None]
    for i in range(still + moving):
        image = np.clip(background + rng.normal(0, 2.0, background.shape), 0, 255).astype(np.uint8)
        x = 20 + 3 * max(0, i - still + 1)
        image[40:70, x : x + 25] = (40, 200, 250)
        writer.write(image)
    writer.release()
    return path


def run_lane(clip: Path, schedule: ScheduleConfig, detector: SquareDetector) -> tuple[Collect, object]:
    source = open_source(str(clip))
    sink = Collect()
    lane = Lane(source=source, sinks=[sink], **tracking_stages(source.info, TrackerConfig(), schedule))
    report = Pipeline(detector, [lane]).run()[0]
    assert report.error is None
    return sink, report


def test_gate_skips_the_detector_on_a_still_scene_and_resumes_on_motion(tmp_path: Path) -> None:
    clip = parked_then_moving(tmp_path / "parked.avi")
    detector = SquareDetector()
    sink, report = run_lane(clip, ScheduleConfig(motion_gate="on"), detector)
    results = sink.results
    assert [r.frame.index for r in results] == list(range(60))  # every frame reported, in order
    assert all(len(r.detections) == 1 and r.detections.tracker_id[0] == 1 for r in results)  # parked: kept
    still = [r.detector for r in results[:40]]
    assert still.count("hold") >= 30  # the detector slept through the still stretch (noise, JPEG flicker)
    assert report.schedule.gated == still.count("hold")
    assert all(r.detector == "detect" for r in results[41:])  # motion: every frame detected again
    held = [r for r in results[:40] if r.detector == "hold"]
    assert all(np.allclose(r.detections.xyxy, held[0].detections.xyxy) for r in held)  # stationary box
    assert detector.calls == report.schedule.detected < 30


def test_gate_rechecks_a_still_scene_every_few_seconds(tmp_path: Path) -> None:
    clip = parked_then_moving(tmp_path / "parked.avi", still=150, moving=1)
    detector = SquareDetector()
    sink, report = run_lane(clip, ScheduleConfig(motion_gate="on", recheck_s=1.0), detector)
    detected = [r.frame.index for r in sink.results if r.detector == "detect"]
    late = [i for i in detected if 10 < i < 150]
    assert late and all(b - a <= 31 for a, b in zip(late, late[1:]))  # one full detection a second
    assert len(detected) < 20


def test_motion_mask_ignores_motion_inside_it(tmp_path: Path) -> None:
    from vidtrack.detection.motion import MotionGate

    rng = np.random.default_rng(3)
    frame = np.full((120, 160, 3), 60, np.uint8)
    masked = MotionGate([[(0, 0), (80, 0), (80, 120), (0, 120)]])
    open_gate = MotionGate()
    for gate in (masked, open_gate):
        assert gate.moving(frame)  # the first frame always counts
    for i in range(10):
        image = frame.copy()
        image[40:80, 10 + 3 * i : 40 + 3 * i] = 250  # a blob moving inside the left half
        image = np.clip(image + rng.normal(0, 2, image.shape), 0, 255).astype(np.uint8)
        assert not masked.moving(image)
        assert open_gate.moving(image)


def test_gate_takes_a_lighting_change_as_one_recheck_not_as_lasting_motion() -> None:
    from vidtrack.detection.motion import MotionGate

    gate = MotionGate()
    dark = np.full((120, 160, 3), 60, np.uint8)
    gate.moving(dark)
    assert not gate.moving(dark)
    bright = np.full((120, 160, 3), 140, np.uint8)
    assert gate.moving(bright)  # lights on: one detection re-checks the scene
    assert not gate.moving(bright)  # ...and the new lighting is the background at once


def test_stride_interpolates_every_skipped_frame(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tiny.avi", frames=30)
    detector = SquareDetector()
    sink, report = run_lane(clip, ScheduleConfig(detect_every="3"), detector)
    results = sink.results
    assert [r.frame.index for r in results] == list(range(30))
    assert detector.calls == 10 and report.schedule.strided == 20
    kinds = [r.detector for r in results[:27]]
    assert kinds == ["detect", "interpolate", "interpolate"] * 9
    x = np.array([float(r.detections.xyxy[0, 0]) for r in results[:28]])
    assert np.allclose(np.diff(x), 3.0, atol=0.6)  # the square moves 3 px a frame: so do the skipped frames
    assert {int(r.detections.tracker_id[0]) for r in results[:28]} == {1}  # reported from frame 0, one id


def test_a_crossing_between_detected_frames_is_counted_at_an_interpolated_time(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "tiny.avi", frames=30)
    analytics = AnalyticsConfig.from_options(line=["60,0,60,120:door"])

    def crossings(schedule: ScheduleConfig) -> list[tuple[object, str, float]]:
        events = []
        action: dict[int, str] = {}

        def on_frame(_lane: int, result: FrameResult) -> None:
            action[result.frame.index] = result.detector
            events.extend(e for e in result.events if e.type == "cross")

        execute(RunRequest(sources=[str(clip)], analytics=analytics, schedule=schedule), on_frame=on_frame,
                detector=SquareDetector())
        return [(e.direction, action[e.frame], e.t) for e in events]

    full = crossings(ScheduleConfig())
    strided = crossings(ScheduleConfig(detect_every="4"))
    assert len(full) == len(strided) == 1 and full[0][0] == strided[0][0]
    assert strided[0][1] == "interpolate"  # found on a frame the detector skipped
    assert abs(strided[0][2] - full[0][2]) <= 4 / 30 + 1e-9  # within one detector interval


def test_interpolation_keeps_each_track_its_own_box() -> None:
    import supervision as sv

    from vidtrack.tracking.stride import interpolate

    def frame(keys: list[int], xs: list[float]) -> sv.Detections:
        boxes = np.array([[x, 0.0, x + 10, 10.0] for x in xs])
        return sv.Detections(xyxy=boxes, class_id=np.array(keys), tracker_id=np.array(keys),
                             data={"track_key": np.array(keys)})

    before = frame([5, 3, 9], [0.0, 100.0, 200.0])
    after = frame([9, 5, 3, 7], [204.0, 4.0, 104.0, 300.0])  # other row order, and a new track 7
    middle = interpolate(before, after, 1, 4)
    assert sorted(zip(middle.tracker_id.tolist(), middle.xyxy[:, 0].tolist())) == [(3, 101.0), (5, 1.0), (9, 201.0)]
    assert all(middle.class_id == middle.tracker_id)  # every column moved with its row


def test_auto_stride_follows_speed_relative_to_size_and_live_lines() -> None:
    import supervision as sv

    from vidtrack.tracking.stride import auto_stride

    def tracks(x: float) -> sv.Detections:
        return sv.Detections(xyxy=np.array([[x, 10.0, x + 20, 60.0]]), tracker_id=np.array([1]),
                             data={"track_key": np.array([1])})

    assert auto_stride(tracks(0), tracks(0), 1, 4, 360) == 4  # still
    assert auto_stride(tracks(0), tracks(20), 1, 4, 360) == 1  # fast: 0.4 box heights a frame
    # 10 px a frame, less 1.5 px of detection jitter (0.03 box heights): 0.17 box heights a frame
    assert auto_stride(tracks(0), tracks(10), 1, 4, 360) == 2
    assert auto_stride(tracks(0), tracks(20), 2, 4, 360) == 2  # 9.25 px a frame: the jitter counts once per gap
    assert auto_stride(tracks(0), tracks(5), 1, 4, 360) == 4  # 0.07 box heights a frame: slow
    assert auto_stride(tracks(0), tracks(1), 1, 4, 360) == 4  # jitter, not motion
    assert auto_stride(tracks(0), tracks(0), 1, 4, 2600) == 3  # small (under 2 % of the frame height): careful
    assert auto_stride(tracks(0), tracks(0), 1, 4, 2600, careful=2) == 2
    reaches: list[float] = []

    def line_at_60(reach: np.ndarray) -> np.ndarray:
        reaches.append(float(reach[0]))
        return np.abs(np.array([45.0]) - 60.0) <= reach  # the anchor (x 45) is 15 px from a line at x 60

    assert auto_stride(tracks(35), tracks(35), 1, 4, 360, near_line=line_at_60) == 4  # still: never reaches it
    assert auto_stride(tracks(31), tracks(35), 1, 4, 360, near_line=line_at_60) == 1  # 4 px a frame: reaches it
    assert reaches == [pytest.approx(5.0), pytest.approx(15.0)]  # 2.5 px a frame over 4 frames, plus 5
    assert auto_stride(None, tracks(0), 0, 4, 360) == 1  # first sight: speeds unknown
    two = sv.Detections(xyxy=np.array([[0.0, 10.0, 20.0, 60.0], [100.0, 10.0, 120.0, 60.0]]),
                        tracker_id=np.array([1, 2]), data={"track_key": np.array([1, 2])})
    assert auto_stride(tracks(0), two, 1, 4, 360) == 3  # a new object: speed unknown (careful)


@pytest.mark.parametrize("value", ["0", "x", "-2", "2.5"])
def test_bad_detect_every_is_a_one_line_error(value: str) -> None:
    with pytest.raises(OptionError, match="--detect-every"):
        ScheduleConfig(detect_every=value)


def test_bad_motion_gate_and_mask_are_one_line_errors() -> None:
    with pytest.raises(OptionError, match="--motion-gate"):
        ScheduleConfig(motion_gate="sometimes")
    with pytest.raises(OptionError, match="--motion-mask"):
        ScheduleConfig(motion_mask=("1,2,3",))


def test_summary_and_hud_say_what_was_skipped(tmp_path: Path) -> None:
    from vidtrack.overlay import HudInfo

    clip = parked_then_moving(tmp_path / "parked.avi")
    outcome = execute(
        RunRequest(sources=[str(clip)], schedule=ScheduleConfig(motion_gate="on", detect_every="2"), annotate=True),
        detector=SquareDetector(),
    )
    detector = outcome.summaries[0]["detector"]
    assert detector["frames_detected"] + detector["frames_gated"] + detector["frames_strided"] == 60
    assert detector["frames_gated"] >= 30 and detector["frames_strided"] >= 5
    assert detector["detections_per_s"] > 0
    line = "detected 40% (12.0/s)  gated 50%  strided 10%"
    assert line in HudInfo(fps=30.0, schedule=line).lines()
    plain = execute(RunRequest(sources=[str(clip)]), detector=SquareDetector())
    assert "detector" not in plain.summaries[0]  # full rate: nothing skipped, nothing said


class BusyCamera:
    """A live source that always has a new frame (a camera the lane can never keep up with)."""

    def __init__(self, mark: int) -> None:
        from vidtrack.sources import SourceState, SourceStatus

        self.info = __import__("vidtrack.frames", fromlist=["SourceInfo"]).SourceInfo(
            f"cam{mark}", 160, 120, None, None, is_live=True
        )
        self.status = SourceStatus(SourceState.CONNECTED)
        self.reconnects = 0
        self.mark = mark
        self._stop = False

    def frames(self):
        import time

        i = 0
        while not self._stop:
            image = np.zeros((120, 160, 3), np.uint8)
            image[0, 0] = self.mark
            yield __import__("vidtrack.frames", fromlist=["Frame"]).Frame(image, i, i / 30, time.monotonic())
            i += 1

    def stop(self) -> None:
        self._stop = True

    def close(self) -> None:
        self._stop = True


def test_a_busy_camera_cannot_starve_another_sharing_the_detector() -> None:
    calls: list[int] = []

    class Recording(SquareDetector):
        def detect(self, image: np.ndarray):
            calls.append(int(image[0, 0, 0]))
            if len(calls) == 80:
                pipeline.stop()
            return super().detect(image)

    lanes = [Lane(BusyCamera(mark), __import__("vidtrack.tracking", fromlist=["IoUTracker"]).IoUTracker(), [Collect()])
             for mark in (1, 2)]
    pipeline = Pipeline(Recording(delay=0.005), lanes)
    pipeline.run()
    first = calls[:80]
    print("".join(map(str, first)))
    assert min(first.count(1), first.count(2)) >= 0.35 * len(first), first  # about equal shares
    longest = max(len(run) for run in "".join(map(str, first)).replace("12", "1 2").replace("21", "2 1").split())
    assert longest <= 4, first  # neither waits behind a long run of the other's frames


@pytest.mark.parametrize("schedule", [ScheduleConfig(motion_gate="on"), ScheduleConfig(detect_every="3")], ids=["gated", "strided"])
def test_frames_the_detector_skips_are_never_converted_to_bgr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, schedule: ScheduleConfig
) -> None:
    from vidtrack.sources.files import VideoFileSource

    converted: list[int] = []
    to_bgr = VideoFileSource._to_bgr
    monkeypatch.setattr(VideoFileSource, "_to_bgr", lambda self, frame: converted.append(1) or to_bgr(self, frame))
    clip = parked_then_moving(tmp_path / "parked.avi")
    outcome = execute(RunRequest(sources=[str(clip)], schedule=schedule), detector=SquareDetector())
    detector = outcome.summaries[0]["detector"]
    assert detector["frames_gated"] + detector["frames_strided"] >= 30
    assert len(converted) <= detector["frames_detected"] + 2  # the first frame (size probe) and the detected ones
    assert outcome.summaries[0]["tracks"] == {"person": 1}


def test_a_gap_is_detected_frame_by_frame_where_a_track_began_or_ended_near_a_line() -> None:
    import supervision as sv

    from vidtrack.pipeline import _plain_gap

    def tracks(*rows: tuple[int, float]) -> sv.Detections:  # (key, left x); boxes 20 x 50, confirmed
        keys = np.array([k for k, _ in rows], dtype=np.int64)
        return sv.Detections(xyxy=np.array([[x, 10.0, x + 20, 60.0] for _, x in rows]).reshape(-1, 4),
                             tracker_id=keys, data={"track_key": keys})

    class LineAtX60:
        def near_lines(self, tracked: sv.Detections, reach: np.ndarray) -> np.ndarray:
            centre = (tracked.xyxy[:, 0] + tracked.xyxy[:, 2]) / 2
            return np.abs(centre - 60.0) <= reach

        def in_zones(self, tracked: sv.Detections) -> np.ndarray:
            return tracked.xyxy[:, 0] > 400  # a zone on the right

    lane = SimpleNamespace(analytics=LineAtX60())
    assert _plain_gap(lane, tracks((1, 0.0)), tracks((1, 80.0)))  # crossed, seen on both sides: interpolated
    assert not _plain_gap(lane, tracks((1, 0.0)), tracks((1, 0.0), (2, 45.0)))  # a new track by the line
    assert _plain_gap(lane, tracks((1, 0.0)), tracks((1, 0.0), (2, 200.0)))  # ... far from it
    assert not _plain_gap(lane, tracks((1, 0.0), (3, 40.0)), tracks((1, 0.0)))  # a track lost by the line
    assert not _plain_gap(lane, tracks((1, 0.0)), tracks((1, 0.0), (4, 450.0)))  # a new track in a zone
    assert _plain_gap(SimpleNamespace(analytics=None), tracks((1, 0.0)), tracks((2, 45.0)))  # no lines: all plain


def test_mjpeg_pictures_stay_undecoded_for_the_gate_and_decode_in_full_when_read() -> None:
    import cv2

    from live_servers import MjpegServer
    from vidtrack.config import SourceConfig
    from vidtrack.sources.live import LiveSource
    from vidtrack.sources.mjpeg import jpeg_size

    rng = np.random.default_rng(3)
    pictures = [rng.integers(0, 255, (120, 160, 3), dtype=np.uint8) for _ in range(3)]
    server = MjpegServer(pictures, fps=30.0).start()
    got = []
    try:
        source = LiveSource(server.url, SourceConfig(stall_timeout=5, max_retries=3))
        source.lazy_color = True  # what the runner sets when a gate runs and nothing draws
        try:
            for seen, frame in enumerate(source.frames()):
                if not frame.converted:  # (a frame read before the switch comes decoded)
                    got.append(frame)
                if len(got) == 3 or seen > 60:
                    break
        finally:
            source.close()
    finally:
        server.stop()
    assert len(got) == 3
    for frame in got:
        assert frame.size == (160, 120) and frame.gray().shape == (30, 40)  # a 1/4-size gray decode
        assert not frame.converted
        assert frame.image.shape == (120, 160, 3) and frame.converted  # decoded in full on first read
    assert jpeg_size(cv2.imencode(".jpg", pictures[0])[1].tobytes()) == (160, 120)
    assert jpeg_size(b"\xff\xd8\xff\xd9") is None


def test_bridge_moves_each_track_on_its_straight_path() -> None:
    import supervision as sv

    from vidtrack.tracking.stride import bridge

    # Tracker outputs at two detected frames 4 frames apart: track 7 in both, 8 ends, 9 begins.
    last = sv.Detections(xyxy=np.array([[0.0, 0, 10, 20], [50, 0, 60, 20]]), tracker_id=np.array([1, 2]),
                         data={"track_key": np.array([7, 8]), "det_index": np.array([0, 1])})
    last_boxes = np.array([[0.0, 0, 10, 20], [50, 0, 60, 20]])  # the detections those rows matched
    raw = sv.Detections(xyxy=np.array([[200.0, 0, 210, 20], [8, 4, 20, 28]]), confidence=np.array([0.6, 0.8]),
                        class_id=np.array([1, 0]), data={"class_name": np.array(["car", "person"])})
    following = sv.Detections(xyxy=raw.xyxy.copy(), tracker_id=np.array([0, 1]),
                              data={"track_key": np.array([9, 7]), "det_index": np.array([0, 1])})
    steps = bridge(last, last_boxes, following, raw, 4)
    assert len(steps) == 3
    for k, step in enumerate(steps, start=1):
        assert len(step) == 1  # only the track seen at both frames
        assert np.allclose(step.xyxy[0], np.array([0.0, 0, 10, 20]) + np.array([8.0, 4, 10, 8]) * k / 4)
        assert step.confidence[0] == pytest.approx(0.8) and step.class_id[0] == 0
        assert step.data["class_name"][0] == "person"
        assert step.tracker_id is not None and step.tracker_id[0] == 1  # rows of a track, not detections
    assert raw.xyxy[1, 0] == 8  # the input is not modified


def test_interpolated_frames_leave_the_score_ranks_alone() -> None:
    from vidtrack.tracking import IoUTracker
    from vidtrack.detection.base import make_detections

    names = {0: "person"}
    rng = np.random.default_rng(5)

    def frame(scores: np.ndarray):
        boxes = np.array([[10.0 + 40 * i, 10, 40 + 40 * i, 70] for i in range(len(scores))])
        return make_detections(boxes, scores, np.zeros(len(scores), int), names)

    history = [frame(rng.uniform(0.2, 0.9, 5)) for _ in range(12)]
    trackers = [IoUTracker(), IoUTracker(), IoUTracker()]
    for t in trackers:
        for f in history:
            t.update_all(f)
    probe = np.linspace(0.05, 0.95, 19)
    before = trackers[0].score_rank(probe)
    confident = frame(np.full(5, 0.99))  # copies of one detected frame's scores, many times over
    for _ in range(30):
        trackers[1].update_all(confident)
        trackers[2].update_interpolated(confident)
    assert not np.allclose(trackers[1].score_rank(probe), before)  # fed as detections: the ranks move
    assert np.array_equal(trackers[2].score_rank(probe), before)  # interpolated: the detector's own ranks


def _square_clip(path: Path, frames: int, left: Callable[[int], int | None]) -> Path:
    """An MJPG clip of ``frames`` 160x120 frames at 30 fps with a 25x30 square whose left edge is
    ``left(i)`` px in frame ``i`` (None: no square in that frame)."""
    import cv2

    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 30.0, (160, 120))
    for i in range(frames):
        image = np.zeros((120, 160, 3), np.uint8)
        x = left(i)
        if x is not None:
            image[40:70, x : x + 25] = (40, 200, 250)
        writer.write(image)
    writer.release()
    return path


def _arrives_late(path: Path) -> Path:
    """An empty scene; from frame 30 a square moves in at 2 px a frame."""
    return _square_clip(path, 60, lambda i: 10 + 2 * (i - 30) if i >= 30 else None)


def test_strided_tracks_are_confirmed_in_frames_as_at_full_rate(tmp_path: Path) -> None:
    clip = _arrives_late(tmp_path / "late.avi")
    first = {}
    for every in ("1", "3"):
        sink, _ = run_lane(clip, ScheduleConfig(detect_every=every), SquareDetector())
        first[every] = min(r.frame.index for r in sink.results if len(r.detections))
    # Between detections the tracker is fed every frame (tracking.stride.bridge): a new object
    # is confirmed after min_hits frames, not min_hits detector calls, so the look-ahead still
    # holds its first frame and it is reported from there, as at full rate.
    assert first["1"] == 30
    assert first["3"] == first["1"]


def _hidden_for_a_while(path: Path) -> Path:
    """A still square, hidden for frames 25-44 (0.67 s at 30 fps: shorter than max_age), then back in place."""
    return _square_clip(path, 70, lambda i: None if 25 <= i < 45 else 60)


def test_strided_tracks_age_in_seconds_as_at_full_rate(tmp_path: Path) -> None:
    clip = _hidden_for_a_while(tmp_path / "hidden.avi")
    ids = {}
    for every in ("1", "3"):
        sink, _ = run_lane(clip, ScheduleConfig(detect_every=every), SquareDetector())
        ids[every] = {r.frame.index: [int(i) for i in r.detections.tracker_id] for r in sink.results}
    # The track outlives 20 unseen frames (max_age 1 s = 30 frames) and keeps its id. The strided
    # tracker is fed every frame of a file, so its max_age is counted in frames of the video's own
    # rate, not in detector calls (a tracker at a third of the rate would end it after 10 frames).
    assert ids["1"][60] == [1]
    assert ids["3"][60] == ids["1"][60]


def test_warp_moves_boxes_as_the_tracker_compensates_camera_motion() -> None:
    from vidtrack.tracking.stride import warp

    boxes = np.array([[10.0, 20, 30, 60]])
    assert np.allclose(warp(boxes, None), boxes) and warp(boxes, None) is not boxes
    shift = np.array([[1.0, 0, 5], [0, 1, -3]])
    assert np.allclose(warp(boxes, shift), [[15.0, 17, 35, 57]])
    zoom = np.array([[2.0, 0, 0], [0, 2, 0]])  # centre (20, 40) -> (40, 80), size x2
    assert np.allclose(warp(boxes, zoom), [[20.0, 40, 60, 120]])
