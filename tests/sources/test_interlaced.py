"""Item 4 of issue 24: interlaced video (1080i broadcast, camcorder .mts) is deinterlaced before detection."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import SquareDetector, video_path
from vidtrack.sources.files import VideoFileSource


def combing(image: np.ndarray) -> float:
    """Mean distance of each row from the mean of its neighbours: high where fields disagree."""
    grey = image.astype(np.float64).mean(axis=2)
    return float(np.abs(grey[1:-1] - (grey[:-2] + grey[2:]) / 2).mean())


@pytest.fixture(scope="module")
def interlaced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Moving traffic woven into top-field-first frames and coded interlaced (as a broadcast .ts is)."""
    path = tmp_path_factory.mktemp("interlaced") / "tff.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video_path("highway_traffic_720p.mp4")), "-frames:v", "40",
                    "-vf", "fps=50,tinterlace=interleave_top,setfield=tff", "-flags", "+ilme+ildct", "-top", "1",
                    "-c:v", "libx264", "-preset", "ultrafast", str(path)], check=True, timeout=60)
    return path


def test_interlaced_frames_are_deinterlaced_before_detection(interlaced: Path) -> None:
    with av.open(str(interlaced)) as container:
        raw = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    source = VideoFileSource(interlaced)
    try:
        frames = [f for f in source.frames()]
    finally:
        source.close()
    assert source.deinterlaced and len(frames) == len(raw)  # one picture per frame, none lost
    assert [round(f.pts, 3) for f in frames[:3]] == [0.0, 0.04, 0.08]
    woven = np.mean([combing(x) for x in raw])
    clean = np.mean([combing(f.image) for f in frames])
    assert clean < 0.85 * woven, (clean, woven)


def test_the_output_of_an_interlaced_input_is_progressive_and_the_summary_says_so(interlaced: Path, tmp_path: Path) -> None:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    out = tmp_path / "out.mp4"
    outcome = execute(request_from_options([str(interlaced)], {"output": str(out)}), detector=SquareDetector())
    assert outcome.summaries[0]["deinterlaced"] is True
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "stream=field_order",
                            "-of", "csv=p=0", str(out)], capture_output=True, text=True, check=True)
    assert probe.stdout.strip() == "progressive"
    with av.open(str(out)) as container:
        written = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with av.open(str(interlaced)) as container:
        raw = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    assert np.mean([combing(x) for x in written]) < 0.9 * np.mean([combing(x) for x in raw])


def test_progressive_input_is_left_alone(tmp_path: Path) -> None:
    source = VideoFileSource(video_path("carphone_176x144.mp4"))
    try:
        next(iter(source.frames()))
    finally:
        source.close()
    assert not source.deinterlaced
