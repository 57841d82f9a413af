"""Video files, decoded with PyAV (FFmpeg) on a decode-ahead thread.

Each frame keeps its own presentation time (see :mod:`vidtrack.sources.timeline`), its own
size (a file may change resolution part-way) and is turned upright as players show it
(a phone's rotation flag).
"""

from __future__ import annotations

import queue
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError, quiet_ffmpeg
from vidtrack.frames import Frame, SourceInfo
from vidtrack.bounded import FrameQueue
from vidtrack.frames import SourceState, SourceStatus
from vidtrack.sources.timeline import DISCONTINUOUS_FORMATS, Timeline

#: Frames decoded ahead of the pipeline. Bounded so memory stays flat on long files.
PREFETCH = 4

#: FFmpeg's transfer codes of HDR video: SMPTE ST 2084 (PQ, HDR10) and ARIB STD-B67 (HLG).
_HDR_TRANSFERS = {16: "PQ (HDR10)", 18: "HLG"}

#: A jump of this many frame steps (or more) between two decoded frames is reported as
#: missing pictures. One dropped frame in a constant-rate file is a jump of 2 steps; the
#: ordinary jitter of variable-rate phone video stays well under it.
GAP_FRAMES = Fraction(3, 2)


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
            return _exact_rate(container.streams.video[0])
    except Exception:  # PyAV can't read it
        return None


def creation_time(path: Path) -> str | None:
    """The container's ``creation_time`` tag (format or first video stream), as written; None if absent or unreadable."""
    try:
        import av

        with av.open(str(path)) as container:
            tag = container.metadata.get("creation_time")
            if not tag and container.streams.video:
                tag = container.streams.video[0].metadata.get("creation_time")
            return tag or None
    except Exception:  # PyAV can't read it: opening the source reports why
        return None


def _exact_rate(stream: Any) -> Fraction | None:
    """:func:`probe_fps`'s choice for an open PyAV video stream."""
    rates = [Fraction(r) for r in (stream.average_rate, stream.guessed_rate, stream.base_rate) if r]
    if not rates:
        return None
    if stream.frames and stream.duration and stream.time_base:
        seconds = float(stream.duration * stream.time_base)
        return min(rates, key=lambda r: abs(stream.frames / float(r) - seconds))
    return rates[0]


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
    """A video file of any container/codec FFmpeg reads (mp4, avi, mkv, webm, ts, raw mjpeg...),
    or an http(s) URL of one (:func:`vidtrack.sources.open.is_finite_http`), read the same way
    with FFmpeg's open/read timeouts at ``--stall-timeout``.

    ``Frame.pts`` is the frame's presentation time in seconds from the first frame: exactly
    ``index / fps`` for a constant-rate file (29.97 stays 1001/30000 s steps), the source's own
    times when they are not a constant rate, and never backwards (see
    :class:`~vidtrack.sources.timeline.Timeline`). ``Frame.duration`` is how long it shows.
    Frames are BGR ``uint8`` arrays of their own decoded size; a size change part-way is
    recorded in :attr:`size_changes` as ``(index, seconds, width, height)``. Headers that lie
    about the frame count don't matter: every frame that decodes is yielded.

    Raises :class:`~vidtrack.errors.SourceError` (one line, with the fix) when the file is
    empty, not a video, or has no decodable frame.
    """

    #: Frames decoded at open: their stamps choose between pts and dts before any is placed.
    SEED_FRAMES = 8
    reconnects = 0  # a file is never reopened
    error = None  # a file cut short is reported through ``truncated``
    grown_to = 0  # bytes at the end of reading, when ``growing``

    def __init__(self, path: str | Path, config: SourceConfig | None = None, source_id: int = 0) -> None:
        quiet_ffmpeg()
        import av

        # An http(s) URL of a video file is read like a file (sources.open.is_finite_http).
        self.url = str(path).strip() if "://" in str(path) else None
        self.path = Path(path)
        self.config = config or SourceConfig()
        self.source_id = source_id
        shown = _shown(self.url) or self.path
        if self.url is None and self.path.stat().st_size == 0:
            raise SourceError(f"{self.path} is empty (0 bytes)", "give a complete video file")
        self._grown_from = self._file_state()  # (size, mtime) at open: growth means a writer is at work
        self.growing = False  # the file changed while it was read (see _check_growth)
        try:
            if self.url is None and self.config.follow > 0:  # FFmpeg's file protocol waits at the end
                follow = {"follow": "1", "rw_timeout": str(int(self.config.follow * 1_000_000))}
                self._container = av.open(str(self.path), options=follow)
            elif self.url is None:
                self._container = av.open(str(self.path))
            else:  # a stalled server ends the run as a cut file would; it is not waited on forever
                self._container = av.open(self.url, timeout=self.config.stall_timeout)
        except (av.FFmpegError, OSError, ValueError):
            raise SourceError(
                f"cannot open {shown} as a video (not a video, or truncated/corrupt)",
                "check that the file plays, e.g. with ffprobe, or re-export it",
            ) from None
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"cannot open {shown} as a video (it has no video stream)", "give a video file")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        self.hidden_frames = 0  # packets an edit list keeps off screen (before time zero)
        self.hdr: str | None = None  # "PQ (HDR10)" or "HLG" when frames were tone-mapped to SDR
        self.undecodable: list[float | None] = []  # source times (s) of packets the decoder refused
        self.damage: list[dict[str, Any]] = []  # runs of missing frames, see _note_gap
        self.deinterlaced = False  # frames said they were interlaced and went through bwdif
        self._graph: Any = None
        self._decoded = self._deinterlace(self._decode_all())
        self._head: list[Any] = []
        for frame in self._decoded:
            self._head.append(frame)
            if len(self._head) >= self.SEED_FRAMES:
                break
        if not self._head:
            self._container.close()
            raise SourceError(
                f"{shown} has no decodable video frames (truncated or corrupt)",
                "check that the file plays, e.g. with ffprobe, or re-export it",
            )
        stream = self._stream
        fps = _exact_rate(stream) or _rate_of(stream) or Fraction(30)
        tick = Fraction(stream.time_base) if stream.time_base else 1 / fps
        self.timeline = Timeline(fps, tick, discontinuous=_discontinuous(self._container))
        self.timeline.seed([(f.pts, f.dts) for f in self._head])
        first = self._head[0]
        first_time = first.dts if self.timeline.uses_dts else first.pts
        if first_time is None:
            first_time = first.pts if first.pts is not None else first.dts
        self.timeline.origin = first_time
        if self.timeline.uses_dts and stream.start_time is not None and first_time is not None:
            start_ticks = min(stream.start_time, first_time)  # the decoder's delay is not a time
        else:
            start_ticks = first_time
        image = self._to_bgr(first)
        sar = stream.codec_context.sample_aspect_ratio or stream.sample_aspect_ratio
        header_frames = stream.frames or 0
        if len(self._head) < self.SEED_FRAMES:
            # The decoder ended within the first frames: the file's length is known exactly,
            # whatever its header says (a GIF or a cut MP4 may state none, or a wrong one).
            header_frames = len(self._head)
        self.info = SourceInfo(
            name=_url_name(self.url) if self.url else self.path.name,
            width=image.shape[1],
            height=image.shape[0],
            fps=fps,
            frame_count=header_frames * self.config.loop if header_frames > 0 else None,
            is_live=False,
            media_path=self.path if self.config.loop == 1 and self.url is None else None,
            time_base=tick,
            start_time=float(start_ticks * tick) if start_ticks is not None else 0.0,
            sample_aspect_ratio=Fraction(sar) if sar and Fraction(sar) != 1 and float(sar) > 0 else None,
        )
        self._first_image: np.ndarray | None = image
        #: Hand frames over unconverted (``Frame.convert``/``luma``): set by the runner when
        #: only a motion gate may look at most frames (nothing drawn, no video written).
        self.lazy_color = False
        self._reader: threading.Thread | None = None
        self._stop = threading.Event()
        self._stopped_early = False  # stop() was called: the end was not the file's end
        self._status = SourceStatus(SourceState.CONNECTED)
        self.frames_decoded = 0
        self.end_time = 0.0  # seconds: the last frame's time plus its duration
        self.size_changes: list[tuple[int, float, int, int]] = []
        self.decode_error: str | None = None  # why decoding stopped before the end, if it did

    def _decode_all(self) -> Iterator[Any]:
        """PyAV frames in presentation order; a corrupt tail ends the file, not the run."""
        import av

        try:
            for packet in self._container.demux(self._stream):
                if packet.is_discard and packet.size:
                    self.hidden_frames += 1
                try:
                    # PyAV keeps the frames a packet did give before an error; they are yielded.
                    yield from packet.decode()
                except (av.InvalidDataError, BlockingIOError):
                    # one broken packet: skip it, as players do, but count and place it
                    where = packet.pts if packet.pts is not None else packet.dts
                    self.undecodable.append(
                        float(where * packet.time_base) if where is not None and packet.time_base else None
                    )
                    continue
        except (av.FFmpegError, OSError) as exc:
            following = self.config.follow > 0 and self.url is None and getattr(exc, "errno", None) in (5, 110)
            if not following:  # with --follow, EIO/ETIMEDOUT from rw_timeout is the end: no growth for that long
                self.decode_error = str(exc)
            try:  # the frames still inside the decoder are frames too
                yield from self._stream.codec_context.decode(None)
            except (av.FFmpegError, OSError):
                pass

    def _deinterlace(self, frames: Iterator[Any]) -> Iterator[Any]:
        """``frames``, deinterlaced when they say they are interlaced (an interlaced-frame flag,
        or a top/bottom-field-first stream), else as they are.

        FFmpeg's ``bwdif`` filter (one frame out per frame in, only frames flagged interlaced
        are touched) runs before detection, so boxes are found on the clean picture and the
        output, written progressive, carries no combing. Frame times pass through unchanged.
        """
        import av

        order = getattr(self._stream.codec_context, "field_order", None) or ""
        for frame in frames:
            if self._graph is None and (frame.interlaced_frame or str(order).lower() in ("tt", "bb", "tb", "bt")):
                graph = av.filter.Graph()
                source = graph.add_buffer(template=self._stream)
                bwdif = graph.add("bwdif", "mode=send_frame:parity=auto:deint=interlaced")
                sink = graph.add("buffersink")
                source.link_to(bwdif)
                bwdif.link_to(sink)
                graph.configure()
                self._graph = graph
                self.deinterlaced = True
            if self._graph is None:
                yield frame
                continue
            self._graph.push(frame)
            yield from self._pull()
        if self._graph is not None:
            try:
                self._graph.push(None)
            except (av.FFmpegError, ValueError):
                pass
            yield from self._pull()
            self._graph = None

    def _pull(self) -> Iterator[Any]:
        """Frames the deinterlacer has ready."""
        import av

        tick = self._stream.time_base
        while True:
            try:
                frame = self._graph.pull()
            except (BlockingIOError, EOFError, av.FFmpegError):
                return
            base = frame.time_base  # bwdif counts in half ticks: back to the stream's own
            if base is not None and tick is not None and base != tick:
                if frame.pts is not None:
                    frame.pts = round(frame.pts * base / tick)
                if frame.duration:
                    frame.duration = round(frame.duration * base / tick)
                frame.time_base = tick
            yield frame

    def _file_state(self) -> tuple[int, int] | None:
        """(size in bytes, mtime in ns) of a local file; None for URLs or when it can't be read."""
        if self.url is not None:
            return None
        try:
            st = self.path.stat()
        except OSError:
            return None
        return st.st_size, st.st_mtime_ns

    def _check_growth(self) -> None:
        """At the end of reading: did the file grow or change since it was opened? Then a writer
        was still at it and the run ends where the writer was (``growing``; the runner warns
        and marks the summary incomplete). With ``--follow`` the end is when growth stopped."""
        if self._stopped_early or self.config.follow > 0:
            return
        now = self._file_state()
        if now is not None and self._grown_from is not None and now != self._grown_from:
            self.growing = True
            self.grown_to = now[0]

    def _to_bgr(self, frame: Any) -> np.ndarray:
        """The frame as BGR uint8, turned upright by its rotation flag (as OpenCV and players do).

        Colours are read as players show them: with the matrix and range the stream states
        (full-range ``yuvj`` and tagged BT.601/709/2020 included); untagged HD (720 lines or
        more) as BT.709, untagged SD as BT.601, as players assume. HDR (PQ/HDR10 or HLG
        transfer) is tone-mapped to SDR BT.709 by FFmpeg's scaler and :attr:`hdr` names it,
        so the runner warns.
        """
        trc = getattr(frame, "color_trc", 2)
        if trc in _HDR_TRANSFERS:
            self.hdr = _HDR_TRANSFERS[trc]
            image = frame.reformat(format="bgr24", dst_color_trc=1, dst_color_primaries=1).to_ndarray()
        elif getattr(frame, "colorspace", 2) == 2 and frame.height >= 720:  # unspecified HD: BT.709
            image = frame.to_ndarray(format="bgr24", src_colorspace="ITU709")
        else:
            image = frame.to_ndarray(format="bgr24")
        turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
        if turns:
            image = np.ascontiguousarray(np.rot90(image, turns))
        return image

    def _unconverted(self, frame: Any) -> dict[str, Any]:
        """``Frame`` arguments that leave ``frame`` unconverted until someone reads its BGR image."""
        turns = round((getattr(frame, "rotation", 0) or 0) / 90) % 4
        width, height = (frame.height, frame.width) if turns % 2 else (frame.width, frame.height)

        def luma() -> np.ndarray:
            if frame.format.name in _LUMA_FIRST:  # the Y plane as it is: no conversion, no copy
                plane = frame.planes[0]
                gray = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, : frame.width]
            else:
                gray = frame.to_ndarray(format="gray")
            return np.ascontiguousarray(np.rot90(gray, turns)) if turns else gray

        return {"convert": lambda: self._to_bgr(frame), "luma": luma, "size": (width, height)}

    @property
    def status(self) -> SourceStatus:
        """CONNECTED while frames remain, ENDED after the last one (or stop())."""
        return self._status

    def stop(self) -> None:
        """Make ``frames()`` end soon and mark the run as stopped early (so it is not reported truncated).

        Safe from any thread or a signal handler.
        """
        self._stopped_early = True
        self._stop.set()

    def _laps(self) -> Iterator[Any]:
        """Every decoded frame, ``config.loop`` times over."""
        yield from self._head
        self._head = []
        yield from self._decoded
        for _ in range(self.config.loop - 1):
            if self._stop.is_set():
                return
            self._container.seek(0)
            yield from self._deinterlace(self._decode_all())

    def _decode(self, out: "queue.Queue[Frame | None]") -> None:
        """Reader thread: decode into ``out`` until the end, then put a None sentinel."""
        index = 0
        size = (self.info.width, self.info.height)
        previous_time = previous_end = Fraction(0)
        try:
            start = time.perf_counter()
            for decoded in self._laps():
                if self._stop.is_set():
                    break
                lazy = None
                if self._first_image is not None:
                    image, self._first_image = self._first_image, None
                elif self.lazy_color:
                    image, lazy = None, self._unconverted(decoded)
                else:
                    image = self._to_bgr(decoded)
                stamp = self.timeline.place(decoded.pts, decoded.dts, decoded.duration)
                decode_ms = (time.perf_counter() - start) * 1000.0
                frame = Frame(image, index, float(stamp.time), time.monotonic(), self.source_id, decode_ms, **(lazy or {}))
                frame.duration = float(stamp.duration)
                if frame.size != size:
                    size = frame.size
                    self.size_changes.append((index, frame.pts, size[0], size[1]))
                if index:
                    self._note_gap(previous_time, previous_end, stamp.time)
                if getattr(decoded, "is_corrupt", False):
                    self._note_corrupt(stamp.time)
                previous_time, previous_end = stamp.time, stamp.time + stamp.duration
                self.end_time = float(stamp.time + stamp.duration)
                while not self._stop.is_set():
                    try:
                        out.put(frame, timeout=0.1)
                        break
                    except queue.Full:
                        continue
                index += 1
                start = time.perf_counter()
        finally:
            self.frames_decoded = index
            self._check_growth()
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

    def _note_gap(self, last: Fraction, last_end: Fraction, now: Fraction) -> None:
        """Record the frames missing between a frame shown until ``last_end`` and the next at ``now``.

        A jump of at least :data:`GAP_FRAMES` frame steps is missing pictures: data the
        demuxer or decoder could not read (``"undecodable"``), or, in formats a recorder
        stops and restarts (MPEG-TS/PS, FLV) with no decoder error there, a hole in the
        recording (``"gap"``). Entries: ``{"from": s, "to": s, "frames": n, "kind": ...}``
        where ``from``/``to`` are the last good frame before and the first after. Frames
        decoded with errors are ``"corrupt"`` entries (:meth:`_note_corrupt`).
        """
        step = self.timeline.frame
        if now - last_end < GAP_FRAMES * step:
            return
        missing = max(1, round((now - last_end) / step))
        errors = [t for t in self.undecodable if t is None or float(last) - 1 <= t - float(self.info.start_time) <= float(now) + 1]
        kind = "gap" if self.timeline.discontinuous and not errors else "undecodable"
        self.damage.append(
            {"from": round(float(last), 3), "to": round(float(now), 3), "frames": missing, "kind": kind}
        )

    def _note_corrupt(self, now: Fraction) -> None:
        """Count a frame the decoder returned with errors (concealed damage, FFmpeg's corrupt flag).

        Such frames are kept (they are what players show); runs less than a second apart
        make one ``{"kind": "corrupt"}`` entry of :attr:`damage`.
        """
        t = round(float(now), 3)
        last = next((d for d in reversed(self.damage) if d["kind"] == "corrupt"), None)
        if last is not None and t - last["to"] <= 1.0:
            last["to"], last["frames"] = t, last["frames"] + 1
        else:
            self.damage.append({"from": t, "to": t, "frames": 1, "kind": "corrupt"})

    def damage_messages(self) -> list[str]:
        """One line per run of missing frames, as the runner shows them (see :meth:`_note_gap`)."""
        lines = []
        for entry in self.damage:
            where = f"{entry['from']:.3f}–{entry['to']:.3f} s"
            if entry["kind"] == "corrupt":
                lines.append(
                    f"{self.info.name}: {entry['frames']} frames ({where}) were decoded with errors (damaged data in "
                    "the file); they were processed as the decoder repaired them"
                )
            elif entry["kind"] == "gap":
                lines.append(
                    f"{self.info.name}: no picture for {entry['to'] - entry['from']:.3f} s ({where}): the recording "
                    "has a hole there; the time is kept"
                )
            else:
                lines.append(
                    f"{self.info.name}: {entry['frames']} frames ({where}) could not be decoded (damaged data in the "
                    "file); the frames around them were processed"
                )
        return lines

    def frames(self) -> Iterator[Frame]:
        """The decoded frames in order, from a reader thread that decodes up to :data:`PREFETCH` ahead.

        Each frame has its own pts and duration (seconds, :class:`Timeline`) and its own size;
        unless ``lazy_color`` leaves them unconverted, pictures are BGR ``uint8``, upright.
        Damage is recorded, not raised (:meth:`damage_messages`). Leaving the loop stops the reader.
        """
        out: "queue.Queue[Frame | None]" = FrameQueue(PREFETCH)  # and in bytes: big frames prefetch fewer
        reader = threading.Thread(target=self._decode, args=(out,), name=f"decode-{self.source_id}", daemon=True)
        self._reader = reader
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
        """Stop the reader thread, then close the file. Idempotent.

        The container is closed only once the reader has left it (closing it under a running
        demuxer crashes FFmpeg); a reader stuck in a network read past 5 s leaves it to the GC.
        """
        self._stop.set()
        reader = self._reader
        if reader is not None and reader.is_alive():
            reader.join(timeout=5)
            if reader.is_alive():
                return
        self._container.close()

    @property
    def truncated(self) -> bool:
        """True when fewer frames decoded than the header promised (lying header or cut file).

        Frames that an edit list keeps off screen (an MP4 whose stream starts before time zero)
        count as delivered: hiding them is not a cut; so do frames missing in the middle
        (:attr:`damage`), which are reported where they are.
        """
        expected = self.info.frame_count
        # Frames lost in the middle (self.damage) are reported there, not blamed on the end.
        missing = sum(d["frames"] for d in self.damage if d["kind"] != "corrupt")
        delivered = self.frames_decoded + self.hidden_frames + missing
        return expected is not None and delivered < expected and not self._stopped_early


#: Pixel formats whose first plane is the 8-bit luma picture, row by row.
_LUMA_FIRST = frozenset({"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21", "gray"})


def _discontinuous(container: Any) -> bool:
    """True for formats whose clock may restart anywhere (MPEG-TS, PS, FLV)."""
    names = set((getattr(container.format, "name", "") or "").split(","))
    return bool(names & DISCONTINUOUS_FORMATS)


def _rate_of(stream: Any) -> Fraction | None:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return Fraction(rate)
    return None
