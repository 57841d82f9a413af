"""Video files, read frame by frame with OpenCV (FFmpeg backend) and a decode-ahead thread."""

from __future__ import annotations

import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import numpy as np

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError, quiet_ffmpeg
from vidtrack.frames import Frame, SourceInfo
from vidtrack.sources.base import SourceState, SourceStatus

#: Frames decoded ahead of the pipeline. Bounded so memory stays flat on long files.
PREFETCH = 4


def probe_fps(path: Path) -> Fraction | None:
    """The exact frame rate as a fraction (30000/1001 for 29.97), via PyAV.

    Containers report several rates. When the stream knows its frame count and duration,
    the rate that reproduces that duration wins, so outputs written at it keep the input's
    frame count *and* duration; otherwise the average rate, then the nominal one.
    """
    try:
        import av

        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            rates = [Fraction(r) for r in (stream.average_rate, stream.guessed_rate, stream.base_rate) if r]
            if not rates:
                return None
            if stream.frames and stream.duration and stream.time_base:
                seconds = float(stream.duration * stream.time_base)
                return min(rates, key=lambda r: abs(stream.frames / float(r) - seconds))
            return rates[0]
    except Exception:  # PyAV can't read it; OpenCV's float rate is the fallback
        return None


def _capture(location: str, config: SourceConfig):  # -> cv2.VideoCapture
    """Open a file, or a URL with FFmpeg's open/read timeouts at ``--stall-timeout``
    (a stalled server ends the run as a cut file would, it is not waited on forever)."""
    import cv2

    if "://" not in location:
        return cv2.VideoCapture(location, cv2.CAP_FFMPEG)
    ms = int(config.stall_timeout * 1000)
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms]
    return cv2.VideoCapture(location, cv2.CAP_FFMPEG, params)


def _shown(url: str | None) -> str | None:
    """``url`` with any password masked, for messages."""
    if url is None:
        return None
    from vidtrack.sources.live import redact

    return redact(url)


def _url_name(url: str) -> str:
    """The file name at the end of ``url``'s path (``clip.mp4``), else the masked URL."""
    from urllib.parse import urlsplit

    return Path(urlsplit(url).path).name or str(_shown(url))


class VideoFileSource:
    """A video file of any container/codec FFmpeg reads (mp4, avi, mkv, webm, raw mjpeg...).

    Frames are timestamped ``index / fps`` so outputs keep the input's exact rate, frame
    count and duration. Headers that lie about the frame count don't matter: every frame
    that decodes is yielded.
    """

    def __init__(self, path: str | Path, config: SourceConfig | None = None, source_id: int = 0) -> None:
        quiet_ffmpeg()
        import cv2

        # An http(s) URL of a video file is read like a file (sources.base.is_finite_http).
        self.url = str(path).strip() if "://" in str(path) else None
        self.path = Path(path)
        self.config = config or SourceConfig()
        self.source_id = source_id
        if self.url is None and self.path.stat().st_size == 0:
            raise SourceError(f"{self.path} is empty (0 bytes)", "give a complete video file")
        self._cap = _capture(self.url or str(self.path), self.config)
        if not self._cap.isOpened():
            raise SourceError(
                f"cannot open {_shown(self.url) or self.path} as a video (not a video, or truncated/corrupt)",
                "check that the file plays, e.g. with ffprobe, or re-export it",
            )
        ok, first = self._cap.read()
        if not ok or first is None:
            self._cap.release()
            raise SourceError(
                f"{_shown(self.url) or self.path} has no decodable video frames (truncated or corrupt)",
                "check that the file plays, e.g. with ffprobe, or re-export it",
            )
        self._first: np.ndarray | None = first
        fps = probe_fps(self.url or self.path)
        if fps is None:
            raw = self._cap.get(cv2.CAP_PROP_FPS)
            fps = Fraction(raw).limit_denominator(1001) if raw and raw > 0 else Fraction(30)
        count = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        self.info = SourceInfo(
            name=_url_name(self.url) if self.url else self.path.name,
            width=first.shape[1],
            height=first.shape[0],
            fps=fps,
            frame_count=count * self.config.loop if count > 0 else None,
            is_live=False,
            media_path=self.path if self.config.loop == 1 and self.url is None else None,
        )
        self._stop = threading.Event()
        self._stopped_early = False  # stop() was called: the end was not the file's end
        self._status = SourceStatus(SourceState.CONNECTED)
        self.frames_decoded = 0

    @property
    def status(self) -> SourceStatus:
        """CONNECTED while frames remain, ENDED after the last one (or stop())."""
        return self._status

    def stop(self) -> None:
        self._stopped_early = True
        self._stop.set()

    def _decode(self, out: "queue.Queue[Frame | None]") -> None:
        """Reader thread: decode into ``out`` until the end, then put a None sentinel."""
        import cv2

        fps = float(self.info.fps or 30)
        index = 0
        try:
            for lap in range(self.config.loop):
                if lap > 0:
                    self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
                while not self._stop.is_set():
                    start = time.perf_counter()
                    if self._first is not None:
                        image, self._first = self._first, None
                    else:
                        ok, image = self._cap.read()
                        if not ok or image is None:
                            break
                    decode_ms = (time.perf_counter() - start) * 1000.0
                    frame = Frame(image, index, index / fps, time.monotonic(), self.source_id, decode_ms)
                    while not self._stop.is_set():
                        try:
                            out.put(frame, timeout=0.1)
                            break
                        except queue.Full:
                            continue
                    index += 1
                if self._stop.is_set():
                    break
        finally:
            self.frames_decoded = index
            self._status = SourceStatus(SourceState.ENDED)
            # The consumer may have stopped reading; make room for the sentinel.
            while True:
                try:
                    out.put(None, timeout=0.1)
                    break
                except queue.Full:
                    if self._stop.is_set():
                        try:
                            out.get_nowait()
                        except queue.Empty:
                            pass

    def frames(self) -> Iterator[Frame]:
        out: "queue.Queue[Frame | None]" = queue.Queue(maxsize=PREFETCH)
        reader = threading.Thread(target=self._decode, args=(out,), name=f"decode-{self.source_id}", daemon=True)
        reader.start()
        try:
            while True:
                frame = out.get()
                if frame is None:
                    return
                yield frame
        finally:
            self._stop.set()
            reader.join(timeout=5)

    def close(self) -> None:
        self._stop.set()
        self._cap.release()

    @property
    def truncated(self) -> bool:
        """True when fewer frames decoded than the header promised (lying header or cut file)."""
        expected = self.info.frame_count
        return expected is not None and self.frames_decoded < expected and not self._stopped_early
