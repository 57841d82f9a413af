"""LiveSource against real local streams: MPEG-TS over UDP/TCP from ffmpeg, HTTP MJPEG from Python.

Timings here are integration bounds with wide margins (the issue's behaviour: newest frame,
reconnect within 2 s of the server returning, prompt stop), not micro-benchmarks. Measured
numbers are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Iterator

import numpy as np
import pytest

from conftest import video_path
from live_servers import BlackholeServer, FfmpegStream, MjpegServer, free_port, load_frames, read_seq
from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError
from vidtrack.frames import Frame
from vidtrack.sources import SourceState, open_source
from vidtrack.errors import quiet_ffmpeg
from vidtrack.sources.live import LiveSource, backoff_delay, redact

quiet_ffmpeg()
pytestmark = pytest.mark.live

FRAME_INTERVAL_S = 1 / 30  # the test servers send 30 fps


@pytest.fixture(scope="module")
def pets_frames() -> list[np.ndarray]:
    return load_frames(video_path("pedestrians_pets_mjpeg.avi"), count=60)


@pytest.fixture
def mjpeg(pets_frames: list[np.ndarray]):
    with MjpegServer(pets_frames, fps=30) as server:
        yield server


def take(source: LiveSource, count: int, timeout: float = 15.0, frames: Iterator[Frame] | None = None) -> list[Frame]:
    """The next ``count`` frames from ``frames`` (default: a new ``source.frames()``);
    stops the source rather than hang if they don't come."""
    frames = frames if frames is not None else source.frames()
    watchdog = threading.Timer(timeout, source.stop)
    watchdog.start()
    got = []
    try:
        for frame in frames:
            got.append(frame)
            if len(got) >= count:
                break
    finally:
        watchdog.cancel()
    assert len(got) >= count, f"only {len(got)} frames in {timeout} s; events: {source.events()}"
    return got


def assert_live_frames(frames: list, width: int, height: int) -> None:
    assert all(f.image.shape == (height, width, 3) for f in frames)
    for earlier, later in zip(frames, frames[1:]):
        assert later.index > earlier.index
        assert later.pts > earlier.pts
        assert later.captured > earlier.captured


# --------------------------------------------------------------------------- unit


def test_backoff_doubles_from_half_a_second_to_ten() -> None:
    assert [backoff_delay(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 10, 10]


def test_redact_hides_passwords_only() -> None:
    assert redact("rtsp://admin:hunter2@10.0.0.5:554/live") == "rtsp://admin:***@10.0.0.5:554/live"
    assert redact("rtsp://10.0.0.5/live") == "rtsp://10.0.0.5/live"
    assert redact("http://user@cam/x.mjpg") == "http://user@cam/x.mjpg"
    assert redact("0") == "0"


# ---------------------------------------------------------------- reading streams


@pytest.mark.parametrize("protocol", ["udp", "tcp"])
def test_reads_mpegts_stream(protocol: str) -> None:
    with FfmpegStream(video_path("pedestrians_pets_h264.avi"), protocol, max_seconds=30) as server:
        source = open_source(server.url, SourceConfig(stall_timeout=5, max_retries=3))
        try:
            assert isinstance(source, LiveSource)
            assert source.info.is_live and (source.info.width, source.info.height) == (480, 360)
            frames = take(source, 30)
            assert_live_frames(frames, 480, 360)
            assert source.status.state is SourceState.CONNECTED
            # pts runs on the capture clock: 30 consecutive frames of a 30 fps stream span ~1 s
            assert 0.5 < frames[-1].pts - frames[0].pts < 3.0
        finally:
            source.close()
        assert source.status.state is SourceState.ENDED


def test_reads_http_mjpeg_in_server_order(mjpeg: MjpegServer) -> None:
    source = LiveSource(mjpeg.url, SourceConfig(stall_timeout=5, max_retries=3))
    try:
        frames = take(source, 20)
    finally:
        source.close()
    assert_live_frames(frames, 480, 360)
    seqs = [read_seq(f.image) for f in frames]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert seqs[-1] <= mjpeg.latest_seq


# -------------------------------------------------------------------- staleness


def consume_slowly(source: LiveSource, server: MjpegServer, seconds: float, work_s: float = 0.2) -> dict:
    """A ~5 fps consumer ("detector" = sleep). Per frame: how far behind the newest frame
    it was when received (server frames and reader frames) and its age after the work."""
    behind_server, behind_reader, ages_ms = [], [], []
    end = time.monotonic() + seconds
    for frame in source.frames():
        behind_server.append(server.latest_seq - read_seq(frame.image))
        behind_reader.append(source.latest_index - frame.index)
        time.sleep(work_s)  # the slow detector
        ages_ms.append((time.monotonic() - frame.captured) * 1000)
        if time.monotonic() > end:
            break
    return {"behind_server": behind_server, "behind_reader": behind_reader, "ages_ms": ages_ms}


def check_fresh(result: dict, label: str) -> None:
    ages = np.array(result["ages_ms"])
    third = max(1, len(ages) // 3)
    p50, p95 = np.percentile(ages, 50), np.percentile(ages, 95)
    print(f"\n[{label}] frames {len(ages)}  frame age p50 {p50:.0f} ms  p95 {p95:.0f} ms  "
          f"max behind newest: server {max(result['behind_server'])} reader {max(result['behind_reader'])} frames")
    # every processed frame is within one source frame interval of the newest the reader has;
    # against the newest the server sent, 95% are (the rest wait for the reader thread's turn
    # on a loaded 2-core CI box: the socket, not the source, holds them)
    assert max(result["behind_reader"]) <= 1
    assert np.percentile(result["behind_server"], 95) <= 1 and max(result["behind_server"]) <= 3
    # age = the 200 ms of work + under one frame interval of waiting; no growth over the run
    assert p95 < 200 + 2 * FRAME_INTERVAL_S * 1000 + 100
    assert np.median(ages[-third:]) - np.median(ages[:third]) < 50


LONG_RUN = pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("VIDTRACK_LONG_LIVE")),
    reason="20 s soak: runs in CI, or locally with VIDTRACK_LONG_LIVE=1",
)


@pytest.mark.parametrize(
    "seconds, min_frames", [(10, 30), pytest.param(20, 70, marks=LONG_RUN, id="soak")]
)
def test_slow_consumer_always_gets_the_newest_frame(mjpeg: MjpegServer, seconds: int, min_frames: int) -> None:
    source = LiveSource(mjpeg.url, SourceConfig(stall_timeout=5, max_retries=3))
    try:
        result = consume_slowly(source, mjpeg, seconds=seconds)
    finally:
        source.close()
    assert len(result["ages_ms"]) >= min_frames
    check_fresh(result, f"newest-frame, {seconds} s")  # frame age bounded, no growth over the run
    assert source.frames_skipped > source.frames_yielded  # 30 fps in, 5 fps out


def test_every_frame_mode_queues_instead(mjpeg: MjpegServer) -> None:
    """The control: with every_frame the same consumer falls further and further behind."""
    source = LiveSource(mjpeg.url, SourceConfig(stall_timeout=5, max_retries=3, every_frame=True))
    try:
        result = consume_slowly(source, mjpeg, seconds=3)
    finally:
        source.close()
    assert result["behind_server"][-1] > 20
    indices_seen = source.frames_yielded
    assert source.frames_skipped == 0 and indices_seen == len(result["ages_ms"])




# --------------------------------------------------------------- drop and recovery


def run_outage(source: LiveSource, server, drop_after: float = 2.0, outage: float = 3.0, after: float = 3.0) -> dict:
    """Kill ``server`` mid-run, restart it ``outage`` s later; when did frames come back?"""
    marks: dict[str, float] = {}

    def drive() -> None:
        time.sleep(drop_after)
        marks["killed"] = time.monotonic()
        server.stop()
        time.sleep(outage)
        server.start()
        marks["back"] = time.monotonic()
        time.sleep(after)
        source.stop()

    driver = threading.Thread(target=drive)
    driver.start()
    captured = [frame.captured for frame in source.frames()]
    driver.join()
    after_back = [t for t in captured if t > marks["back"]]
    return {
        "resumed_s": after_back[0] - marks["back"] if after_back else None,
        "frames_after": len(after_back),
        "frames_before": sum(t < marks["killed"] for t in captured),
        "gap_s": max(b - a for a, b in zip(captured, captured[1:])),
    }


@pytest.mark.parametrize("kind", ["tcp", "udp", "mjpeg"])
def test_reconnects_within_two_seconds_of_the_server_returning(kind: str, pets_frames: list[np.ndarray]) -> None:
    if kind == "mjpeg":
        server = MjpegServer(pets_frames, fps=30)
    else:
        server = FfmpegStream(video_path("pedestrians_pets_h264.avi"), kind, max_seconds=60)
    server.start()
    try:
        source = LiveSource(server.url, SourceConfig(stall_timeout=5))
        try:
            result = run_outage(source, server)
        finally:
            source.close()
    finally:
        server.stop()
    print(f"\n[{kind}] frames resumed {result['resumed_s']:.2f} s after the server came back; "
          f"gap {result['gap_s']:.2f} s; reconnects {source.reconnects}; events {[e.message for e in source.events()]}")
    assert result["frames_before"] > 20
    assert result["resumed_s"] is not None
    if kind == "tcp":
        # tcp:// servers such as ffmpeg -listen take one client, so the reader doesn't probe
        # their port between attempts: it returns on the backoff schedule (attempts 0.5,
        # 1.5, 3.5, 7.5 s after the loss), i.e. within one backoff step of the server.
        assert result["resumed_s"] < backoff_delay(4) + 2.0
    else:
        assert result["resumed_s"] < 2.0
    assert result["frames_after"] > 20  # and it keeps going
    assert 2.5 < result["gap_s"] < 3.0 + 2.0 + 0.5  # the outage shows as a gap in capture time
    if kind != "udp":  # a UDP socket simply receives the restarted sender; TCP/HTTP must reconnect
        assert source.reconnects == 1
        assert any(e.status.state is SourceState.RECONNECTING for e in source.events())


def test_frame_size_change_after_reconnect(pets_frames: list[np.ndarray]) -> None:
    import cv2

    small = [cv2.resize(f, (320, 240)) for f in pets_frames[:10]]
    server = MjpegServer(pets_frames[:10], fps=30).start()
    try:
        source = LiveSource(server.url, SourceConfig(stall_timeout=5))
        stream = source.frames()
        try:
            assert take(source, 5, frames=stream)[-1].image.shape == (360, 480, 3)
            server.stop()
            server = MjpegServer(small, fps=30, port=server.port).start()
            frames = take(source, 10, frames=stream)
        finally:
            source.close()
    finally:
        server.stop()
    assert frames[-1].image.shape == (240, 320, 3)
    assert (source.info.width, source.info.height) == (320, 240)
    assert any("size changed" in e.message for e in source.events())


# ------------------------------------------------------------ frozen and dead sources


def test_frozen_camera_stays_stalled_across_reconnects_until_the_picture_moves(pets_frames: list[np.ndarray]) -> None:
    with MjpegServer(pets_frames, fps=30, frozen=True) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=1))
        states: list[tuple[float, SourceState]] = []
        thawed: dict[str, float] = {}

        def watch() -> None:
            start = time.monotonic()
            while time.monotonic() - start < 6.5:
                states.append((time.monotonic(), source.status.state))
                if time.monotonic() - start > 4.5 and not thawed:
                    thawed["at"] = time.monotonic()
                    server.frozen = False  # the camera comes back to life
                time.sleep(0.02)
            source.stop()

        watcher = threading.Thread(target=watch)
        watcher.start()
        frames = [f for f in source.frames()]
        watcher.join()
        source.close()
    events = source.events()
    assert frames, "a frozen source still delivers its frames until it is declared stalled"
    first_stall = next(t for t, state in states if state is SourceState.STALLED)
    during_freeze = [state for t, state in states if first_stall <= t < thawed["at"]]
    reopened = [e for e in events if e.message.startswith("opened")]
    # reopened while frozen, yet never called connected: the repeated picture is not live
    assert len(reopened) >= 3
    assert SourceState.CONNECTED not in during_freeze, during_freeze
    assert not [f for f in frames if first_stall + 0.3 < f.captured < thawed["at"]]
    assert any(e.status.state is SourceState.STALLED and "frozen" in e.message for e in events)
    # once the picture moves again it is connected, and that is the one reconnect
    assert [state for t, state in states][-1] is SourceState.CONNECTED
    assert source.reconnects == 1
    assert [f for f in frames if f.captured > thawed["at"]]
    assert source.status.state is SourceState.ENDED


def test_refused_connection_raises_after_max_retries() -> None:
    url = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(SourceError) as info:
        LiveSource(url, SourceConfig(stall_timeout=1, max_retries=2))
    message = str(info.value)
    assert url in message and "3 attempts" in message and "--max-retries" in message


def test_hung_server_raises_after_bounded_open_timeouts() -> None:
    with BlackholeServer() as hung:
        started = time.monotonic()
        with pytest.raises(SourceError, match="cannot open"):
            LiveSource(f"http://127.0.0.1:{hung.port}/cam.mjpg", SourceConfig(stall_timeout=1, max_retries=1))
        # two open attempts of ~1 s each plus a 0.5 s backoff, never an unbounded hang
        assert time.monotonic() - started < 10


def test_missing_webcam_is_a_clear_error() -> None:
    with pytest.raises(SourceError, match="/dev/video99"):
        LiveSource("/dev/video99", SourceConfig(stall_timeout=1, max_retries=0), webcam=True)


def test_unlimited_retries_return_unconnected_and_stop_promptly() -> None:
    with BlackholeServer() as hung:
        source = LiveSource(f"http://127.0.0.1:{hung.port}/cam.mjpg", SourceConfig(stall_timeout=1), connect_timeout=1.5)
        assert source.status.state in (SourceState.RECONNECTING, SourceState.CONNECTING)
        assert source.info.width == 0 and source.error is None
        stopped: dict[str, float] = {}

        def stop_later() -> None:
            time.sleep(1.0)  # by now the reader is in an open attempt or a backoff wait
            stopped["at"] = time.monotonic()
            source.stop()

        threading.Thread(target=stop_later).start()
        assert list(source.frames()) == []
        assert time.monotonic() - stopped["at"] < 1.0
        source.close()


def test_stop_returns_promptly_while_the_reader_is_blocked_in_a_read(pets_frames: list[np.ndarray]) -> None:
    with MjpegServer(pets_frames, fps=30) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=10))
        stream = source.frames()
        take(source, 3, frames=stream)
        server.pause()  # connection open, no more bytes: the reader blocks in read()
        time.sleep(0.5)
        threading.Timer(0.5, source.stop).start()
        started = time.monotonic()
        for _ in stream:
            pass
        assert time.monotonic() - started < 0.5 + 1.0
        source.close()
        server.resume()


def test_open_source_dispatches_streams_and_webcams_to_live() -> None:
    with pytest.raises(SourceError, match="cannot open"):
        open_source(f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}", SourceConfig(stall_timeout=0.5, max_retries=0))


def test_stream_clock_keeps_capture_times_of_frames_released_late() -> None:
    from vidtrack.sources.live import StreamClock

    clock = StreamClock()
    # 10 fps camera, frames arrive promptly with 0.05 s latency
    times = [clock.captured(0.1 * i, 100.05 + 0.1 * i) for i in range(5)]
    assert np.allclose(np.diff(times), 0.1)
    # a stall: the next frame (captured at stream time 0.5) is released only 5 s later
    assert clock.captured(0.5, 105.5) == pytest.approx(times[0] + 0.5)
    # after the stall frames flow again at their capture times
    assert clock.captured(10.5, 110.55) == pytest.approx(times[0] + 10.5)
    # the encoder restarts (timestamps step back): a new mapping, frames stamped on arrival
    assert clock.captured(0.0, 120.0) == pytest.approx(120.0)
    assert clock.captured(0.1, 120.1) == pytest.approx(120.1)
    # a stream clock that stands still says nothing: arrival time
    assert clock.captured(0.1, 121.0) == pytest.approx(121.0)


def test_a_paused_camera_is_stalled_once_the_stall_timeout_passes(mjpeg: MjpegServer) -> None:
    source = LiveSource(mjpeg.url, SourceConfig(stall_timeout=1.5))
    stream = source.frames()
    try:
        take(source, 5, frames=stream)
        mjpeg.pause()  # connection open, nothing sent
        paused = time.monotonic()
        seen: list[tuple[float, SourceState]] = []
        while time.monotonic() - paused < 3.0:
            seen.append((time.monotonic() - paused, source.status.state))
            time.sleep(0.05)
        mjpeg.resume()
        take(source, 5, frames=stream)
        back = source.status.state
    finally:
        source.close()
    early = [s for t, s in seen if t < 1.0]
    late = [s for t, s in seen if t > 1.5 + 0.5]
    assert SourceState.STALLED not in early  # not before the timeout
    assert late and all(s is not SourceState.CONNECTED for s in late), late  # never "connected" while nothing comes
    assert SourceState.STALLED in late
    assert back is SourceState.CONNECTED
