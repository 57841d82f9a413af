"""End to end: ``vidtrack run`` on live local streams, stopped with SIGTERM like a service."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, model_path, video_path
from live_servers import FfmpegStream, free_port

pytestmark = [pytest.mark.live, pytest.mark.realdata]


def start_run(args: list[str], tmp_path: Path) -> subprocess.Popen[str]:
    env = dict(os.environ, VIDTRACK_MODEL=model_path(), PYTHONPATH=str(PROJECT_ROOT / "src"))
    # Output goes to a file, not a pipe: nobody reads a pipe while the run is going, and a
    # full pipe would block the CLI's progress display.
    log = open(tmp_path / "run.log", "w")
    process = subprocess.Popen(
        [sys.executable, "-m", "vidtrack", "run", *args],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
    )
    log.close()
    process.log_path = tmp_path / "run.log"  # type: ignore[attr-defined]
    return process


def output(process: subprocess.Popen[str]) -> str:
    return process.log_path.read_text()[-3000:]  # type: ignore[attr-defined]


def wait_for_frames(port: int, process: subprocess.Popen[str], sources: int, timeout: float = 90.0) -> dict:
    """Poll the web view's /stats until every source has output a frame; the stats then."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, output(process)
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as response:
                stats = json.load(response)
            if len(stats["sources"]) == sources and all(s["frames"] > 0 for s in stats["sources"]):
                return stats
        except OSError:  # not listening yet (model still loading)
            pass
        time.sleep(0.1)
    process.kill()
    process.wait()
    raise AssertionError(f"no frames within {timeout} s: {output(process)}")


def stop(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=60)
    assert process.returncode == 0, output(process)


def test_live_run_records_real_duration_and_exits_cleanly_on_sigterm(tmp_path: Path) -> None:
    import av

    port = free_port()
    with FfmpegStream(video_path("pedestrians_pets_h264.avi"), "udp", max_seconds=120) as stream:
        process = start_run([stream.url, "-o", "out.mp4", "--jsonl", "out.jsonl", "--serve", f"127.0.0.1:{port}"], tmp_path)
        try:
            wait_for_frames(port, process, sources=1)
            first_frame_at = time.monotonic()
            time.sleep(8)
            recorded_s = time.monotonic() - first_frame_at
            stop(process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    with av.open(str(tmp_path / "out.mp4")) as container:
        video = container.streams.video[0]
        duration = float(container.duration / av.time_base)
        frames = sum(1 for _ in container.decode(video))
    lines = (tmp_path / "out.jsonl").read_text().splitlines()
    print(f"\nwall {recorded_s:.2f} s after the first frame; MP4 {duration:.2f} s, {frames} frames")
    # The MP4 plays for the wall-clock time recorded, whatever the processing rate. It starts
    # at the first frame's capture, which precedes its appearance in /stats by the first
    # (warm-up) inference, hence the extra allowance on the long side.
    assert recorded_s - 0.5 < duration < recorded_s + 2.5
    # one MP4 frame per JSONL line, plus at most the last picture held to the end of the session
    assert len(lines) > 10 and frames in (len(lines), len(lines) + 1)
    # the MP4 runs to the end of the session: the last frame, then its picture held until SIGTERM
    assert duration - 2.0 < json.loads(lines[-1])["t"] <= duration


def test_two_live_sources_in_one_run_share_the_web_view(tmp_path: Path) -> None:
    port = free_port()
    video = video_path("pedestrians_pets_h264.avi")
    with FfmpegStream(video, "udp", max_seconds=120) as first, FfmpegStream(video, "tcp", max_seconds=120) as second:
        process = start_run([first.url, second.url, "--serve", f"127.0.0.1:{port}"], tmp_path)
        try:
            stats = wait_for_frames(port, process, sources=2)
            time.sleep(2)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as response:
                later = json.load(response)
            stop(process)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert [s["id"] for s in later["sources"]] == [0, 1]
    for before, after in zip(stats["sources"], later["sources"]):
        assert after["frames"] > before["frames"]  # both lanes keep going
        assert after["state"] == "connected"
        assert after["frame_age_ms"]["p95"] is not None


def test_a_file_with_serve_keeps_the_page_up_showing_ended_until_sigterm(tmp_path: Path) -> None:
    """The page outlives the file: its final state reads 'ended' (not 'connected') until Ctrl-C/SIGTERM."""
    from conftest import make_clip

    clip = make_clip(tmp_path / "clip.avi", frames=15)
    port = free_port()
    process = start_run([str(clip), "--serve", f"127.0.0.1:{port}", "-q"], tmp_path)
    try:
        deadline = time.monotonic() + 90
        state = None
        while time.monotonic() < deadline and state != "ended":
            assert process.poll() is None, output(process)  # still serving after the file's end
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats", timeout=2) as response:
                    sources = json.load(response)["sources"]
                state = sources[0]["state"] if sources else None  # sources are added once opened
            except OSError:
                pass
            time.sleep(0.2)
        assert state == "ended", output(process)
        while time.monotonic() < deadline and "Ctrl-C" not in output(process):  # the run itself has finished
            assert process.poll() is None, output(process)
            time.sleep(0.2)
        time.sleep(1.0)
        assert process.poll() is None, output(process)  # and the page is still served
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=2) as response:
            assert response.status == 200
        stop(process)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    log = output(process)
    assert log.count("127.0.0.1:%d/live" % port) <= 2 and log.count("web view:") == 1  # printed once
    assert "Ctrl-C" in log
