"""Cameras that misbehave: bad URLs, credentials, hung cameras, outages until Ctrl-C.

Each test asserts the value the user sees (exit code, message, file length), against the
project's own loopback servers (live_servers.py), which stop themselves.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import PROJECT_ROOT, model_path, video_path
from live_servers import BlackholeServer, MjpegServer, RtspRefuser, free_port, load_frames, read_seq

pytestmark = pytest.mark.live

SECRET = "s3cret"


@pytest.mark.parametrize(
    "url, words",
    [
        (f"rtps://alice:{SECRET}@127.0.0.1:8554/live", ["unknown URL scheme"]),
        (f"http//alice:{SECRET}@127.0.0.1:8080/x", ["no such file"]),
        (f"rtsp://alice:{SECRET}@[::1/live", ["bad stream URL"]),
        (f"rtsp://alice:{SECRET}@127.0.0.1:99999/live", ["port out of range"]),
    ],
)
def test_bad_urls_fail_in_one_line_without_the_password(url: str, words: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "run", url, "-q"], capture_output=True, text=True, cwd=PROJECT_ROOT,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert all(word in lines[0] for word in words), lines[0]
    assert SECRET not in result.stderr + result.stdout
    assert "alice:***@" in lines[0]


def test_sources_open_in_parallel_so_a_hung_camera_costs_others_little() -> None:
    from vidtrack.config import SourceConfig
    from vidtrack.runner import PARALLEL_CONNECT_S, RunRequest, _open_sources
    from vidtrack.sources import SourceState

    frames = load_frames(video_path("pedestrians_pets_mjpeg.avi"), count=10)
    with BlackholeServer() as hung, MjpegServer(frames, fps=30) as healthy:
        request = RunRequest(
            sources=[f"http://127.0.0.1:{hung.port}/a.mjpg", healthy.url], source=SourceConfig(stall_timeout=5)
        )
        started = time.monotonic()
        sources = _open_sources(request)
        took = time.monotonic() - started
        try:
            states = [s.status.state for s in sources]
        finally:
            for source in sources:
                source.close()
    print(f"\nopened 2 sources (one hung) in {took:.2f} s")
    # sequentially the hung camera alone took stall_timeout + 1 = 6 s
    assert took < PARALLEL_CONNECT_S + 1.5
    assert states[1] is SourceState.CONNECTED and states[0] is not SourceState.CONNECTED


@pytest.mark.realdata
def test_outage_until_ctrl_c_is_held_and_a_dead_camera_is_not_written(tmp_path: Path) -> None:
    """Two cameras: one never answers (with a password in its URL), one streams and then dies
    until Ctrl-C. The dead one's MP4 is reported as not written; the other's MP4 holds its last
    picture to the end of the session; the password appears nowhere."""
    import av

    import os

    frames = load_frames(video_path("pedestrians_pets_mjpeg.avi"), count=30)
    env = dict(os.environ, VIDTRACK_MODEL=model_path(), PYTHONPATH=str(PROJECT_ROOT / "src"))
    with BlackholeServer() as hung:
        healthy = MjpegServer(frames, fps=15).start()
        try:
            dead = f"http://alice:{SECRET}@127.0.0.1:{hung.port}/cam.mjpg"
            log = open(tmp_path / "run.log", "w")
            process = subprocess.Popen(
                [sys.executable, "-m", "vidtrack", "run", dead, healthy.url, "-o", "out.mp4", "--jsonl", "out.jsonl",
                 "--summary", "summary.json", "--stall-timeout", "1"],
                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            )
            log.close()
            jsonl = tmp_path / "out-1.jsonl"
            deadline = time.monotonic() + 90
            while not (jsonl.exists() and jsonl.read_text().count("\n") > 15):
                assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "run.log").read_text()
                time.sleep(0.1)
            healthy.stop()  # the camera dies and stays dead until Ctrl-C
            died = time.monotonic()
            time.sleep(4)
            process.send_signal(signal.SIGINT)
            stopped = time.monotonic()
            process.wait(timeout=60)
        finally:
            healthy.stop()
            if process.poll() is None:
                process.kill()
    text = (tmp_path / "run.log").read_text()
    assert process.returncode == 0, text
    assert SECRET not in text
    for name in ("out-0.jsonl", "out-1.jsonl", "out-0.mp4", "out-1.mp4", "summary-0.json", "summary-1.json"):
        if (tmp_path / name).exists():
            assert SECRET.encode() not in (tmp_path / name).read_bytes(), name
    assert not (tmp_path / "out-0.mp4").exists()
    assert "out-0.mp4 not written: no frames from the source" in " ".join(text.split())
    assert "wrote out-0.mp4" not in text
    rows = [json.loads(line) for line in (tmp_path / "out-1.jsonl").read_text().splitlines()]
    with av.open(str(tmp_path / "out-1.mp4")) as container:
        duration = float(container.duration / av.time_base)
    last_frame_t = rows[-1]["t"]
    print(f"\nlast frame at {last_frame_t:.2f} s, MP4 {duration:.2f} s, outage {stopped - died:.2f} s until Ctrl-C")
    # the 4 s outage until Ctrl-C is in the file as the held last picture
    assert duration >= last_frame_t + (stopped - died) - 0.5
    assert duration < last_frame_t + (stopped - died) + 2.5


# --------------------------------------------------------------- camera answers


@pytest.mark.parametrize("mode, expected", [
    ("auth", "refused the credentials"),
    ("udp-only", "only offers RTP over UDP (RTSP 461 to a TCP setup): use --rtsp-transport udp"),
])
def test_rtsp_refusal_says_what_the_camera_answered(mode: str, expected: str) -> None:
    from vidtrack.config import SourceConfig
    from vidtrack.errors import SourceError
    from vidtrack.sources.live import LiveSource

    with RtspRefuser(mode) as camera:
        url = f"rtsp://alice:{SECRET}@127.0.0.1:{camera.port}/live"
        with pytest.raises(SourceError) as info:
            LiveSource(url, SourceConfig(stall_timeout=2, max_retries=0))
    message = str(info.value)
    assert expected in message, message
    assert SECRET not in message


def test_rtsp_transport_option_is_validated() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "run", "rtsp://127.0.0.1:1/live", "--rtsp-transport", "http", "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=60,
    )
    assert result.returncode == 2 and "--rtsp-transport" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------- MJPEG framing


@pytest.mark.parametrize("length_error", [-200, 5000])
def test_mjpeg_with_a_wrong_content_length_is_split_by_jpeg_markers(length_error: int) -> None:
    from vidtrack.config import SourceConfig
    from vidtrack.sources.live import LiveSource

    frames = load_frames(video_path("pedestrians_pets_mjpeg.avi"), count=30)
    with MjpegServer(frames, fps=30, length_error=length_error) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=2))
        seqs = []
        end = time.monotonic() + 2.0
        try:
            for frame in source.frames():
                seqs.append(read_seq(frame.image))
                if time.monotonic() > end:
                    break
        finally:
            source.close()
    print(f"\nContent-Length off by {length_error}: {len(seqs)} frames in 2 s, {source.reconnects} reconnects")
    assert source.reconnects == 0
    assert len(seqs) >= 40  # 30 fps for 2 s, minus scheduling on a busy machine
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_jpeg_splitter_ignores_framing_and_keeps_thumbnails_inside() -> None:
    import cv2

    from vidtrack.sources.mjpeg import JpegSplitter

    image = np.zeros((48, 64, 3), np.uint8)
    image[10:30, 10:40] = (0, 128, 255)
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    # an APP1 segment whose payload holds a whole JPEG (an EXIF thumbnail), EOI included
    thumb = cv2.imencode(".jpg", image[:8, :8])[1].tobytes()
    app1 = b"\xff\xe1" + (len(thumb) + 2).to_bytes(2, "big") + thumb
    with_thumb = jpeg[:2] + app1 + jpeg[2:]
    stream = b"garbage--b\r\nContent-Length: 3\r\n\r\n" + with_thumb + b"\n--b\nContent-Type: image/jpeg\n\n" + jpeg
    splitter = JpegSplitter()
    out = []
    for i in range(0, len(stream), 7):  # byte by byte-ish, as a socket delivers it
        out += splitter.feed(stream[i : i + 7])
    assert out == [with_thumb, jpeg]


# --------------------------------------------------------------- tcp:// comes back


@pytest.mark.realdata
def test_tcp_source_comes_back_within_two_seconds_of_a_long_outage() -> None:
    from vidtrack.config import SourceConfig
    from vidtrack.sources.live import LiveSource

    from live_servers import FfmpegStream

    server = FfmpegStream(video_path("pedestrians_pets_h264.avi"), "tcp", max_seconds=60)
    server.start()
    try:
        source = LiveSource(server.url, SourceConfig(stall_timeout=2))
        marks: dict[str, float] = {}

        def drive() -> None:
            time.sleep(1.5)
            server.stop()
            time.sleep(5.5)  # a doubling backoff (0.5, 1, 2, 4 s) would next try at 7.5 s: 2 s late
            server.start()
            marks["back"] = time.monotonic()
            time.sleep(3.0)
            source.stop()

        import threading

        driver = threading.Thread(target=drive)
        driver.start()
        captured = [f.captured for f in source.frames()]
        driver.join()
        source.close()
    finally:
        server.stop()
    after = [t for t in captured if t > marks["back"]]
    resumed = after[0] - marks["back"] if after else None
    print(f"\ntcp:// frames again {resumed} s after the server returned from a 5.5 s outage")
    assert resumed is not None and resumed <= 2.0
