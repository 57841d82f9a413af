"""HLS as live cameras serve it: an event that ends, a playlist that goes stale, bursty delivery.

Frames carry their encoder sequence number (live_servers.stamp_seq), so the tests check
exactly which segment frames were processed, and their times against the camera's clock
(frame n was captured at n / FPS s on it).
"""

from __future__ import annotations

import time

import numpy as np
import pytest

from conftest import video_path
from live_servers import HlsServer, encode_ts_segments, load_frames, read_seq
from vidtrack.config import SourceConfig
from vidtrack.sources import SourceState
from vidtrack.sources.live import LiveSource

pytestmark = pytest.mark.live

FPS = 15
PER_SEGMENT = 15  # 1 s segments


@pytest.fixture(scope="module")
def segments() -> list[bytes]:
    frames = load_frames(video_path("pedestrians_pets_mjpeg.avi"), count=60, width=320)
    frames = [frames[i % len(frames)] for i in range(FPS * 8)]  # 8 s of camera time
    return encode_ts_segments(frames, FPS, PER_SEGMENT)


def read_all(source: LiveSource, limit_s: float) -> list[tuple[int, float, float]]:
    """(sequence number, pts, monotonic time handed out) of every frame until the source ends."""
    out = []
    deadline = time.monotonic() + limit_s
    for frame in source.frames():
        out.append((read_seq(frame.image), frame.pts, time.monotonic()))
        if time.monotonic() > deadline:
            source.stop()
    return out


def test_ended_playlist_ends_the_source_and_no_segment_is_replayed(segments: list[bytes]) -> None:
    with HlsServer(segments, end=True, max_seconds=30) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=2), connect_timeout=5)
        try:
            frames = read_all(source, limit_s=20)
        finally:
            source.close()
        seg_requests = [r for r in server.requests if r.endswith(".ts")]
    seqs = [seq for seq, _, _ in frames]
    assert len(seqs) == len(set(seqs)), "a frame was processed twice"
    assert seqs == sorted(seqs) and seqs[-1] == len(segments) * PER_SEGMENT - 1  # up to the event's last frame
    assert len(seg_requests) == len(set(seg_requests)), f"a segment was fetched twice: {seg_requests}"
    assert source.status.state is SourceState.ENDED and source.error is None
    assert frames[-1][2] - frames[0][2] < 8 + 4  # ended with the playlist, did not loop


def test_stale_playlist_reconnects_without_replaying(segments: list[bytes]) -> None:
    # the playlist stops changing at 3 s for 4 s (a hung encoder), then goes on
    with HlsServer(segments, end=True, stale=(3.0, 4.0), max_seconds=30) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=1), connect_timeout=5)
        try:
            frames = read_all(source, limit_s=25)
        finally:
            source.close()
    seqs = [seq for seq, _, _ in frames]
    events = source.events()
    assert any(e.status.state is SourceState.STALLED for e in events), [e.message for e in events]
    assert len(seqs) == len(set(seqs)) and seqs == sorted(seqs), "a segment was replayed after the reconnect"
    assert seqs[-1] == len(segments) * PER_SEGMENT - 1


def test_bursty_delivery_plays_at_the_cameras_pace(segments: list[bytes]) -> None:
    # segments arrive 3 at a time every 3 s; a consumer that keeps up must get every frame, at 15 fps
    with HlsServer(segments, burst=3, end=True, max_seconds=40) as server:
        source = LiveSource(server.url, SourceConfig(stall_timeout=4), connect_timeout=8)
        try:
            frames = read_all(source, limit_s=30)
        finally:
            source.close()
    seqs = np.array([f[0] for f in frames])
    pts = np.array([f[1] for f in frames])
    handed = np.array([f[2] for f in frames])
    camera_t = seqs / FPS
    # frame times follow the camera's clock: each frame's pts is its capture time there
    drift = (pts - pts[0]) - (camera_t - camera_t[0])
    print(f"\n{len(seqs)} frames, pts vs camera clock: max |drift| {np.abs(drift).max() * 1000:.0f} ms")
    assert np.abs(drift).max() < 0.1
    # released at the camera's pace, not in bursts: a newest-frame consumer keeps (nearly) every frame
    assert len(seqs) >= 0.9 * (seqs[-1] - seqs[0] + 1)
    gaps = np.diff(handed)
    assert np.percentile(gaps, 90) < 3 / FPS  # no burst-then-wait rhythm
    steady = handed[len(handed) // 3 :]  # after joining (the first burst sets the play-out delay)
    rate = (len(steady) - 1) / (steady[-1] - steady[0])
    print(f"steady rate {rate:.1f} fps (camera {FPS})")
    assert 0.7 * FPS < rate < 1.2 * FPS  # the bug this guards against: 3.4 fps of 15
