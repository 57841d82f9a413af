"""Short files are stills too: a recording that ends before a track could be confirmed reports its objects.

The rule (README, *What is reported, by kind of source*): a recorded input known to have fewer
frames than ``--min-hits`` is tracked with a confirmation window of its own length. A 1-frame
video reports every detection (as a photo does); a 2-frame GIF every object seen in both frames.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import in_ci, make_clip, video_path
from vidtrack.frames import SourceInfo
from vidtrack.runner import tracking_stages
from vidtrack.tracking.config import TrackerConfig


def info(frames: int | None, live: bool = False) -> SourceInfo:
    return SourceInfo(name="x", width=160, height=120, fps=Fraction(30), frame_count=frames, is_live=live)


@pytest.mark.parametrize(
    ("frames", "live", "hits", "window"),
    [(1, False, 1, 0), (2, False, 2, 1), (3, False, 3, 2), (500, False, 3, 2), (None, False, 3, 2), (1, True, 3, 0)],
)
def test_the_confirmation_window_never_exceeds_a_recordings_length(frames, live, hits, window) -> None:
    stages = tracking_stages(info(frames, live), TrackerConfig(min_hits=3))
    assert stages["tracker"].config.min_hits == hits and stages["lookahead"].window == window


@pytest.mark.parametrize("frames", [1, 2])
def test_a_clip_shorter_than_min_hits_reports_its_object(frames, tmp_path: Path, square_detector) -> None:
    clip = make_clip(tmp_path / "short.avi", frames=frames)
    results = _track(clip, square_detector)
    assert len(results) == frames
    assert all(r.detections.tracker_id.tolist() == [1] for r in results)  # one object, from its first frame


def _track(clip: Path, detector):
    """The run pipeline on ``clip`` with a stand-in detector (no model)."""
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    seen = []
    request = request_from_options([str(clip)], {})
    outcome = execute(request, detector=detector, on_frame=lambda _lane, result: seen.append(result))
    assert outcome.error is None, outcome.error
    return seen


def _ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        if in_ci():
            pytest.fail("ffmpeg is not installed (apt-get install ffmpeg)")
        pytest.skip("ffmpeg is not installed")
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], check=True, timeout=60)


def _jsonl_rows(source: Path, out: Path, real_model: str, **options) -> list[dict]:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    outcome = execute(request_from_options([str(source)], {"model": real_model, "jsonl": out, **options}))
    assert outcome.error is None, outcome.error
    return [json.loads(line) for line in out.read_text().splitlines()]


@pytest.mark.parametrize(("name", "frames", "encode"), [
    ("one.mp4", 1, ["-c:v", "libx264", "-pix_fmt", "yuv420p"]),
    ("two.gif", 2, []),
])
def test_real_short_files_report_the_objects_in_them(name, frames, encode, tmp_path: Path, real_model: str) -> None:
    """A 1-frame MP4 and a 2-frame GIF cut from a real clip: the default run reports what a run
    with --min-hits equal to the file's length reports (the same code path, told explicitly),
    and that is not nothing (people walk through every frame of pedestrians_pets)."""
    short = tmp_path / name
    _ffmpeg("-ss", "4", "-i", str(video_path("pedestrians_pets_h264.avi")), "-frames:v", str(frames), *encode, str(short))
    default = _jsonl_rows(short, tmp_path / "default.jsonl", real_model)
    told = _jsonl_rows(short, tmp_path / "told.jsonl", real_model, min_hits=frames)
    assert len(default) == frames and default == told
    assert all(row["detections"] and all(d["track_id"] for d in row["detections"]) for row in default)
    assert any(d["class"] == "person" for d in default[0]["detections"])
