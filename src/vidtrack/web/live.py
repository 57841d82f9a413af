"""The live view's state: each source's newest annotated frame, its JPEG and its stats.

:class:`LiveHub` sits between the pipeline's output thread (``write``, which never blocks:
it swaps a reference) and the web routes (``/stats``, ``/stream/N.mjpg``). A JPEG-encoder
thread encodes each source's newest frame at most ``max_fps`` times a second, once
whatever the number of viewers, and only while someone watches; stream clients wait on
an ``asyncio.Event`` the encoder sets, so a waiting viewer costs no thread.
"""

from __future__ import annotations

import asyncio
import collections
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable

import numpy as np

from vidtrack.errors import OptionError
from vidtrack.labels import class_counts
from vidtrack.stats import frames_per_second

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult
    from vidtrack.frames import SourceStatus

#: Frame-age samples kept per source for the p50/p95 shown; about 10 s at 30 fps.
AGE_WINDOW = 300
#: Seconds over which the fallback fps (when the pipeline gives none) is measured.
FPS_WINDOW_S = 2.0
#: The MJPEG part separator.
BOUNDARY = "vidtrackframe"


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


@dataclass
class _Channel:
    """One source's newest frame, its JPEG and its stats."""

    source_id: int
    name: str
    status_fn: "Callable[[], SourceStatus] | None" = None
    image: np.ndarray | None = None
    image_seq: int = 0  # bumps on every new frame written
    jpeg: bytes | None = None
    jpeg_seq: int = 0  # image_seq the JPEG was encoded from
    encoded_at: float = 0.0
    clients: int = 0
    frames: int = 0
    status: "SourceStatus | None" = None
    fps: float | None = None
    counts: dict[str, int] = field(default_factory=dict)
    ages_ms: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=AGE_WINDOW))
    written_at: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=240))
    width: int = 0
    height: int = 0

    def stats(self) -> dict[str, Any]:
        """This source's ``/stats`` entry (fps from n frames over n-1 intervals when the pipeline gives none)."""
        ages = list(self.ages_ms)
        fps = self.fps
        if fps is None and len(self.written_at) >= 2:
            recent = [t for t in self.written_at if t >= self.written_at[-1] - FPS_WINDOW_S]
            fps = frames_per_second(len(recent), recent[-1] - recent[0])
        status = self.status
        if self.status_fn is not None:
            try:
                status = self.status_fn()
            except Exception:  # a viewer must not fail because a source did
                pass
        return {
            "id": self.source_id,
            "name": self.name,
            "state": "" if status is None else str(status),  # label: "reconnecting 2"
            "ok": status is None or status.ok,
            "fps": None if fps is None else round(fps, 2),
            "frame_age_ms": {
                "p50": _round(_percentile(ages, 50)),
                "p95": _round(_percentile(ages, 95)),
                "last": _round(ages[-1] if ages else None),
            },
            "counts": dict(self.counts),
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "stream": f"/stream/{self.source_id}.mjpg",
        }


class LiveHub:
    """Newest frames of the live sources, their JPEGs and stats; a pipeline sink.

    The knobs trade browser smoothness against CPU spent on JPEG encoding, which runs in
    the hub's own thread, never in the pipeline's.

    Raises:
        OptionError: a knob out of range.
    """

    def __init__(
        self,
        max_fps: float = 15.0,  # stream frame-rate cap: higher is smoother, costs one encode per frame
        jpeg_quality: int = 75,  # 0-100: higher is sharper and heavier on the network
        max_width: int = 1280,  # wider frames are scaled down first: cheaper to encode and send
    ) -> None:
        if max_fps <= 0 or not 1 <= jpeg_quality <= 100 or max_width < 16:
            raise OptionError("web viewer settings out of range", "use max_fps > 0, jpeg_quality 1-100, max_width >= 16")
        self.max_fps = max_fps
        self.jpeg_quality = jpeg_quality
        self.max_width = max_width
        self._channels: dict[int, _Channel] = {}
        self._cond = threading.Condition()
        self._closing = threading.Event()
        self._waiters: set[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = set()
        #: JPEG encodes done (one per new frame while watched, whatever the number of clients).
        self.frames_encoded = 0
        self._encoder = threading.Thread(target=self._encode_loop, name="web-viewer-jpeg", daemon=True)
        self._encoder.start()

    # ---------------------------------------------------------------- sink API

    def add_source(self, source_id: int, name: str, status: "Callable[[], SourceStatus] | None" = None) -> None:
        """Show a source before its first frame; ``status`` is polled for /stats (e.g. ``source.status``),
        so an outage shows even while no frames arrive."""
        with self._cond:
            self._channel(source_id, name).status_fn = status

    def write(self, result: "FrameResult") -> None:
        """Take the newest annotated frame and its stats. Never blocks: it replaces, not queues."""
        frame = result.frame
        image = result.annotated if result.annotated is not None else frame.image
        now = time.monotonic()
        age = result.frame_age_ms
        if age is None:
            age = (now - frame.captured) * 1000.0
        counts = result.counts or (class_counts(result.detections) if result.detections is not None else {})
        with self._cond:
            channel = self._channel(frame.source_id, result.source_name or f"source {frame.source_id}")
            if result.source_name:
                channel.name = result.source_name
            channel.image = image
            channel.image_seq += 1
            channel.frames += 1
            channel.height, channel.width = image.shape[:2]
            channel.fps = result.fps
            channel.ages_ms.append(float(age))
            channel.written_at.append(now)
            channel.counts = {str(k): int(v) for k, v in counts.items()}
            if result.status is not None:
                channel.status = result.status
            self._cond.notify_all()

    def close(self) -> None:
        """Stop encoding and end every stream. Idempotent."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._cond:
            self._cond.notify_all()
        self._wake_streams()
        self._encoder.join(timeout=2)

    @property
    def closing(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closing.is_set()

    def stats(self) -> dict[str, Any]:
        """What ``/stats`` returns: ``{"time": unix seconds, "sources": [per-source stats]}``."""
        with self._cond:
            sources = [self._channels[key].stats() for key in sorted(self._channels)]
        return {"time": time.time(), "sources": sources}

    def has_source(self, source_id: int) -> bool:
        """True when ``source_id`` has been added or written."""
        with self._cond:
            return source_id in self._channels

    # ---------------------------------------------------------------- streams

    async def jpeg_parts(self, source_id: int) -> AsyncIterator[bytes]:
        """MJPEG parts of ``source_id``'s newest frames until the hub closes or the client leaves."""
        loop = asyncio.get_running_loop()
        wake = asyncio.Event()
        waiter = (loop, wake)
        with self._cond:
            channel = self._channels[source_id]
            channel.clients += 1
            self._waiters.add(waiter)
            self._cond.notify_all()
        sent = -1
        try:
            while not self._closing.is_set():
                wake.clear()
                with self._cond:
                    ready = channel.jpeg is not None and channel.jpeg_seq != sent
                    jpeg, seq = (channel.jpeg, channel.jpeg_seq) if ready else (None, sent)
                if jpeg is None:
                    try:
                        await asyncio.wait_for(wake.wait(), timeout=1.0)
                    except asyncio.TimeoutError:
                        pass
                    continue
                sent = seq
                head = f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                yield head.encode() + jpeg + b"\r\n"
        finally:
            with self._cond:
                self._waiters.discard(waiter)
                channel.clients -= 1
                if channel.clients == 0:
                    channel.jpeg, channel.jpeg_seq = None, -1  # the next viewer gets a fresh encode

    def _wake_streams(self) -> None:
        with self._cond:
            waiters = list(self._waiters)
        for loop, event in waiters:
            try:
                loop.call_soon_threadsafe(event.set)
            except RuntimeError:  # that loop has closed
                pass

    # ------------------------------------------------------------- internals

    def _channel(self, source_id: int, name: str) -> _Channel:
        """The channel for ``source_id``, created on first use. Caller holds ``_cond``."""
        channel = self._channels.get(source_id)
        if channel is None:
            channel = self._channels[source_id] = _Channel(source_id, name)
        return channel

    def _encode_loop(self) -> None:
        """Encode each watched source's newest frame, at most ``max_fps`` times a second."""
        import cv2

        period = 1.0 / self.max_fps
        while not self._closing.is_set():
            job: tuple[_Channel, np.ndarray, int] | None = None
            wait = 0.5
            with self._cond:
                now = time.monotonic()
                for channel in self._channels.values():
                    if channel.clients == 0 or channel.image is None or channel.image_seq == channel.jpeg_seq:
                        continue
                    due = channel.encoded_at + period - now
                    if due <= 0:
                        job = (channel, channel.image, channel.image_seq)
                        channel.encoded_at = now
                        break
                    wait = min(wait, due)
                if job is None:
                    self._cond.wait(wait)
                    continue
            channel, image, seq = job
            if image.shape[1] > self.max_width:
                height = round(image.shape[0] * self.max_width / image.shape[1])
                image = cv2.resize(image, (self.max_width, height), interpolation=cv2.INTER_AREA)
            ok, buffer = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                continue
            with self._cond:
                self.frames_encoded += 1
                channel.jpeg, channel.jpeg_seq = buffer.tobytes(), seq
            self._wake_streams()
