"""Live sources: webcams and network streams, read so the pipeline never falls behind.

A background reader thread pulls frames from OpenCV as fast as the source sends them and
keeps only the newest one in a one-slot mailbox. ``frames()`` hands out the newest frame
not yet handed out, so a slow consumer skips frames instead of queueing them: what it
processes is never older than the newest frame available. ``SourceConfig.every_frame``
switches to a bounded FIFO instead (file-like: every frame, at the cost of growing lag).

When the stream errors, ends, or shows no new image for ``stall_timeout`` seconds (a
frozen source repeating one image counts), the reader reopens it with exponential
backoff. Frames are stamped with the capture clock, so outputs keep real durations and
reconnect gaps show as gaps.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import logging
import math
import os
import socket
import threading
import time
import zlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterator
from urllib.parse import urlsplit

import numpy as np

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError, mask_credentials, quiet_ffmpeg
from vidtrack.frames import Frame, SourceInfo
from vidtrack.frames import SourceState, SourceStatus
from vidtrack.sources.hls import HlsCursor, StreamEnded

log = logging.getLogger(__name__)

#: First reconnect delay; doubles on each failed attempt up to BACKOFF_MAX_S. A short
#: first delay recovers quickly from a blip; the cap keeps a dead camera from being
#: hammered while still noticing within 10 s that it came back.
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 10.0
#: Backoff cap for servers whose port cannot be probed (``tcp://``, where the server often
#: takes a single client, and ``udp://``): a refused or unanswered attempt costs one
#: connect, so retrying every second is cheap and finds a returning source within ~1 s.
BACKOFF_MAX_UNPROBED_S = 1.0
#: Frames held in every-frame mode. Larger rides out longer consumer hiccups; when it is
#: full the reader waits and the stream's own buffers grow (lag), which is what
#: every-frame asks for.
FIFO_FRAMES = 32
#: How often the reader fingerprints a frame to spot a frozen source. A full-frame CRC
#: costs ~3.5 ms at 1080p; checking a few times a second keeps that negligible while
#: resolving a freeze far finer than any sensible stall timeout.
FREEZE_CHECK_INTERVAL_S = 0.2
#: Longest single wait in frames()/stop() paths, so stop() is honoured promptly even if a
#: notification is missed.
POLL_S = 0.1
#: Events kept in the log (oldest dropped), so a source flapping for days stays bounded.
EVENT_LOG_SIZE = 1000


def redact(spec: str) -> str:
    """``spec`` with any password in it replaced by ``***`` (for names, logs, HUD); never raises."""
    return mask_credentials(spec)


#: FFmpeg demuxer options for stream opens, in OpenCV's ``key;value|key;value`` form.
#: fpsprobesize 0 skips FFmpeg's ~20-frame frame-rate probe, halving open and reconnect
#: time (live frames carry capture timestamps, so the nominal rate is not needed).
#: rtsp_transport comes from ``--rtsp-transport`` (tcp by default, OpenCV's own default:
#: no smeared frames from lost UDP packets, and it passes NAT/firewalls); other demuxers
#: ignore it.
STREAM_OPTIONS = "rtsp_transport;{transport}|fpsprobesize;0"
_FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"
_options_cond = threading.Condition()
_opens_in_flight = 0
_options_value = ""


@contextlib.contextmanager
def _stream_open_options(value: str) -> Iterator[None]:
    """Set ``value`` (FFmpeg options) in the environment while stream opens are in flight.

    OpenCV reads the variable at the start of each open. Concurrent opens that want the
    same value share it instead of queueing behind a lock for their whole (possibly long)
    open; one that wants another value waits for them. A value the user set themselves
    is left alone.
    """
    global _opens_in_flight, _options_value
    with _options_cond:
        _options_cond.wait_for(lambda: _opens_in_flight == 0 or _options_value == value)
        owned = _opens_in_flight > 0 or _FFMPEG_OPTIONS_ENV not in os.environ
        if owned:
            _opens_in_flight += 1
            _options_value = value
            os.environ[_FFMPEG_OPTIONS_ENV] = value
    try:
        yield
    finally:
        if owned:
            with _options_cond:
                _opens_in_flight -= 1
                if _opens_in_flight == 0:
                    os.environ.pop(_FFMPEG_OPTIONS_ENV, None)
                    _options_cond.notify_all()


#: While waiting between attempts, how often the server's TCP port is probed (see
#: LiveSource._wait_backoff). Only for protocols whose servers take many connections:
#: a ``tcp://`` server (e.g. ``ffmpeg -listen``) often serves a single client, and the
#: probe would take its slot. UDP has nothing to probe.
PROBE_INTERVAL_S = 0.5
PROBE_TIMEOUT_S = 0.3
PROBE_DEFAULT_PORTS = {"http": 80, "https": 443, "rtsp": 554, "rtsps": 322, "rtmp": 1935}


def _port_open(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=PROBE_TIMEOUT_S):
            return True
    except OSError:
        return False


def backoff_delay(attempt: int) -> float:
    """Seconds to wait before reconnect attempt ``attempt`` (1, 2, ...): 0.5, 1, 2, 4, 8, 10, 10..."""
    return min(BACKOFF_FIRST_S * 2 ** max(0, attempt - 1), BACKOFF_MAX_S)


def _fingerprint(image: Any) -> int:
    if not isinstance(image, np.ndarray):  # an undecoded JPEG: the same bytes, the same picture
        return zlib.crc32(image.data)
    data = image if image.flags.c_contiguous else np.ascontiguousarray(image)
    return zlib.crc32(data)


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """Something that happened to a live source: ``t`` is seconds since the source was created."""

    t: float
    status: SourceStatus
    message: str


class LiveSource:
    """A webcam (index or ``/dev/videoN``) or a stream URL (rtsp, http(s) MJPEG/HLS, udp, tcp...).

    Frame fields: ``index`` is the reader's capture sequence number (it skips the frames
    a slow consumer never saw), ``pts`` seconds on the capture clock since the first
    frame handed out, ``captured`` the ``time.monotonic()`` reading at capture.

    The constructor waits for the first frame for at most ``connect_timeout`` seconds
    (default: the stall timeout plus one second). If the source cannot be opened within
    ``max_retries`` reconnects it raises :class:`SourceError`; with unlimited retries it
    returns still unconnected (``info`` has width and height 0 and is replaced once the
    first frame arrives), keeps trying in the background and can be stopped any time.
    """

    truncated = False  # a live stream has no promised length
    size_changes: tuple[tuple[int, float, int, int], ...] = ()  # a new size arrives with a reconnect

    def __init__(
        self,
        spec: str | int,
        config: SourceConfig | None = None,
        source_id: int = 0,
        webcam: bool = False,
        connect_timeout: float | None = None,
    ) -> None:
        quiet_ffmpeg()
        self.spec = str(spec).strip()
        self.config = config or SourceConfig()
        self.source_id = source_id
        self.webcam = webcam
        self.name = redact(self.spec)
        self.info = SourceInfo(name=self.name, width=0, height=0, fps=None, frame_count=None, is_live=True)

        self._cond = threading.Condition()  # guards every field below that both threads touch
        self._stop = threading.Event()
        self._status = SourceStatus(SourceState.CONNECTING)
        self._mailbox: Frame | None = None  # newest-frame mode
        self._fifo: collections.deque[Frame] = collections.deque()  # every-frame mode
        self._ended = False
        self._events: collections.deque[LiveEvent] = collections.deque(maxlen=EVENT_LOG_SIZE)
        self._created = time.monotonic()
        self._origin: float | None = None  # capture time of the first frame handed out: pts 0
        self._first_captured: float | None = None
        self._last_frame_at: float | None = None
        self._connected_at = 0.0
        self._hls_cursor = HlsCursor()  # HLS: segments already taken, kept across reconnects

        #: The source gave up (retries exhausted); the SourceError saying why.
        self.error: SourceError | None = None
        #: Sequence number of the newest frame the reader has captured (-1: none yet).
        self.latest_index = -1
        self.frames_captured = 0
        self.frames_yielded = 0
        #: Frames the consumer never saw because a newer one replaced them.
        self.frames_skipped = 0
        #: Successful reconnects, and how long the last one took from losing the stream
        #: to the first frame after it.
        self.reconnects = 0
        self.last_reconnect_s: float | None = None
        #: Capture-time gap the last outage left in the output (last frame before it to first after).
        self.last_gap_s: float | None = None
        #: Seconds from creating the source to its first frame.
        self.connect_s: float | None = None
        #: Hand HTTP MJPEG pictures over undecoded (``Frame.convert``/``luma``): set by the runner
        #: when only a motion gate may look at most frames (nothing drawn, no video written).
        self.lazy_color = False

        self._reader = threading.Thread(target=self._run, name=f"live-reader-{source_id}", daemon=True)
        self._reader.start()
        self._wait_first_frame(connect_timeout if connect_timeout is not None else self.config.stall_timeout + 1.0)

    # ----------------------------------------------------------------- public API

    @property
    def status(self) -> SourceStatus:
        """The current :class:`SourceStatus`; ENDED with ``error`` set when the source gave up."""
        with self._cond:
            status, last = self._status, max(self._last_frame_at or 0.0, self._connected_at)
        if status.state is SourceState.CONNECTED and time.monotonic() - last > self.config.stall_timeout:
            # The reader is still blocked in a read that has not timed out yet.
            return SourceStatus(SourceState.STALLED, status.attempt)
        return status

    def frames(self) -> Iterator[Frame]:
        """The newest frame not yet yielded, blocking until one arrives; ends on stop() or failure."""
        try:
            while True:
                with self._cond:
                    frame = self._take()
                    while frame is None and not self._ended and not self._stop.is_set():
                        self._cond.wait(POLL_S)
                        frame = self._take()
                    if frame is None:
                        return
                    self.frames_yielded += 1
                    # pts 0 is the first frame handed out, not the first captured: frames
                    # read while the pipeline was still starting (model loading) were never
                    # processed, and an output must not begin with that dead time.
                    if self._origin is None:
                        self._origin = frame.captured
                    frame.pts = frame.captured - self._origin
                yield frame
        finally:
            self._stop.set()

    def stop(self) -> None:
        """Make ``frames()`` return within ~0.1 s. Safe from any thread or a signal handler."""
        self._stop.set()
        # The condition's lock is re-entrant, so a signal handler that interrupts the
        # main thread inside frames() can still take it.
        with self._cond:
            self._cond.notify_all()

    def close(self) -> None:
        """Stop reading and release the device/connection. Idempotent.

        Waits up to a second for the reader; a reader still blocked in an open/read that
        OpenCV cannot interrupt releases the capture itself when that call returns.
        """
        self.stop()
        if self._reader.is_alive() and self._reader is not threading.current_thread():
            self._reader.join(timeout=1.0)

    def events(self) -> list[LiveEvent]:
        """A copy of the event log (the last EVENT_LOG_SIZE events)."""
        with self._cond:
            return list(self._events)

    # ------------------------------------------------------------ consumer side

    def _take(self) -> Frame | None:
        """Next frame to hand out, or None. Caller holds ``_cond``."""
        if self.config.every_frame:
            if not self._fifo:
                return None
            frame = self._fifo.popleft()
            self._cond.notify_all()  # room for the reader
            return frame
        frame, self._mailbox = self._mailbox, None
        return frame

    def _wait_first_frame(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._first_captured is None and not self._ended:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(min(remaining, POLL_S))
            if self._first_captured is not None:
                return
            error = self.error
            unlimited = self.config.max_retries is None
        if error is not None:
            self.close()
            raise error
        if not unlimited:
            # Finite retries: the reader gives up in bounded time; wait for its verdict.
            with self._cond:
                while self._first_captured is None and not self._ended:
                    self._cond.wait(POLL_S)
                error = self.error
            if error is not None:
                self.close()
                raise error
            return
        log.warning("%s: not connected after %.1f s; still trying in the background", self.name, timeout)

    # -------------------------------------------------------------- reader side

    def _event(self, status: SourceStatus | None, message: str, level: int = logging.INFO) -> None:
        """Log ``message``; a non-None ``status`` becomes the current status."""
        now = time.monotonic()
        with self._cond:
            if status is not None:
                self._status = status
                if status.state is SourceState.CONNECTED:
                    self._connected_at = now
            event = LiveEvent(round(now - self._created, 3), self._status, message)
            self._events.append(event)
            self._cond.notify_all()
        log.log(level, "%s [%s] %s", self.name, event.status, message)

    def _set_status(self, status: SourceStatus) -> None:
        with self._cond:
            self._status = status

    def _open(self) -> tuple[Any, str]:
        """One bounded attempt to open the source: ``(capture, "")`` or ``(None, why it failed)``.

        The capture has ``read() -> (image, captured) | None`` and ``release()``. HLS
        playlists and HTTP MJPEG are read by vidtrack itself (sources/hls.py, mjpeg.py);
        everything else by OpenCV's FFmpeg backend.
        """
        import cv2

        timeout = self.config.stall_timeout
        if self.webcam:
            # Webcam backends (V4L2, DirectShow, AVFoundation) take no FFmpeg timeouts.
            device: str | int = int(self.spec) if self.spec.isdigit() else self.spec
            cap = cv2.VideoCapture(device)
            if cap.isOpened():
                return _OpenCvCapture(cap, None), ""
            cap.release()
            return None, "the device did not open"
        scheme = urlsplit(self.spec).scheme.lower()
        try:
            if scheme in ("http", "https"):
                if ".m3u8" in urlsplit(self.spec).path.lower():
                    return self._open_hls(), ""
                from vidtrack.sources.mjpeg import MjpegCapture, NotMjpeg

                try:
                    reader = MjpegCapture(self.spec, timeout, timeout, self._stop, not self.config.every_frame)
                    reader.lazy = lambda: self.lazy_color
                    return _ArrivalCapture(reader), ""
                except NotMjpeg as exc:
                    if "mpegurl" in exc.content_type.lower():
                        return self._open_hls(), ""
                    # anything else (MPEG-TS, FLV... over HTTP): FFmpeg below
        except SourceError as exc:
            return None, exc.one_line()
        except StreamEnded:
            raise
        except (OSError, ValueError) as exc:
            return None, f"open failed: {exc}"
        except Exception as exc:  # http.client and PyAV raise their own types
            return None, f"open failed: {type(exc).__name__}: {exc}"
        timeout_ms = int(timeout * 1000)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, timeout_ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, timeout_ms]
        started = time.monotonic()
        with _stream_open_options(STREAM_OPTIONS.format(transport=self.config.rtsp_transport)):
            cap = cv2.VideoCapture(self.spec, cv2.CAP_FFMPEG, params)
        if cap.isOpened():
            return _OpenCvCapture(cap, StreamClock()), ""
        cap.release()
        reason = f"open failed after {time.monotonic() - started:.1f} s"
        if scheme in ("rtsp", "rtsps"):
            from vidtrack.sources.rtsp import probe

            answer = probe(self.spec, self.config.rtsp_transport, timeout=min(timeout, 3.0))
            if answer:
                reason = answer
        return None, reason

    def _open_hls(self) -> Any:
        from vidtrack.sources.hls import HlsCapture

        timeout = self.config.stall_timeout
        return HlsCapture(self.spec, self._hls_cursor, timeout, timeout, self._stop)

    def _publish(self, image: np.ndarray, captured: float) -> None:
        with self._cond:
            self._first_captured = self._first_captured or captured
            self.latest_index += 1
            self.frames_captured += 1
            if self._last_frame_at is not None and captured <= self._last_frame_at:
                captured = self._last_frame_at + 1e-3  # capture times strictly increase
            self._last_frame_at = captured
            # decode_ms stays 0: a live read mostly waits for the camera's next frame, on the
            # reader's own thread, so it costs the pipeline nothing.
            if isinstance(image, np.ndarray):
                frame = Frame(image, self.latest_index, 0.0, captured, self.source_id)  # pts set when handed out
            else:  # undecoded (lazy_color): decoded when the detector or a sink reads it
                frame = Frame(None, self.latest_index, 0.0, captured, self.source_id, convert=image.bgr,
                              luma=image.luma, size=(image.shape[1], image.shape[0]))
            if self.config.every_frame:
                while len(self._fifo) >= FIFO_FRAMES and not self._stop.is_set():
                    self._cond.wait(POLL_S)
                self._fifo.append(frame)
            else:
                if self._mailbox is not None:
                    self.frames_skipped += 1
                self._mailbox = frame
            self._cond.notify_all()

    def _update_info(self, cap: Any, image: np.ndarray) -> None:
        height, width = image.shape[:2]
        old = self.info
        if (old.width, old.height) != (width, height):
            if old.width:
                self._event(None, f"frame size changed {old.width}x{old.height} -> {width}x{height}")
            fps = cap.nominal_fps() if self.webcam else None
            self.info = dataclasses.replace(old, width=width, height=height, fps=fps or old.fps)

    def _probe_address(self) -> tuple[str, int] | None:
        """Host and port to watch during backoff, for servers that take many connections."""
        if self.webcam:
            return None
        try:
            parts = urlsplit(self.spec)
            port = parts.port or PROBE_DEFAULT_PORTS.get(parts.scheme.lower())
        except ValueError:
            return None
        if parts.scheme.lower() not in PROBE_DEFAULT_PORTS or not parts.hostname or not port:
            return None
        return parts.hostname, port

    def _wait_backoff(self, delay: float) -> bool:
        """Wait ``delay`` s before the next attempt, or less if the server's port opens again.

        Returns True when stop() was called. The probe is a bare TCP connect every
        PROBE_INTERVAL_S, so a server that comes back is noticed within about that long
        instead of after a backoff of up to BACKOFF_MAX_S, without the cost of full opens.
        """
        address = self._probe_address()
        if address is None:
            return self._stop.wait(delay)
        end = time.monotonic() + delay
        was_open = _port_open(address)
        while (remaining := end - time.monotonic()) > 0:
            if self._stop.wait(min(PROBE_INTERVAL_S, remaining)):
                return True
            is_open = _port_open(address)
            if is_open and not was_open:
                self._event(None, f"{address[0]}:{address[1]} accepts connections again; reconnecting now")
                return False
            was_open = is_open
        return self._stop.is_set()

    def _may_retry(self, retries: int, reason: str) -> bool:
        """False (and the source marked failed) once ``retries`` exceeds max_retries."""
        if self.config.max_retries is None or retries <= self.config.max_retries:
            return True
        what = "open" if self._first_captured is None else "reconnect to"
        self.error = SourceError(
            f"cannot {what} {self.name} after {retries} attempt{'s' if retries != 1 else ''} ({reason})",
            "check the URL/device and that it is streaming, or raise --max-retries (omit it to retry forever)",
        )
        self._event(SourceStatus(SourceState.ENDED, retries), self.error.problem, logging.ERROR)
        return False

    def _run(self) -> None:
        """Reader thread: connect, read, detect stalls and freezes, reconnect with backoff."""
        cap = None
        retries = 0  # connection attempts since the stream last made progress
        lost_at: float | None = None  # when the current outage was detected
        fingerprint: int | None = None  # of the newest picture checked
        frozen: int | None = None  # the picture a frozen camera repeats; kept across reconnects
        last_image: np.ndarray | None = None  # the newest picture handed on
        changed_at = checked_at = connected_at = 0.0
        first_frame = True
        reason = ""  # why the last connection or attempt failed, for the next event
        stall = self.config.stall_timeout
        try:
            while not self._stop.is_set():
                if cap is None:
                    if retries:
                        # While waiting, the state says STALLED when the stream was lost to a
                        # stall or a freeze (so a HUD or /stats shows it), else RECONNECTING.
                        delay = backoff_delay(retries)
                        if not self.webcam and self._probe_address() is None:
                            delay = min(delay, BACKOFF_MAX_UNPROBED_S)
                        waiting = SourceStatus(
                            SourceState.STALLED if reason.startswith("stalled") else SourceState.RECONNECTING, retries
                        )
                        self._event(waiting, f"{reason}; reconnect attempt {retries} in {delay:.1f} s", logging.WARNING)
                        if self._wait_backoff(delay):
                            break
                        if frozen is None:
                            self._set_status(SourceStatus(SourceState.RECONNECTING, retries))
                    started = time.monotonic()
                    cap, why = self._open()
                    if cap is None:
                        reason = why
                        retries += 1
                        if not self._may_retry(retries, reason):
                            return
                        continue
                    connected_at = time.monotonic()  # a new connection gets a full stall_timeout
                    if frozen is None:
                        changed_at = connected_at
                    checked_at, first_frame = 0.0, True
                    self._event(None, f"opened in {connected_at - started:.2f} s")

                got = cap.read()
                now = time.monotonic()
                if self._stop.is_set():
                    break
                lost = ""
                if got is None:
                    since = max(self._last_frame_at or connected_at, connected_at)
                    if now - since >= 0.9 * stall:
                        lost = f"stalled: no frame for {now - since:.1f} s"
                    else:
                        lost = "lost: the stream ended or a read failed"
                else:
                    image, captured = got
                    if frozen is not None or now - checked_at >= FREEZE_CHECK_INTERVAL_S:
                        checked_at = now
                        new_fingerprint = _fingerprint(image)
                        if new_fingerprint != fingerprint and new_fingerprint != frozen:
                            fingerprint, changed_at, frozen = new_fingerprint, now, None
                            retries = 0  # the stream is making progress
                        elif now - changed_at > stall:
                            what = "frozen on the same picture" if frozen is None else "no new picture"
                            frozen = new_fingerprint
                            lost = f"stalled: {what} for {now - changed_at:.1f} s"
                        elif frozen is not None:
                            continue  # still the frozen picture after a reconnect: not live, not shown
                    if not lost and first_frame:
                        first_frame = False
                        self._update_info(cap, image)
                        if self.connect_s is None:
                            self.connect_s = now - self._created
                            self._event(SourceStatus(SourceState.CONNECTED), f"first frame after {self.connect_s:.2f} s")
                        elif lost_at is not None and self._last_frame_at is not None:
                            self.reconnects += 1
                            self.last_reconnect_s = now - lost_at
                            self.last_gap_s = captured - self._last_frame_at
                            self._event(
                                SourceStatus(SourceState.CONNECTED),
                                f"reconnected: first frame {self.last_reconnect_s:.2f} s after the loss was "
                                f"detected, {self.last_gap_s:.2f} s after the last frame",
                            )
                        else:
                            self._event(SourceStatus(SourceState.CONNECTED), "receiving frames")
                        lost_at = None
                if lost:
                    reason = lost
                    cap.release()
                    cap = None
                    if frozen is None and last_image is not None:
                        # A camera that resends its last picture on reconnect (most MJPEG
                        # cameras do) has sent nothing new: that picture is not progress.
                        frozen = _fingerprint(last_image)
                    lost_at = lost_at if lost_at is not None else now
                    retries += 1
                    if not self._may_retry(retries, reason):
                        return
                    continue
                self._publish(image, captured)
                last_image = image
        except StreamEnded as exc:
            self._event(SourceStatus(SourceState.ENDED), f"the stream ended: {exc}")
        except Exception as exc:  # never die silently: the consumer must see the end
            self.error = SourceError(f"reading {self.name} failed: {exc}", "report this as a bug with the log")
            self._event(SourceStatus(SourceState.ENDED), self.error.problem, logging.ERROR)
        finally:
            if cap is not None:
                cap.release()
            with self._cond:
                if self._status.state is not SourceState.ENDED:
                    self._status = SourceStatus(SourceState.ENDED)
                self._ended = True
                self._cond.notify_all()


class StreamClock:
    """Maps a stream's timestamps (seconds) to capture times on the monotonic clock.

    A frame cannot have been captured after it arrived, so the mapping offset is the
    smallest ``arrival - pts`` seen: frames that arrive late (released by FFmpeg at a read
    timeout after a stall, or queued in FFmpeg's buffers while the reader waits in
    every-frame mode) keep the time they were captured, not the time they were read.
    A timestamp that steps back (encoder restart, wrap) starts the mapping over.
    """

    def __init__(self) -> None:
        self.offset: float | None = None
        self.last_pts: float | None = None

    def captured(self, pts: float | None, arrived: float) -> float:
        """Capture time (monotonic s) of a frame with stream time ``pts`` that arrived at ``arrived``."""
        if pts is None or not math.isfinite(pts):
            return arrived
        if self.last_pts is not None and pts <= self.last_pts:
            if pts < self.last_pts - 0.5:
                self.offset = None  # stepped back: a new timeline
            else:
                return arrived  # a stream clock that does not advance tells nothing
        self.last_pts = pts
        if self.offset is None or arrived - pts < self.offset:
            self.offset = arrived - pts
        return self.offset + pts


class _OpenCvCapture:
    """cv2.VideoCapture as a capture: frames with capture times from their stream timestamps."""

    def __init__(self, cap: Any, clock: StreamClock | None) -> None:
        self.cap = cap
        self.clock = clock

    def read(self) -> tuple[np.ndarray, float] | None:
        ok, image = self.cap.read()
        if not ok or image is None:
            return None
        arrived = time.monotonic()
        if self.clock is None:
            return image, arrived
        import cv2

        pts = self.cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
        return image, self.clock.captured(pts, arrived)

    def nominal_fps(self) -> Fraction | None:
        """The device's frame rate (webcams); None when implausible (streams report 0, 90000...)."""
        import cv2

        raw = self.cap.get(cv2.CAP_PROP_FPS)
        if raw and 1.0 <= raw <= 240.0:
            return Fraction(raw).limit_denominator(1001)
        return None

    def release(self) -> None:
        self.cap.release()


class _ArrivalCapture:
    """A reader without stream timestamps (MJPEG): each picture is stamped when it arrives."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader

    def read(self) -> tuple[np.ndarray, float] | None:
        image = self.reader.read()
        return None if image is None else (image, time.monotonic())

    def release(self) -> None:
        self.reader.release()
