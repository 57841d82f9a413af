"""Real files that broke runs: variable frame rate, broken audio stamps, size changes, odd pixels, edit lists.

Inputs are made from ../shared videos with Debian's ffmpeg into tmp (never committed), then run
through the CLI once, side by side (one model load), with every output written.
"""

from __future__ import annotations

import errno
import json
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from conftest import PROJECT_ROOT, model_path, video_path

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
FRAME = 1 / 30

#: The issue's VFR clip: 30 fps for 1 s then 15 fps, a white flash and a 1 kHz beep together at 1.000 s.
VFR_FILTER = (
    "scale=640:360,trim=end_frame=60,drawbox=x=0:y=0:w=iw:h=ih:color=white:t=fill:enable='eq(n,30)',"
    "setpts='if(lt(N,30),N,30+2*(N-30))/30/TB'"
)
BEEP = "aevalsrc='if(between(t,1.0,1.1),0.8*sin(2*PI*1000*t),0)':s=44100:d=3"


def ffmpeg(*args: str) -> None:
    subprocess.run([FFMPEG, "-v", "error", "-y", *args], check=True, timeout=60)


def make_inputs(folder: Path) -> dict[str, Path]:
    street = str(video_path("people_street_1080p.mp4"))
    pets = str(video_path("pedestrians_pets_h264.avi"))
    made = {name: folder / name for name in ("vfr.mp4", "trim.avi", "res.ts", "sar.mp4", "edit.mp4")}
    ffmpeg("-i", street, "-f", "lavfi", "-i", BEEP, "-vf", VFR_FILTER, "-fps_mode", "passthrough", "-c:v", "libx264",
           "-pix_fmt", "yuv420p", "-c:a", "aac", "-video_track_timescale", "600", "-t", "3", str(made["vfr.mp4"]))
    ffmpeg("-i", pets, "-t", "5", "-c", "copy", str(made["trim.avi"]))  # AAC with repeated timestamps
    small, large = folder / "a.ts", folder / "b.ts"
    ffmpeg("-i", street, "-t", "1", "-vf", "scale=640:360", "-c:v", "libx264", "-an", str(small))
    ffmpeg("-ss", "2", "-i", street, "-t", "1", "-vf", "scale=1280:720", "-c:v", "libx264", "-an", str(large))
    made["res.ts"].write_bytes(small.read_bytes() + large.read_bytes())  # `cat a.ts b.ts`
    ffmpeg("-i", street, "-frames:v", "10", "-vf", "scale=720:480,setsar=32/27", "-c:v", "libx264", str(made["sar.mp4"]))
    ffmpeg("-i", street, "-t", "1", "-vf", "scale=640:360", "-c:v", "libx264", "-bf", "2",
           "-avoid_negative_ts", "disabled", "-output_ts_offset", "-0.1", str(made["edit.mp4"]))
    return made


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("faults")
    inputs = make_inputs(folder)
    out = folder / "out"
    out.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "run", *map(str, inputs.values()), "--model", model_path(),
         "-o", str(out / "o.mp4"), "--jsonl", str(out / "o.jsonl"), "--summary", str(out / "o.json"),
         "--mot", str(out / "o.txt"), "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    names = list(inputs)

    def output(name: str, suffix: str) -> Path:
        return out / f"o-{names.index(name)}{suffix}"

    return {"inputs": inputs, "output": output, "stderr": result.stderr}


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def video_frames(path: Path) -> tuple[list[float], list[float]]:
    """Each decoded frame's time (s) and mean brightness, as a player shows them."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return [float(f.time) for f in frames], [float(f.to_ndarray(format="gray").mean()) for f in frames]


def beep_onset(path: Path) -> float:
    """Seconds from the start of the file to the first loud audio sample."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        for frame in container.decode(stream):
            samples = np.abs(frame.to_ndarray()).max(axis=0)
            loud = np.flatnonzero(samples > 0.1)
            if loud.size:
                return float(frame.time) + loud[0] / frame.sample_rate
    raise AssertionError("no beep in the output audio")


def container_duration(path: Path) -> float:
    with av.open(str(path)) as container:
        return container.duration / av.time_base


def test_variable_frame_rate_keeps_every_frame_at_its_time_and_the_sound_with_it(faults: dict) -> None:
    out = faults["output"]("vfr.mp4", ".mp4")
    times, brightness = video_frames(out)
    assert len(times) == 60
    flash = int(np.argmax(brightness))
    assert flash == 30 and brightness[flash] > 200
    assert times[flash] == pytest.approx(1.0, abs=FRAME)
    assert times[-1] == pytest.approx(88 / 30, abs=1e-3)  # 15 fps after the flash: 2.933 s, not 2.85
    assert beep_onset(out) - times[flash] == pytest.approx(0.0, abs=FRAME)
    assert container_duration(out) == pytest.approx(container_duration(faults["inputs"]["vfr.mp4"]), abs=0.05)
    rows = jsonl(faults["output"]("vfr.mp4", ".jsonl"))
    assert rows[30]["frame"] == 30 and rows[30]["t"] == 1.0
    assert rows[59]["t"] == pytest.approx(88 / 30, abs=1e-3)
    summary = json.loads(faults["output"]("vfr.mp4", ".json").read_text())
    assert summary["frames"] == 60 and summary["duration"] == pytest.approx(3.0, abs=1e-3)


def test_trimmed_avi_with_repeated_audio_stamps_finishes_with_every_frame_and_its_audio(faults: dict) -> None:
    out = faults["output"]("trim.avi", ".mp4")
    times, _ = video_frames(out)
    assert len(times) == 50 and times[-1] == pytest.approx(4.9, abs=1e-3)
    assert len(jsonl(faults["output"]("trim.avi", ".jsonl"))) == 50
    with av.open(str(out)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert float(audio.duration * audio.time_base) == pytest.approx(5.0, abs=0.1)  # re-timed, not 1.2 s
    assert "warning: audio:" in faults["stderr"] and "repeated, backward or restarted timestamps" in faults["stderr"]


def test_a_size_change_is_processed_at_each_frame_size_and_written_at_one(faults: dict) -> None:
    rows = jsonl(faults["output"]("res.ts", ".jsonl"))
    assert len(rows) == 60
    assert [row["t"] for row in rows[29:31]] == [pytest.approx(29 / 30, abs=1e-3), 1.0]  # time runs on across the join
    right = lambda row: max((d["x"] + d["w"] for d in row["detections"]), default=0.0)  # noqa: E731
    bottom = lambda row: max((d["y"] + d["h"] for d in row["detections"]), default=0.0)  # noqa: E731
    assert max(right(r) for r in rows[:30]) <= 642 and max(bottom(r) for r in rows[:30]) <= 362  # 640x360, smoothing aside
    assert 700 < max(right(r) for r in rows[30:]) <= 1282  # boxes in 1280x720 coordinates
    assert 400 < max(bottom(r) for r in rows[30:]) <= 722
    with av.open(str(faults["output"]("res.ts", ".mp4"))) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (640, 360)
        assert sum(1 for _ in container.decode(stream)) == 60
    summary = json.loads(faults["output"]("res.ts", ".json").read_text())
    assert summary["size_changes"] == [{"frame": 30, "t": 1.0, "width": 1280, "height": 720}]
    assert "1280x720" in faults["stderr"] and "scaled to fit" in faults["stderr"]


def test_non_square_pixels_display_16_by_9(faults: dict) -> None:
    with av.open(str(faults["output"]("sar.mp4", ".mp4"))) as container:
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        sar = Fraction(stream.sample_aspect_ratio or stream.codec_context.sample_aspect_ratio)
    assert (width, height) == (720, 480)
    assert sar * Fraction(width, height) == Fraction(16, 9)


def test_an_edit_list_is_not_a_truncated_file(faults: dict) -> None:
    with av.open(str(faults["inputs"]["edit.mp4"])) as container:
        shown = sum(1 for _ in container.decode(video=0))
    assert len(jsonl(faults["output"]("edit.mp4", ".jsonl"))) == shown
    assert "truncated" not in faults["stderr"] and "header said" not in faults["stderr"]


def test_write_errors_name_the_real_cause() -> None:
    from vidtrack.sinks.video import _write_error

    disk = _write_error(Path("o.mp4"), "video", OSError(errno.ENOSPC, "No space left on device"))
    assert "No space left" in str(disk) and "free disk space" in str(disk)
    refused = _write_error(Path("o.mp4"), "video", OSError(errno.EINVAL, "Invalid argument"))
    assert "FFmpeg refused" in str(refused) and "disk" not in str(refused)


class _FailsAt:
    """A detector (the conftest square finder) that raises at frame ``n``, like a model erroring part-way."""

    def __init__(self, n: int) -> None:
        from conftest import SquareDetector

        self.inner, self.n, self.calls = SquareDetector(), n, 0
        self.class_names, self.max_in_flight = self.inner.class_names, 1

    def warmup(self, image_hw: tuple[int, int]) -> None:
        pass  # nothing to prepare

    def detect(self, image: np.ndarray):
        self.calls += 1
        if self.calls > self.n:
            raise RuntimeError("inference failed: device lost")
        return self.inner.detect(image)


@pytest.mark.parametrize("fail_at", [0, 12])
def test_a_run_that_fails_part_way_leaves_only_finalised_outputs(tmp_path: Path, fail_at: int) -> None:
    from conftest import make_clip
    from vidtrack.config import OutputConfig
    from vidtrack.runner import RunRequest, execute

    clip = make_clip(tmp_path / "clip.avi", frames=30)
    out = tmp_path / "out"
    out.mkdir()
    config = OutputConfig(video=out / "o.mp4", jsonl=out / "o.jsonl", mot=out / "o.txt", summary=out / "o.json")
    outcome = execute(RunRequest(sources=[str(clip)], output=config), detector=_FailsAt(fail_at))
    assert "device lost" in str(outcome.error)  # the real cause, not the disk
    if fail_at == 0:
        assert list(out.iterdir()) == []  # nothing usable was written: nothing is left
        return
    written = video_frames(out / "o.mp4")[0]
    assert 0 < len(written) <= fail_at and len(jsonl(out / "o.jsonl")) == len(written)  # playable, whole lines
    summary = json.loads((out / "o.json").read_text())
    assert summary["complete"] is False and "device lost" in summary["error"]
    assert summary["frames"] == len(written)
