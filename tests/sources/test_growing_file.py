"""Item 6 of issue 24: a file a recorder is still appending to."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import SquareDetector, video_path
from vidtrack.config import SourceConfig
from vidtrack.sources.files import VideoFileSource


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """4 s of the street clip as MPEG-TS at 320x180 (what a DVR appends to), 120 frames."""
    path = tmp_path_factory.mktemp("grow") / "full.ts"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(video_path("people_street_1080p.mp4")), "-t", "4",
                    "-vf", "scale=320:180", "-c:v", "libx264", "-preset", "ultrafast", "-an", str(path)],
                   check=True, timeout=60)
    return path.read_bytes()


def test_growth_during_the_run_is_warned_and_the_summary_incomplete(recording: bytes, tmp_path: Path) -> None:
    from vidtrack.options import request_from_options
    from vidtrack.runner import execute

    growing = tmp_path / "cam.ts"
    cut = len(recording) // 4
    growing.write_bytes(recording[:cut])

    def writer_goes_on(*_args) -> None:  # the recorder appends once the run has opened the file
        with open(growing, "ab") as f:
            f.write(recording[cut : cut + len(recording) // 8])

    request = request_from_options([str(growing)], {})
    outcome = execute(request, on_start=writer_goes_on, detector=SquareDetector())
    assert outcome.summaries[0]["complete"] is False
    assert any("still being written" in w and "--follow" in w for w in outcome.warnings), outcome.warnings
    assert outcome.summaries[0]["frames"] < 120


def test_an_unchanged_file_is_complete(recording: bytes, tmp_path: Path) -> None:
    still = tmp_path / "done.ts"
    still.write_bytes(recording)
    source = VideoFileSource(still)
    assert len(list(source.frames())) == 120 and not source.growing
    source.close()


def test_follow_reads_until_the_file_stops_growing(recording: bytes, tmp_path: Path) -> None:
    growing = tmp_path / "cam.ts"
    step = len(recording) // 8
    growing.write_bytes(recording[: 2 * step])

    def writer() -> None:
        for start in range(2 * step, len(recording), step):
            time.sleep(0.25)
            with open(growing, "ab") as f:
                f.write(recording[start : start + step])

    source = VideoFileSource(growing, SourceConfig(follow=1.0))
    thread = threading.Thread(target=writer)
    thread.start()
    try:
        frames = list(source.frames())
    finally:
        thread.join()
        source.close()
    assert len(frames) == 120 and not source.growing and source.decode_error is None
