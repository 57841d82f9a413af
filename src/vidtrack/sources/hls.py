"""Live HLS (``.m3u8``) read segment by segment, each segment exactly once, timed by its timestamps.

FFmpeg's HLS reader, as OpenCV drives it, treats ``#EXT-X-ENDLIST`` as an error to recover
from and starts again from the playlist's window, so an ended event replays its last
segments forever, and a reconnect to a stale playlist replays what was already shown. Here
the playlist is polled directly: a segment is identified by its media sequence number, and
a number already taken is never taken again (the :class:`HlsCursor` outlives reconnects).
An ended playlist ends the source.

Frames are released at the pace of their presentation timestamps, not as the segments
arrive: a camera that delivers segments in bursts still plays at its own rate, with a
play-out delay just long enough to absorb the bursts (a jitter buffer).
"""

from __future__ import annotations

import io
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field
from urllib.parse import urljoin

import numpy as np

from vidtrack.errors import SourceError

#: Poll the playlist this often, as a fraction of the target segment duration (the HLS
#: spec asks clients to wait at least half a target duration between reloads).
RELOAD_FRACTION = 0.5
#: Segments taken from a live playlist's end when joining: one keeps latency lowest.
JOIN_SEGMENTS = 1


class StreamEnded(Exception):
    """The stream says it is over (HLS ``#EXT-X-ENDLIST``): end the source, do not reconnect."""


@dataclass
class Playlist:
    """The parts of a media playlist a reader needs (durations in seconds)."""

    target_duration: float
    media_sequence: int
    segments: list[tuple[int, float, str]]  # (sequence number, duration s, absolute URL)
    ended: bool
    variants: list[str] = field(default_factory=list)  # a master playlist's media playlists


def parse_playlist(text: str, base_url: str) -> Playlist:
    """Parse an M3U8 playlist; raises ValueError when ``text`` is not one."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines or not lines[0].startswith("#EXTM3U"):
        raise ValueError("not an M3U8 playlist (no #EXTM3U)")
    target, sequence, ended = 2.0, 0, False
    segments: list[tuple[int, float, str]] = []
    variants: list[str] = []
    duration: float | None = None
    after_stream_inf = False
    for line in lines[1:]:
        if line.startswith("#EXT-X-TARGETDURATION:"):
            target = float(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-MEDIA-SEQUENCE:"):
            sequence = int(line.split(":", 1)[1])
        elif line.startswith("#EXT-X-ENDLIST"):
            ended = True
        elif line.startswith("#EXTINF:"):
            duration = float(line.split(":", 1)[1].split(",")[0])
        elif line.startswith("#EXT-X-STREAM-INF"):
            after_stream_inf = True
        elif not line.startswith("#"):
            if after_stream_inf:
                variants.append(urljoin(base_url, line))
                after_stream_inf = False
            else:
                segments.append((sequence + len(segments), duration or target, urljoin(base_url, line)))
                duration = None
    return Playlist(target, sequence, segments, ended, variants)


@dataclass
class HlsCursor:
    """What was already taken from a stream; kept by the source across reconnects."""

    last_sequence: int | None = None  # media sequence number of the last segment decoded
    capture_anchor: float | None = None  # monotonic s at pts 0 on the camera's clock (earliest arrival)
    play_anchor: float | None = None  # monotonic s at which pts 0 is released (latest arrival)
    last_pts: float | None = None


def _fetch(url: str, timeout: float) -> tuple[bytes, str]:
    request = urllib.request.Request(url, headers={"User-Agent": "vidtrack"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.read(), response.geturl()
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403):
            raise SourceError(
                f"the server refused the credentials (HTTP {exc.code})", "check the user name and password in the URL"
            ) from None
        raise


def decode_segment(data: bytes) -> list[tuple[np.ndarray, float]]:
    """Decode one media segment (MPEG-TS or fMP4 bytes) to ``(BGR image, pts seconds)`` pairs."""
    import av

    frames: list[tuple[np.ndarray, float]] = []
    with av.open(io.BytesIO(data), "r") as container:
        stream = container.streams.video[0]
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                continue
            frames.append((frame.to_ndarray(format="bgr24"), float(frame.pts * frame.time_base)))
    return frames


class HlsCapture:
    """One session with an HLS playlist; ``read()`` returns ``(image, captured)`` at the stream's pace.

    ``captured`` is the monotonic time the frame was taken, from its timestamp on the
    camera's clock. ``read()`` returns None when the playlist stops growing for
    ``stall_timeout`` seconds (or two target durations, whichever is longer) or a download
    fails (the caller reconnects), and raises :class:`StreamEnded` after the last frame of
    an ended playlist. SourceError when the server refuses; OSError/ValueError when the
    URL does not answer with a playlist.
    """

    def __init__(
        self, url: str, cursor: HlsCursor, open_timeout: float, stall_timeout: float, stop: threading.Event
    ) -> None:
        self.url = url
        self.cursor = cursor
        self.timeout = open_timeout
        self.stall_timeout = stall_timeout
        self._stop = stop
        self._queue: deque[tuple[np.ndarray, float]] = deque()
        self._newest = -1  # newest media sequence number the playlist has listed
        self._last_growth = time.monotonic()  # when the playlist last listed a new segment
        self._playlist = self._load()  # raises when the URL is not a playlist

    def _load(self) -> Playlist:
        data, final_url = _fetch(self.url, self.timeout)
        playlist = parse_playlist(data.decode("utf-8", "replace"), final_url)
        if playlist.variants and not playlist.segments:  # a master playlist: take its first variant
            self.url = playlist.variants[0]
            data, final_url = _fetch(self.url, self.timeout)
            playlist = parse_playlist(data.decode("utf-8", "replace"), final_url)
        if playlist.segments and playlist.segments[-1][0] > self._newest:
            self._newest = playlist.segments[-1][0]
            self._last_growth = time.monotonic()
        return playlist

    def _new_segments(self) -> list[tuple[int, float, str]]:
        segments = self._playlist.segments
        last = self.cursor.last_sequence
        if last is None:
            return segments if self._playlist.ended else segments[-JOIN_SEGMENTS:]
        return [s for s in segments if s[0] > last]

    def _next_segment(self) -> bool:
        """Decode the next new segment into the queue; False when there is none yet (or stop)."""
        while not self._stop.is_set():
            new = self._new_segments()
            if new:
                sequence, _, url = new[0]
                data, _ = _fetch(url, max(self.timeout, self.stall_timeout))
                arrived = time.monotonic()
                frames = decode_segment(data)
                self.cursor.last_sequence = sequence  # never again, even if it fails to decode
                self._queue.extend(frames)
                self._anchor(frames, arrived)
                if frames:
                    return True
                continue
            if self._playlist.ended:
                raise StreamEnded("the playlist ended (#EXT-X-ENDLIST)")
            quiet = max(self.stall_timeout, 2 * self._playlist.target_duration)
            if time.monotonic() - self._last_growth > quiet:
                return False  # stale playlist: the caller reconnects (and skips what it had)
            if self._stop.wait(max(0.1, RELOAD_FRACTION * self._playlist.target_duration)):
                return False
            self._playlist = self._load()
        return False

    def _anchor(self, frames: list[tuple[np.ndarray, float]], arrived: float) -> None:
        """Map the stream clock to the monotonic clock: capture = earliest arrival seen, play-out =
        latest (so a burst never has to skip frames)."""
        if not frames:
            return
        cursor = self.cursor
        first_pts = frames[0][1]
        if cursor.last_pts is not None and not (cursor.last_pts - 1.0 < first_pts < cursor.last_pts + 60.0):
            cursor.capture_anchor = cursor.play_anchor = None  # timestamps reset or jumped: start over
        captured = arrived - frames[-1][1]  # the segment's last frame existed by the time it arrived
        if cursor.capture_anchor is None or captured < cursor.capture_anchor:
            cursor.capture_anchor = captured
        play = arrived - frames[0][1]  # its first frame can be shown from now on
        if cursor.play_anchor is None or play > cursor.play_anchor:
            cursor.play_anchor = play
        cursor.last_pts = frames[-1][1]

    def read(self) -> tuple[np.ndarray, float] | None:
        """The next frame and its capture time (monotonic s), released at the stream's pace."""
        if not self._queue and not self._next_segment():
            return None
        image, pts = self._queue.popleft()
        cursor = self.cursor
        assert cursor.play_anchor is not None and cursor.capture_anchor is not None
        release = cursor.play_anchor + pts
        delay = release - time.monotonic()
        if delay > 0 and self._stop.wait(delay):
            return None
        return image, cursor.capture_anchor + pts

    def release(self) -> None:
        """Nothing to close: every request is its own connection."""
        self._queue.clear()
