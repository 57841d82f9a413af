"""Annotated video out: H.264 MP4 (or MKV/MOV, or VP9 WebM) written with PyAV.

Every frame is written at its own time. Files: at the source's presentation time, in a
time base that holds both the ``1/fps`` frame step and the source's own tick, so a
constant-rate file comes out constant-rate with its exact rate, frame count and duration
(30000/1001 stays exact) and a variable-rate file keeps every frame where it was (VFR
phones, dropped frames). Live sources: at the capture time, so a 60 s session plays for
60 s however fast the pipeline ran and a reconnect gap shows as a held frame. The source's
audio is copied through packet by packet, interleaved as the video is written, so memory
stays constant; audio whose timestamps repeat or go back is re-timed from packet durations.
Non-square source pixels are declared in the output (H.264 VUI and MP4 ``pasp``), so players
show the source's display shape.

x264 runs at the configured preset (``ultrafast`` by default, for real-time 1080p on two
cores) with frame threads, live or not: the output is a file, so the few frames of encoder
delay cost nothing anyone sees (the window and web view show frames before encoding),
while ``tune=zerolatency`` would trade that for a bigger file and lower throughput.
"""

from __future__ import annotations

import errno
import math
import os
import threading
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from vidtrack.config import X264_PRESETS, OutputConfig
from vidtrack.errors import OutputError
from vidtrack.interrupts import deferred_interrupts

if TYPE_CHECKING:
    import av

    from vidtrack.frames import FrameResult, SourceInfo

#: Frame rate used when the source does not state one (image folders, some streams).
DEFAULT_FPS = Fraction(30)

#: Time base of live (timestamped) output: 1/90000 s is the MPEG clock, fine enough that
#: rounding capture times to it never reorders or merges frames.
LIVE_TIME_BASE = Fraction(1, 90000)

#: Finest file time base used: beyond it (a 1/1200000 s tick) frames go on the 1/90000 s clock.
MAX_TIME_BASE_DEN = 1 << 20


def file_time_base(fps: Fraction, tick: Fraction | None) -> Fraction:
    """The coarsest time base in which both ``1/fps`` and the source's ``tick`` are whole.

    1/30 and 1/1000 (a 30 fps MKV) give 1/3000; 1001/30000 and 1/30000 give 1/30000. Frames of
    a constant-rate source then fall on exact ticks, and so do a variable-rate source's own
    times. When that would need more than 2**20 ticks a second the 1/90000 s clock is used.
    """
    step = 1 / Fraction(fps)
    if tick is None or tick <= 0:
        return step
    for other in (Fraction(tick), LIVE_TIME_BASE):
        num = math.gcd(step.numerator * other.denominator, other.numerator * step.denominator)
        base = Fraction(num, step.denominator * other.denominator)
        if base.denominator <= MAX_TIME_BASE_DEN:
            return base
    return LIVE_TIME_BASE


# Audio codecs each container takes as they are (copied without re-encoding). Anything
# else is transcoded to the container's usual codec. MP4/MOV keep to what browsers play.
_AUDIO_COPY = {
    "mp4": {"aac", "mp3", "ac3", "eac3"},
    "mov": {"aac", "mp3", "ac3", "eac3", "alac"},
    "matroska": {"aac", "mp3", "ac3", "eac3", "opus", "vorbis", "flac", "pcm_s16le", "pcm_s24le"},
    "webm": {"opus", "vorbis"},
}
_AUDIO_TRANSCODE = {"mp4": "aac", "mov": "aac", "matroska": "aac", "webm": "libopus"}
_FORMATS = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska", ".webm": "webm"}


#: FFmpeg's codes (AVColorRange, AVColorPrimaries, AVColorTransferCharacteristic, AVColorSpace).
COLOUR_RANGE_TV = 1  # limited range, 16-235: what H.264 players expect
_BT709, _SMPTE170M = 1, 6


class OutputColour:
    """The colours an output is written in, and how they are tagged.

    HD (720 lines or more) is BT.709, SD is BT.601 (SMPTE 170M), as ITU-R BT.709/BT.601
    and every player's guess for untagged video assume; both limited range. The BGR picture
    is converted with that matrix and the stream says so (matrix, range, transfer and
    primaries in the H.264 VUI; the MP4 muxer copies them into the ``colr`` box), so VLC,
    QuickTime, mpv, browsers and TVs show the colours that were drawn.
    """

    def __init__(self, code: int, kr: float, kb: float) -> None:
        self.code = code  # the same code for primaries, transfer and matrix (1: BT.709, 6: SMPTE 170M)
        kg = 1 - kr - kb
        luma = np.array([kb, kg, kr])  # on B, G, R
        # Limited range (ITU-R BT.601/709): Y in 16-235, Cb/Cr in 16-240 around 128.
        self._matrix = np.array([
            [*(luma * 219 / 255), 16.0],
            [*((np.array([1.0, 0, 0]) - luma) * (224 / 255) / (2 * (1 - kb))), 128.0],
            [*((np.array([0, 0, 1.0]) - luma) * (224 / 255) / (2 * (1 - kr))), 128.0],
        ])

    @classmethod
    def for_height(cls, height: int) -> "OutputColour":
        """BT.709 (Kr 0.2126, Kb 0.0722) from 720 lines up, else BT.601 (Kr 0.299, Kb 0.114)."""
        return cls(_BT709, 0.2126, 0.0722) if height >= 720 else cls(_SMPTE170M, 0.299, 0.114)

    def to_i420(self, image: np.ndarray) -> np.ndarray:
        """A BGR uint8 image (even width and height) as planar YUV 4:2:0, ``(h * 3 // 2, w)`` uint8.

        One OpenCV matrix transform (rounded, saturated) and a 2x2 average of the chroma.
        """
        import cv2

        h, w = image.shape[:2]
        yuv = cv2.transform(image, self._matrix)
        u = cv2.resize(yuv[:, :, 1], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        v = cv2.resize(yuv[:, :, 2], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        return np.concatenate([yuv[:, :, 0].ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)

    def tag(self, target: Any) -> None:
        """Set the colour fields of a codec context or a frame."""
        target.color_range = COLOUR_RANGE_TV
        target.color_primaries = self.code
        target.color_trc = self.code
        target.colorspace = self.code


class VideoWriter:
    """Encode BGR frames to a browser-playable video file.

    ``write(image, pts, duration)`` takes one BGR ``uint8`` image, its time and how long it
    shows, in seconds; ``close()`` flushes the encoder, the rest of the audio and the trailer.
    Frames are placed at their pts relative to the first one, in :func:`file_time_base` of
    ``fps`` and the source's ``time_base`` (files) or on a 1/90000 s clock
    (``use_timestamps``: live). Without a pts a frame comes one frame (``1/fps``) after the
    previous one. Images of another size than the output (a file that changes resolution, a
    camera that reconnected at a new one) are scaled to fit with black bars, and a warning
    says so once. ``sample_aspect_ratio`` (pixel width/height) is written into the stream.
    Thread-safe: ``close()`` may come from another thread or a signal path while ``write()``
    runs. Raises :class:`OutputError` naming the cause when a frame cannot be written.

    ``warnings`` collects what the user should hear about (audio dropped, re-timed or
    transcoded, frames resized).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        width: int,
        height: int,
        fps: Fraction | None,
        *,
        crf: int = OutputConfig.crf,  # x264 quality: lower is better and bigger; +6 roughly halves the size
        preset: str = OutputConfig.preset,  # x264 speed/size: faster presets cost size, slower ones CPU
        audio_source: str | os.PathLike[str] | None = None,
        use_timestamps: bool = False,
        threads: int = 0,  # encoder threads; 0 lets the encoder pick from the core count
        time_base: Fraction | None = None,  # the source's timestamp tick (files), for exact placement
        sample_aspect_ratio: Fraction | None = None,  # source pixel width/height, kept for players
        audio_start: float = 0.0,  # source time (s) of the first frame: audio before it is cut
    ) -> None:
        import av

        self.path = Path(path)
        self.format = _FORMATS.get(self.path.suffix.lower())
        if self.format is None:
            raise OutputError(f"output {self.path} has an unsupported extension", "use .mp4, .mkv, .webm or .mov")
        if preset not in X264_PRESETS:
            raise OutputError(f"x264 preset {preset!r} is unknown", f"use one of {', '.join(X264_PRESETS)}")
        if width < 2 or height < 2:
            raise OutputError(f"cannot encode a {width}x{height} video", "the source must be at least 2x2 pixels")
        self.fps = Fraction(fps) if fps else DEFAULT_FPS
        self.use_timestamps = use_timestamps
        self.warnings: list[str] = []
        # yuv420p needs even sizes: drop the odd last row/column rather than scale.
        self.source_size = (width, height)
        self.width, self.height = width - width % 2, height - height % 2
        self.frames_written = 0
        self._lock = threading.Lock()
        self._closed = False
        self._first_pts: float | None = None
        self._last_ticks = -1
        self._resized_from: tuple[int, int] | None = None
        self.sample_aspect_ratio = Fraction(sample_aspect_ratio) if sample_aspect_ratio else None
        self._source_tick = Fraction(time_base) if time_base else None
        self._end_ticks = 0  # where the video ends, in stream ticks (pts + duration of the last frame)
        self._audio: _AudioTrack | None = None
        self._failed: OutputError | None = None  # a write failed (disk full): close() cuts, never rewrites

        from vidtrack.sinks.base import check_writable

        # PyAV creates the file only when the first packet is written: check now, so a bad
        # path fails before any work is done.
        check_writable(self.path)
        # MP4/MOV are written fragmented (a self-contained piece at least every second), so
        # whatever is on disk plays if the run dies or the disk fills; close() rewrites the
        # file with its index up front (faststart) when the disk has room for the copy.
        container_options = {"movflags": FRAGMENTED, "frag_duration": "1000000"} if self.format in ("mp4", "mov") else {}
        try:
            self._container = av.open(str(self.path), "w", format=self.format, options=container_options)
        except (OSError, av.FFmpegError) as exc:
            raise OutputError(f"cannot create {self.path} ({exc})", "choose another output path") from None
        try:
            self._stream = self._add_video_stream(crf, preset, threads)
            if audio_source is not None:
                self._audio = _AudioTrack.open(
                    Path(audio_source), self._container, self.format, self.warnings, audio_start
                )
        except BaseException:
            self._container.close()
            _unlink_quietly(self.path)
            raise
        self._time_base = self._stream.codec_context.time_base

    def _add_video_stream(self, crf: int, preset: str, threads: int) -> "av.VideoStream":
        if self.format == "webm":
            # VP9 in real-time mode: the only setting where libvpx keeps up with 1080p on
            # two cores. crf maps 0-51 (x264) onto 0-63 (vpx) so --crf means the same thing.
            stream = self._container.add_stream("libvpx-vp9", rate=self.fps)
            stream.codec_context.bit_rate = 0
            stream.codec_context.options = {
                "crf": str(round(self._crf_x264(crf) * 63 / 51)),
                "deadline": "realtime",
                "cpu-used": "8",  # fastest; lower is smaller and slower
                "row-mt": "1",
                "tile-columns": "2",
                "lag-in-frames": "0",
            }
        else:
            stream = self._container.add_stream("libx264", rate=self.fps)
            stream.codec_context.options = {"crf": str(self._crf_x264(crf)), "preset": preset}
        stream.width, stream.height = self.width, self.height
        stream.pix_fmt = "yuv420p"
        self._colour = OutputColour.for_height(self.height)
        self._colour.tag(stream.codec_context)  # H.264 VUI and the MP4 'colr' box
        stream.codec_context.thread_count = threads
        base = LIVE_TIME_BASE if self.use_timestamps else file_time_base(self.fps, self._source_tick)
        stream.codec_context.time_base = base
        stream.time_base = base
        if self.sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = self.sample_aspect_ratio
        return stream

    @staticmethod
    def _crf_x264(crf: int) -> int:
        return max(0, min(51, int(crf)))

    def write(self, image: np.ndarray, pts: float | None = None, duration: float | None = None) -> None:
        """Encode one BGR image shown at ``pts`` seconds for ``duration`` seconds (None: 1/fps)."""
        import av

        with self._lock:
            if self._closed:
                raise OutputError(f"{self.path} is already closed", "open a new VideoWriter")
            picture = self._colour.to_i420(self._fit(image))
            # From "frame handed to the encoder" to "frame counted" is one step for Ctrl-C and
            # SIGTERM: the file that close() finishes then holds exactly frames_written frames.
            with deferred_interrupts():
                ticks, length = self._next_ticks(pts, duration)
                frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
                self._colour.tag(frame)
                frame.pts = ticks
                frame.time_base = self._time_base
                frame.duration = length
                try:
                    for packet in self._stream.encode(frame):
                        self._container.mux(packet)
                except (OSError, av.FFmpegError) as exc:
                    self._failed = _write_error(self.path, "video", exc)
                    raise self._failed from None
                self.frames_written += 1
                self._end_ticks = ticks + length
            if self.frames_written % DISK_CHECK_FRAMES == 0 and _disk_full(self.path):
                # FFmpeg's writer can drop a failed write silently: ask the disk itself
                self._failed = _write_error(self.path, "video", OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))
                raise self._failed
            if self._audio is not None:
                # Keep the audio just ahead of the video so the muxer can interleave.
                if not self._audio.feed_until(float(self._end_ticks * self._time_base)):
                    self._audio = None

    def _next_ticks(self, pts: float | None, duration: float | None = None) -> tuple[int, int]:
        """The frame's pts and duration in stream ticks; strictly increasing."""
        nominal = max(1, round(1 / (self.fps * self._time_base)))
        if pts is None:
            ticks = max(self._last_ticks + nominal, 0)
        else:
            if self._first_pts is None:
                self._first_pts = pts
            ticks = round((pts - self._first_pts) / self._time_base)
            if ticks <= self._last_ticks:  # a clock that stood still or stepped back
                ticks = self._last_ticks + 1
        length = max(1, round(duration / self._time_base)) if duration else nominal
        self._last_ticks = ticks
        return ticks, length

    def _fit(self, image: np.ndarray) -> np.ndarray:
        """``image`` as a contiguous BGR array of exactly the output size."""
        import cv2

        if image.ndim == 2:
            image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
        h, w = image.shape[:2]
        if (w, h) == self.source_size:
            image = image[: self.height, : self.width]
        elif (w, h) != (self.width, self.height):
            if self._resized_from is None:
                self._resized_from = (w, h)
                self.warnings.append(
                    f"{self.path.name}: frames of {w}x{h} after the first {self.frames_written} were scaled to fit "
                    f"the video's {self.width}x{self.height} with black bars (detections and data are in each "
                    "frame's own size)"
                )
            image = _letterbox(image, self.width, self.height)
        if image.dtype != np.uint8:
            image = np.clip(image, 0, 255).astype(np.uint8)
        return np.ascontiguousarray(image)

    @property
    def duration(self) -> float:
        """Seconds of video written so far."""
        return float(self._end_ticks * self._time_base)

    def close(self) -> None:
        """Flush the encoder and the rest of the audio, write the trailer. Idempotent.

        Safe to call from a ``finally`` after KeyboardInterrupt: the container is closed
        (trailer written, so the file plays up to the last frame) even if flushing is
        interrupted. A writer that received no frame removes its empty file.
        """
        import av

        with self._lock:
            if self._closed:
                return
            self._closed = True
            failure: OutputError | None = self._failed
            try:
                if self.frames_written:
                    for packet in self._stream.encode(None):
                        self._container.mux(packet)
                    if self._audio is not None:
                        self._audio.finish(float(self._end_ticks * self._time_base))
            except (OSError, av.FFmpegError) as exc:
                failure = _write_error(self.path, "video", exc)
            finally:
                try:
                    if self._audio is not None:
                        self._audio.close()
                finally:
                    try:
                        self._container.close()
                    except (OSError, av.FFmpegError) as exc:  # the trailer did not fit
                        failure = failure or _write_error(self.path, "video", exc)
                    if not self.frames_written:
                        _unlink_quietly(self.path)
            if self.frames_written and self.format in ("mp4", "mov"):
                # what is on disk plays to its last whole fragment (at most a second is lost)
                if cut_to_whole_fragments(self.path) and failure is None:
                    reason = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) if _disk_full(self.path) else OSError(
                        errno.EIO, "the file on disk is shorter than what was written"
                    )
                    failure = _write_error(self.path, "video", reason)
                if failure is None:
                    self._finalise()
            if failure is not None:
                raise failure

    def _finalise(self) -> None:
        """Rewrite the fragmented file with its index up front (faststart), if the disk has room.

        The copy goes to a temporary file beside it and replaces it only when complete; with
        too little room, or if the copy fails, the fragmented file stays (it plays too) and
        :attr:`warnings` says so.
        """
        import shutil

        size = self.path.stat().st_size
        try:
            free = shutil.disk_usage(self.path.parent).free
        except OSError:
            free = 0
        if free < size * 1.1 + (1 << 20):
            self.warnings.append(
                f"{self.path.name}: kept as a fragmented MP4 ({size} bytes; the disk had {free} bytes free, too few "
                "to rewrite it with its index at the start); it plays in players and browsers as it is"
            )
            return
        temp = self.path.with_name(f".{self.path.name}.faststart{self.path.suffix}")
        try:
            _remux(self.path, temp, self.format or "mp4")
            os.replace(temp, self.path)
        except (OSError, Exception) as exc:  # noqa: BLE001 - any failure keeps the playable original
            _unlink_quietly(temp)
            self.warnings.append(
                f"{self.path.name}: kept as a fragmented MP4 (rewriting it with its index at the start failed: "
                f"{getattr(exc, 'strerror', None) or exc}); it plays as it is"
            )

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class VideoSink:
    """The sink view of a :class:`VideoWriter`: writes each result's annotated image.

    The writer is created on the first frame, at that frame's size: a live source may not
    know its size until it connects. Until then nothing is on disk.

    Live (timestamped) output ends when the session ends, not at the last frame: on close
    the last picture is held for as long as no frame has come since it was written (an
    outage that lasted until Ctrl-C shows as a held picture, as outages in the middle do),
    so the file plays for the session's length.
    """

    def __init__(self, open_writer: Callable[[int, int], VideoWriter]) -> None:
        self._open_writer = open_writer
        self.writer: VideoWriter | None = None
        self._warnings: list[str] = []
        self._last: tuple[np.ndarray, float, float] | None = None  # image, pts, when written (monotonic s)

    @property
    def warnings(self) -> list[str]:
        """The writer's warnings (audio dropped, frames resized...); empty before the first frame."""
        return self.writer.warnings if self.writer is not None else self._warnings

    def write(self, result: "FrameResult") -> None:
        """Encode the annotated picture (the frame's own when nothing was drawn) at the frame's pts and duration.

        The first frame opens the writer at that picture's size (pixels); frames of another
        size are scaled to fit (:class:`VideoWriter`).

        Raises:
            OutputError: the file cannot be created or the frame cannot be written.
        """
        image = result.annotated if result.annotated is not None else result.frame.image
        if self.writer is None:
            self.writer = self._open_writer(image.shape[1], image.shape[0])
        self.writer.write(image, result.frame.pts, result.frame.duration)
        if self.writer.use_timestamps:
            import time

            self._last = (image, result.frame.pts, time.monotonic())

    def close(self) -> None:
        """Finish the file (:meth:`VideoWriter.close`); nothing when no frame came. Idempotent.

        Live output first holds the last picture for the time since it was written, when that
        is more than 1.5 frame intervals (an outage up to the close), so the file lasts the session.

        Raises:
            OutputError: flushing or finalising the file failed (disk full...).
        """
        if self.writer is None:
            return
        if self._last is not None:
            import time

            # Held for as long as no frame came before the close: an outage, not the
            # pipeline's latency (a stream that ended closes right after its last frame).
            image, pts, written = self._last
            held = time.monotonic() - written
            if held > 1.5 / float(self.writer.fps):  # more than a frame interval without a new picture
                try:
                    self.writer.write(image, pts + held)
                except Exception:  # the file must still be finalised
                    pass
        self.writer.close()


def open_video_sink(path: str | os.PathLike[str], info: "SourceInfo", config: "OutputConfig") -> VideoSink:
    """A video sink set up for ``info``: its exact fps, audio, and live timing; sized by its first frame."""
    from vidtrack.sinks.base import check_writable

    check_writable(Path(path))  # fail now, not at the first frame

    def open_writer(width: int, height: int) -> VideoWriter:
        return VideoWriter(
            path,
            width,
            height,
            info.fps,
            crf=config.crf,
            preset=config.preset,
            audio_source=None if info.is_live else info.media_path,
            use_timestamps=info.is_live,
            time_base=info.time_base,
            sample_aspect_ratio=info.sample_aspect_ratio,
            audio_start=info.start_time,
        )

    return VideoSink(open_writer)


def _letterbox(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` to fit ``width`` x ``height`` keeping its aspect, bars in black."""
    import cv2

    h, w = image.shape[:2]
    scale = min(width / w, height / h)
    new_w, new_h = max(1, round(w * scale)), max(1, round(h * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, (new_w, new_h), interpolation=interpolation)
    if (new_w, new_h) == (width, height):
        return resized
    out = np.zeros((height, width, 3), dtype=np.uint8)
    x, y = (width - new_w) // 2, (height - new_h) // 2
    out[y : y + new_h, x : x + new_w] = resized
    return out


#: MP4 flags while recording: a new fragment at each keyframe (and each second, see
#: ``frag_duration``), an index-less header, fragments that stand alone. A file cut anywhere
#: plays up to its last whole fragment.
FRAGMENTED = "+frag_keyframe+empty_moov+delay_moov+default_base_moof"


def _remux(source: Path, target: Path, fmt: str) -> None:
    """Copy every stream of ``source`` into ``target`` with the index up front (``+faststart``)."""
    import av

    with av.open(str(source)) as src, av.open(str(target), "w", format=fmt, options={"movflags": "+faststart"}) as dst:
        mapping = {}
        for stream in src.streams:
            if stream.type not in ("video", "audio"):
                continue
            out = dst.add_stream_from_template(stream)
            out.time_base = stream.time_base
            mapping[stream.index] = out
        for packet in src.demux(*[src.streams[i] for i in mapping]):
            if packet.dts is None and packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            packet.stream = mapping[packet.stream_index]
            dst.mux(packet)


#: Frames between two looks at the output disk's free space (one statvfs call).
DISK_CHECK_FRAMES = 30
#: Free bytes below which the output disk counts as full.
DISK_FULL_BYTES = 64 * 1024


def _disk_full(path: Path) -> bool:
    """True when the disk holding ``path`` has (almost) no free space left."""
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < DISK_FULL_BYTES
    except OSError:
        return False


def cut_to_whole_fragments(path: Path) -> bool:
    """Cut a fragmented MP4 back to its last complete top-level box (no half fragment at the end).

    Walks the top-level boxes (32-bit size + type, or a 64-bit size); a box that runs past
    the end of the file, and a ``moof`` without its ``mdat``, are cut off. Returns True when
    something was cut. Errors are ignored: this runs while the disk is failing, and cutting
    frees space rather than needing it.
    """
    import struct

    try:
        with open(path, "r+b") as f:
            total = os.fstat(f.fileno()).st_size
            pos = good = 0
            last_type = b""
            while pos + 8 <= total:
                f.seek(pos)
                size, kind = struct.unpack(">I4s", f.read(8))
                if size == 1:
                    size = struct.unpack(">Q", f.read(8))[0]
                if size < 8 or pos + size > total:
                    break
                pos += size
                last_type = kind
                if kind != b"moof":
                    good = pos
            if last_type == b"moof" or good < total:
                f.truncate(good)
                return True
    except OSError:
        pass
    return False


#: errno values that mean the disk or the file system, not the data, is the problem.
_DISK_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EIO, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM}


def _is_disk_error(exc: BaseException) -> bool:
    return getattr(exc, "errno", None) in _DISK_ERRNOS


def _write_error(path: Path, what: str, exc: BaseException) -> OutputError:
    """A one-line error that names the real cause: the disk, or what FFmpeg refused."""
    reason = getattr(exc, "strerror", None) or str(exc)
    if _is_disk_error(exc):
        return OutputError(f"writing {path} failed ({reason})", "check free disk space and that the folder is writable")
    return OutputError(
        f"writing the {what} of {path} failed: FFmpeg refused it ({reason})",
        "re-encode the input (e.g. ffmpeg -i IN -c:v libx264 -c:a aac OUT.mp4) and run again",
    )


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


#: A clip starting this many seconds into its source has its audio demuxer seek (to
#: :data:`AUDIO_SEEK_MARGIN_S` before it) instead of reading the file from the start.
AUDIO_SEEK_AFTER_S = 10.0
AUDIO_SEEK_MARGIN_S = 2.0


class _AudioTrack:
    """The source's audio, read by a second demuxer and muxed alongside the video.

    Packets are copied as they are when the container takes the codec; otherwise they
    are decoded and re-encoded (e.g. AAC to Opus for WebM). Source time is shifted so
    that the source's first video frame is output time zero.

    Timestamps that repeat or go back (a stream copied into AVI, a cut file) are rebuilt:
    such a packet starts where the previous one ended (its pts plus its duration), and a
    warning counts them. When the muxer still refuses a packet, the audio stops there with
    a warning naming FFmpeg's reason; the video goes on.
    """

    def __init__(
        self,
        source: "av.container.InputContainer",
        in_stream: "av.AudioStream",
        out_stream: "av.AudioStream",
        copy: bool,
        offset: float,
        warnings: list[str],
    ) -> None:
        self._source = source
        self._in = in_stream
        self._out = out_stream
        self._copy = copy
        self._offset = offset
        self._warnings = warnings
        self._packets = source.demux(in_stream)
        self._pending: Any = None  # a packet read ahead of the current video time
        self._done = False
        self._next_pts: int | None = None  # where the previous packet ended, in its ticks
        from vidtrack.sources.timeline import DISCONTINUOUS_FORMATS, MAX_GAP

        names = set((source.format.name or "").split(","))
        self._max_gap = MAX_GAP if names & DISCONTINUOUS_FORMATS else None  # as the video's timeline does
        self.retimed = 0  # packets whose timestamps were rebuilt
        self._bsf: Any = None  # ADTS AAC (AVI, TS) -> MP4's form, needed before a fragmented MP4's header
        if copy and in_stream.codec_context.name == "aac" and out_stream.container.format.name in ("mp4", "mov"):
            from av.bitstream import BitStreamFilterContext

            self._bsf = BitStreamFilterContext("aac_adtstoasc", in_stream, out_stream)
            out_stream.codec_tag = "mp4a"  # AVI's AAC tag (0xFF), copied by the filter, means nothing in MP4

    @classmethod
    def open(
        cls,
        path: Path,
        container: "av.container.OutputContainer",
        fmt: str,
        warnings: list[str],
        start: float | None = None,  # source time (s) of the first video frame; None: the video stream's start
    ) -> "_AudioTrack | None":
        """Add an audio stream to ``container`` for ``path``'s first audio track, if any."""
        import av

        try:
            source = av.open(str(path))
        except (OSError, av.FFmpegError) as exc:
            warnings.append(f"audio not copied: cannot open {path} ({exc})")
            return None
        if not source.streams.audio:
            source.close()
            return None
        in_stream = source.streams.audio[0]
        codec = in_stream.codec_context.name
        offset = 0.0
        if start is not None:
            offset = start
            if start > AUDIO_SEEK_AFTER_S:  # a clip late in a long file: do not demux all that comes before
                try:
                    source.seek(int((start - AUDIO_SEEK_MARGIN_S) / in_stream.time_base), stream=in_stream, backward=True)
                except (av.FFmpegError, OSError, ValueError):  # not seekable: read from the start, as before
                    source.close()
                    source = av.open(str(path))
                    in_stream = source.streams.audio[0]
        elif source.streams.video:
            video = source.streams.video[0]
            if video.start_time is not None and video.time_base is not None:
                offset = float(video.start_time * video.time_base)
        try:
            if codec in _AUDIO_COPY[fmt]:
                out_stream = container.add_stream_from_template(in_stream)
                return cls(source, in_stream, out_stream, True, offset, warnings)
            target = _AUDIO_TRANSCODE[fmt]
            rate = 48000 if target == "libopus" else in_stream.codec_context.sample_rate or 48000
            out_stream = container.add_stream(target, rate=rate)
            out_stream.layout = "stereo" if in_stream.codec_context.channels > 1 else "mono"
            warnings.append(f"audio re-encoded from {codec} to {target.removeprefix('lib')}: {fmt} cannot hold {codec}")
            return cls(source, in_stream, out_stream, False, offset, warnings)
        except (ValueError, av.FFmpegError) as exc:
            source.close()
            warnings.append(f"audio not copied: {codec} audio cannot go into {fmt} ({exc})")
            return None

    def feed_until(self, end: float) -> bool:
        """Mux the audio that starts before ``end`` seconds of output time.

        Returns False when the audio had to stop (a warning says why); the caller then
        drops this track. Disk errors raise :class:`OutputError`.
        """
        import av

        try:
            self._feed(end)
        except (OSError, av.FFmpegError) as exc:
            if _is_disk_error(exc):
                raise _write_error(Path(self._out.container.name), "audio", exc) from None
            self._warnings.append(
                f"audio stopped at {end:.2f} s: FFmpeg refused an audio packet "
                f"({getattr(exc, 'strerror', None) or exc}); the video is complete"
            )
            self._done = True
            return False
        return True

    def _feed(self, end: float) -> None:
        import av

        while not self._done:
            packet = self._pending
            self._pending = None
            if packet is None:
                try:
                    packet = next(self._packets)
                except StopIteration:
                    self._end_of_audio()
                    return
                except av.FFmpegError as exc:
                    self._warnings.append(f"audio stopped early: {exc}")
                    self._end_of_audio()
                    return
                if packet.size == 0:
                    continue  # the demuxer's end-of-stream marker
                if not self._retime(packet):
                    continue  # no timing to place it by
            start = float(packet.pts * packet.time_base) - self._offset
            if start >= end:
                self._pending = packet
                return
            if start < 0:
                continue  # audio from before the first video frame
            self._mux(packet)

    def _retime(self, packet: "av.Packet") -> bool:
        """Make the packet start no earlier than the previous one ended; False if it can't be placed."""
        pts = packet.pts
        restarted = (
            self._max_gap is not None
            and pts is not None
            and self._next_pts is not None
            and (pts - self._next_pts) * packet.time_base > self._max_gap
        )
        if pts is None or restarted or (self._next_pts is not None and pts < self._next_pts):
            if self._next_pts is None:
                return False
            self.retimed += 1
            packet.pts = self._next_pts
            packet.dts = self._next_pts
        elif packet.dts is None or packet.dts > packet.pts:
            packet.dts = packet.pts
        duration = packet.duration
        if not duration:
            frame_size = self._in.codec_context.frame_size or 1024
            rate = self._in.codec_context.sample_rate or 48000
            duration = max(1, round(Fraction(frame_size, rate) / packet.time_base))
        self._next_pts = packet.pts + duration
        return True

    def _mux(self, packet: "av.Packet") -> None:
        shift = round(self._offset / packet.time_base)
        if self._copy:
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self._out
            if self._bsf is not None:
                for fixed in self._bsf.filter(packet):
                    fixed.stream = self._out
                    self._out.container.mux(fixed)
                return
            self._out.container.mux(packet)
            return
        for frame in self._in.codec_context.decode(packet):
            if frame.pts is not None:
                frame.pts -= round(self._offset / frame.time_base)
            for out_packet in self._out.encode(frame):
                self._out.container.mux(out_packet)

    def _end_of_audio(self) -> None:
        self._done = True

    def finish(self, end: float) -> None:
        """Mux the audio up to the end of the video and flush the audio encoder."""
        import av

        ok = self.feed_until(end)
        self._done = True
        if ok and not self._copy:
            try:
                for out_packet in self._out.encode(None):
                    self._out.container.mux(out_packet)
            except av.FFmpegError as exc:
                self._warnings.append(f"audio end not written: FFmpeg refused it ({exc})")
        if self.retimed:
            self._warnings.append(
                f"audio: {self.retimed} packets had repeated, backward or restarted timestamps; "
                "they were placed one after another by their durations"
            )

    def close(self) -> None:
        self._source.close()
