"""The Python API: ``vidtrack.track`` / ``detect`` / ``tags``, the lazy public surface, the README's examples."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

import vidtrack
from conftest import PROJECT_ROOT, SquareDetector, make_clip, model_path, shared_path, video_path
from vidtrack.errors import OptionError, SourceError

PUBLIC = {
    "__version__", "track", "detect", "tags", "IoUTracker", "TrackerConfig", "load_detector", "DetectorConfig",
    "Overlay", "open_source",
}


def test_all_is_exactly_the_public_surface_and_each_name_resolves() -> None:
    assert set(vidtrack.__all__) == PUBLIC and len(vidtrack.__all__) == len(PUBLIC)
    for name in vidtrack.__all__:
        assert getattr(vidtrack, name) is not None
    with pytest.raises(AttributeError):
        vidtrack.no_such_name  # noqa: B018


def test_tracker_names_stay_light() -> None:
    """Building a tracker through the package imports neither OpenCV, torch nor supervision."""
    code = ("import sys, vidtrack; vidtrack.IoUTracker(vidtrack.TrackerConfig()); vidtrack.DetectorConfig(model='m.pt')\n"
            "print(' '.join(m for m in sys.modules if m.split('.')[0] in ('cv2', 'torch', 'supervision', 'ultralytics')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert out.stdout.strip() == ""


@pytest.fixture
def square_model(monkeypatch: pytest.MonkeyPatch) -> SquareDetector:
    """``track`` runs with the stand-in detector that finds ``make_clip``'s square (no real model)."""
    import vidtrack.detection

    detector = SquareDetector()
    monkeypatch.setattr(vidtrack.detection, "load_detector", lambda config: detector)
    return detector


def _frames(path: Path) -> int:
    import av

    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_track_yields_every_frame_with_track_ids_and_writes_outputs(tmp_path: Path, square_model: SquareDetector) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=30)
    out = tmp_path / "out.mp4"
    run = vidtrack.track(clip, output=out, summary=tmp_path / "s.json", min_hits=2)
    results = []
    while True:
        try:
            results.append(next(run))
        except StopIteration as end:
            outcome = end.value
            break
    assert [r.frame.index for r in results] == list(range(30))
    # Recorded files are tracked with look-ahead: the one object has id 1 from its first frame.
    assert all(list(r.detections.tracker_id) == [1] for r in results)
    assert results[5].annotated is not None and results[5].frame.pts == pytest.approx(5 / 30)
    assert outcome.summaries[0]["frames"] == 30 and (tmp_path / "s.json").exists()
    assert _frames(out) == 30


def test_leaving_the_loop_stops_the_run_and_finalises_the_video(tmp_path: Path, square_model: SquareDetector) -> None:
    clip = make_clip(tmp_path / "clip.avi", frames=300)
    out = tmp_path / "out.mp4"
    run = vidtrack.track(str(clip), output=str(out))
    for result in run:
        if result.frame.index == 9:
            break
    run.close()
    assert not [t for t in threading.enumerate() if t.name == "vidtrack-track"]
    assert _frames(out) == 10  # a playable file holding exactly the frames the loop received
    assert square_model.calls < 300


def test_track_reads_a_live_stream_until_closed(tmp_path: Path, square_model: SquareDetector) -> None:
    from live_servers import MjpegServer

    frames = [np.full((120, 160, 3), 40, np.uint8) for _ in range(4)]
    for i, image in enumerate(frames):
        image[40:70, 10 + 20 * i : 35 + 20 * i] = (40, 200, 250)
    with MjpegServer(frames, fps=30) as server:
        seen = []
        for result in vidtrack.track(server.url, annotate=True):
            seen.append(result)
            if len(seen) == 8:
                break
    assert len(seen) == 8 and all(r.annotated is not None for r in seen)
    assert not [t for t in threading.enumerate() if t.name == "vidtrack-track"]


def test_bad_option_raises_at_the_call_and_bad_source_before_any_output(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="max_agee"):
        vidtrack.track("clip.mp4", max_agee=3)
    with pytest.raises(OptionError, match="conf=2") as raised:  # Python's wording, not the CLI's --conf
        vidtrack.track("clip.mp4", conf=2.0)
    assert "--" not in str(raised.value)
    run = vidtrack.track(tmp_path / "missing.mp4", output=tmp_path / "out.mp4")
    with pytest.raises(SourceError, match="no such file"):
        next(run)
    assert list(tmp_path.iterdir()) == []


def test_tags_give_the_best_confidence_per_class() -> None:
    import supervision as sv

    detections = sv.Detections(
        xyxy=np.zeros((3, 4)), confidence=np.array([0.5, 0.91, 0.876]), class_id=np.array([0, 0, 2]),
        data={"class_name": np.array(["person", "person", "car"])},
    )
    assert vidtrack.tags(detections) == {"person": 91, "car": 88}
    assert list(vidtrack.tags(detections)) == ["person", "car"]
    assert vidtrack.tags(detections[np.array([False, False, False])]) == {}


def test_detect_checks_its_input(tmp_path: Path) -> None:
    with pytest.raises(OptionError, match="max_age"):
        vidtrack.detect(np.zeros((32, 32, 3), np.uint8), max_age=3)  # a tracker option
    with pytest.raises(SourceError, match="no such image"):
        vidtrack.detect(tmp_path / "missing.jpg", model="m.pt")
    (tmp_path / "notes.jpg").write_text("not an image")
    with pytest.raises(SourceError, match="not an image"):
        vidtrack.detect(tmp_path / "notes.jpg", model="m.pt")
    with pytest.raises(ValueError, match="HxWx3 uint8"):
        vidtrack.detect(np.zeros((32, 32), np.float32), model="m.pt")


def _bus_jpg() -> Path:
    from vidtrack.demo import packaged_image

    return packaged_image()


@pytest.mark.realdata
def test_detect_finds_the_people_and_the_bus(real_model: str) -> None:
    path = _bus_jpg()
    detections = vidtrack.detect(path, model=real_model)
    names = list(detections.data["class_name"])
    assert names.count("person") >= 3 and "bus" in names
    assert detections.xyxy.shape == (len(names), 4) and detections.tracker_id is None
    one = vidtrack.detect(str(path), model=real_model, single=True, classes="bus")
    assert list(one.data["class_name"]) == ["bus"]
    assert set(vidtrack.tags(detections)) == set(names)


def _readme_python_blocks() -> list[str]:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Python API") :]
    section = section[: min(section.index("\n## ", 1), section.index("\n### ", 1))]
    return re.findall(r"```python\n(.*?)```", section, re.S)


@pytest.mark.realdata
def test_readme_python_examples_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    """The README's Python blocks, run as written, in a folder holding the files they name."""
    blocks = _readme_python_blocks()
    assert len(blocks) == 2
    # A checkout beside a shared/ tree holding the files the README names; the 1080p street
    # clip stands in as the 176x144 carphone clip (120 frames) to keep the test fast.
    repo, shared = tmp_path / "vidtrack", tmp_path / "shared" / "assets"
    (repo / "out").mkdir(parents=True)
    (shared / "videos").mkdir(parents=True)
    (shared / "videos" / "people_street_1080p.mp4").symlink_to(video_path("carphone_176x144.mp4"))
    (shared / "coco128" / "images").mkdir(parents=True)
    (shared / "coco128" / "images" / "train2017").symlink_to(shared_path("assets/coco128/images/train2017"))
    monkeypatch.setenv("VIDTRACK_MODEL", model_path())
    monkeypatch.chdir(repo)
    namespace: dict[str, object] = {}
    for block in blocks:
        exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    printed = capsys.readouterr().out.splitlines()
    assert "'bowl'" in printed[0]
    assert printed[-1] == "[1 2] [0 1]"
    # Leaving the loop at frame 49 writes exactly the 50 frames the loop received.
    assert _frames(repo / "out" / "street_tracked.mp4") == 50


def test_a_live_stream_has_wall_clock_time_without_being_asked(tiny_clip: Path, square_model: SquareDetector) -> None:
    """Live frames carry the capture clock's time (a live source's start is known: now); files
    carry none unless --start-time says when they were recorded."""
    from datetime import datetime, timezone

    from live_servers import MjpegServer

    frames = [np.full((120, 160, 3), 40, np.uint8) for _ in range(4)]
    with MjpegServer(frames, fps=30) as server:
        before = datetime.now(timezone.utc)
        times = []
        for result in vidtrack.track(server.url):
            times.append(result.frame.time)
            if len(times) == 8:
                break
        after = datetime.now(timezone.utc)
    assert all(t is not None and t.utcoffset() is not None for t in times)
    assert all(before.timestamp() - 2 <= t.timestamp() <= after.timestamp() + 0.5 for t in times)
    assert times == sorted(times)
    assert all(result.frame.time is None for result in vidtrack.track(tiny_clip))


def test_a_missing_model_is_named_in_python_terms(tmp_path: Path, tiny_clip: Path) -> None:
    """Python callers choose the model with model=..., so the fix says so (not the CLI's --model)."""
    from vidtrack.errors import ModelError

    missing = tmp_path / "nope.onnx"
    with pytest.raises(ModelError) as raised:
        vidtrack.detect(np.zeros((32, 32, 3), np.uint8), model=missing)
    assert str(missing) in str(raised.value) and "model=PATH" in str(raised.value) and "--" not in str(raised.value)
    with pytest.raises(ModelError) as raised:
        next(iter(vidtrack.track(tiny_clip, model=missing)))
    assert "model=PATH" in str(raised.value) and "--" not in str(raised.value)
