"""The pipeline with a stand-in detector: ordering, outputs, stopping and failures."""

import json
import threading
from pathlib import Path

import av
import numpy as np

from conftest import SquareDetector, make_clip
from vidtrack.config import OutputConfig
from vidtrack.frames import FrameResult
from vidtrack.overlay import Overlay
from vidtrack.pipeline import Lane, Pipeline
from vidtrack.sinks import JsonlSink, open_video_sink
from vidtrack.sources import open_source
from vidtrack.tracking import IoUTracker, TrackerConfig


class Collect:
    def __init__(self) -> None:
        self.results: list[FrameResult] = []
        self.closed = 0

    warnings: tuple[str, ...] = ()

    def write(self, result: FrameResult) -> None:
        self.results.append(result)

    def close(self) -> None:
        self.closed += 1


def _lane(clip: Path, *sinks, draw: bool = False) -> Lane:
    return Lane(
        source=open_source(str(clip)),
        tracker=IoUTracker(TrackerConfig(min_hits=2)),
        sinks=list(sinks),
        overlay=Overlay() if draw else None,
    )


def test_every_frame_in_order_with_one_track(tiny_clip: Path) -> None:
    sink = Collect()
    reports = Pipeline(SquareDetector(), [_lane(tiny_clip, sink)]).run()
    assert reports[0].frames == 30 and reports[0].error is None
    assert [r.frame.index for r in sink.results] == list(range(30))
    ids = {int(t) for r in sink.results if r.detections.tracker_id is not None for t in r.detections.tracker_id}
    assert ids == {1}
    tracked = sum(len(r.detections) for r in sink.results)
    assert tracked >= 28  # all but the frames before confirmation
    assert sink.closed == 1
    assert all(r.annotated is None for r in sink.results)  # nothing drawn when nobody looks


def test_video_and_jsonl_outputs(tmp_path: Path, tiny_clip: Path) -> None:
    source = open_source(str(tiny_clip))
    video = open_video_sink(tmp_path / "out.mp4", source.info, OutputConfig())
    lane = Lane(source, IoUTracker(), [video, JsonlSink(tmp_path / "out.jsonl")], Overlay())
    report = Pipeline(SquareDetector(), [lane]).run()[0]
    assert report.error is None
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    assert len(lines) == 30
    assert [json.loads(line)["frame"] for line in lines][:3] in ([0, 1, 2], [1, 2, 3])
    with av.open(str(tmp_path / "out.mp4")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert sum(1 for _ in container.decode(stream)) == 30


def test_stop_finishes_outputs(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.avi", frames=300)
    source = open_source(str(clip))
    video = open_video_sink(tmp_path / "out.mp4", source.info, OutputConfig())
    jsonl = tmp_path / "out.jsonl"
    pipeline: Pipeline

    class StopAfter(Collect):
        def write(self, result: FrameResult) -> None:
            super().write(result)
            if len(self.results) == 20:
                threading.Thread(target=pipeline.stop).start()

    stopper = StopAfter()
    lane = Lane(source, IoUTracker(), [video, JsonlSink(jsonl), stopper], Overlay())
    pipeline = Pipeline(SquareDetector(), [lane])
    report = pipeline.run()[0]
    assert report.stopped and report.error is None
    assert 20 <= report.frames < 300
    written = jsonl.read_text().splitlines()
    assert len(written) == report.frames
    assert all(json.loads(line) for line in written)  # whole lines only
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert sum(1 for _ in container.decode(video=0)) == report.frames


def test_failing_detector_still_closes_outputs(tiny_clip: Path) -> None:
    class Broken(SquareDetector):
        def detect(self, image: np.ndarray):
            if self.calls >= 5:
                raise RuntimeError("inference failed")
            return super().detect(image)

    sink = Collect()
    report = Pipeline(Broken(), [_lane(tiny_clip, sink)]).run()[0]
    assert isinstance(report.error, RuntimeError)
    assert sink.closed == 1
    assert len(sink.results) <= 5


def test_failing_sink_stops_the_run_and_closes_the_others(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "long.avi", frames=200)

    class Full(Collect):
        def write(self, result: FrameResult) -> None:
            if len(self.results) == 10:
                raise OSError(28, "No space left on device")
            super().write(result)

    good, bad = Collect(), Full()
    report = Pipeline(SquareDetector(), [_lane(clip, good, bad)]).run()[0]
    assert isinstance(report.error, OSError)
    assert good.closed == 1 and bad.closed == 1
    assert len(good.results) < 200


def test_lanes_have_their_own_ids(tmp_path: Path) -> None:
    a = make_clip(tmp_path / "a.avi", frames=20)
    b = make_clip(tmp_path / "b.avi", frames=25)
    sinks = [Collect(), Collect()]
    reports = Pipeline(SquareDetector(), [_lane(a, sinks[0]), _lane(b, sinks[1])]).run()
    assert [r.frames for r in reports] == [20, 25]
    for sink in sinks:
        ids = {int(t) for r in sink.results if r.detections.tracker_id is not None for t in r.detections.tracker_id}
        assert ids == {1}
    assert {r.frame.source_id for r in sinks[1].results} == {0}  # opened separately here


def test_drawn_frames_when_a_sink_shows_pictures(tiny_clip: Path) -> None:
    sink = Collect()
    Pipeline(SquareDetector(), [_lane(tiny_clip, sink, draw=True)]).run()
    last = sink.results[-1]
    assert last.annotated is not None
    clean = open_source(str(tiny_clip))
    original = [f.image for f in clean.frames()][-1]
    assert not np.array_equal(last.annotated, original)
    assert last.counts == {"person": 1}
    assert last.timings_ms.keys() >= {"decode", "detect", "track", "draw"}


class PausingCamera:
    """A live source that sends ``count`` frames, then pauses ``pause_s`` seconds (still open)."""

    def __init__(self, count: int, pause_s: float) -> None:
        from vidtrack.frames import SourceInfo
        from vidtrack.sources import SourceState, SourceStatus

        self.info = SourceInfo("cam", 64, 48, None, None, is_live=True)
        self.status = SourceStatus(SourceState.CONNECTED)
        self.count, self.pause_s = count, pause_s
        self.yielded_at: dict[int, float] = {}
        self._stop = threading.Event()

    reconnects = 0
    truncated = False
    size_changes = ()
    error = None

    def frames(self):
        import time

        from vidtrack.frames import Frame

        for i in range(self.count):
            now = time.monotonic()
            self.yielded_at[i] = now
            yield Frame(np.zeros((48, 64, 3), np.uint8), i, i / 10, now)
            time.sleep(0.1)
        self._stop.wait(self.pause_s)  # the camera pauses; the connection stays open

    def stop(self) -> None:
        self._stop.set()

    def close(self) -> None:
        self._stop.set()


def test_live_frame_is_finished_when_its_detection_is_done_not_when_the_next_frame_comes() -> None:
    import time

    class Detector(SquareDetector):
        max_in_flight = 2  # two frames in flight: a frame used to wait for the next one to arrive

    arrived: dict[int, float] = {}

    class Stamp(Collect):
        def write(self, result: FrameResult) -> None:
            arrived[result.frame.index] = time.monotonic()
            super().write(result)

    camera = PausingCamera(count=5, pause_s=2.0)
    lane = Lane(camera, IoUTracker(), [Stamp()])
    started = time.monotonic()
    report = Pipeline(Detector(delay=0.02), [lane]).run()[0]
    assert report.error is None and sorted(arrived) == list(range(5))
    waits = {i: arrived[i] - camera.yielded_at[i] for i in arrived}
    print(f"\nyield -> sink per frame: {', '.join(f'{w * 1000:.0f} ms' for w in waits.values())}")
    assert waits[4] < 0.5  # the last frame before the 2 s pause is out long before the pause ends
    assert time.monotonic() - started >= 2.0


def test_file_hud_never_shows_the_source_state(tiny_clip: Path) -> None:
    """A file's decode-ahead thread ends before the lane draws its last frames; the HUD must not say 'ended'."""
    drawn: list[list[str]] = []

    class Recording(Overlay):
        def draw(self, image, detections, hud=None, in_place=False, scene=None):
            drawn.append(hud.lines() if hud is not None else [])
            return super().draw(image, detections, hud, in_place=in_place, scene=scene)

    lane = Lane(open_source(str(tiny_clip)), IoUTracker(), [Collect()], Recording())
    Pipeline(SquareDetector(delay=0.02), [lane]).run()
    assert len(drawn) == 30
    assert not [lines for lines in drawn if any(line.startswith("source ") for line in lines)]
