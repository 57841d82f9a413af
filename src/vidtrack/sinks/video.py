"""Annotated video out: H.264 MP4 (or MKV/MOV, or VP9 WebM) written with PyAV.

Files keep the source's exact frame rate and frame count (constant frame rate, one tick
of ``1/fps`` per frame, so 30000/1001 stays exact). Live sources write each frame at its
capture time instead (variable frame rate), so a 60 s session plays for 60 s however fast
the pipeline ran and a reconnect gap shows as a held frame. The source's audio is copied
through packet by packet, interleaved as the video is written, so memory stays constant.

x264 runs at the configured preset (``ultrafast`` by default, for real-time 1080p on two
cores) with frame threads, live or not: the output is a file, so the few frames of encoder
delay cost nothing anyone sees (the window and web view show frames before encoding),
while ``tune=zerolatency`` would trade that for a bigger file and lower throughput.
"""

from __future__ import annotations

import os
import threading
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from vidtrack.config import X264_PRESETS, OutputConfig
from vidtrack.errors import OutputError

if TYPE_CHECKING:
    import av

    from vidtrack.frames import FrameResult, SourceInfo

#: Frame rate used when the source does not state one (image folders, some streams).
DEFAULT_FPS = Fraction(30)

#: Time base of live (timestamped) output: 1/90000 s is the MPEG clock, fine enough that
#: rounding capture times to it never reorders or merges frames.
LIVE_TIME_BASE = Fraction(1, 90000)


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


class VideoWriter:
    """Encode BGR frames to a browser-playable video file.

    ``write(image, pts)`` takes one BGR ``uint8`` image and its time in seconds; ``close()``
    flushes the encoder, the rest of the audio and the trailer. Without ``use_timestamps``
    the pts is ignored and frame *n* is shown at ``n / fps`` (files). With it, frames are
    placed at their pts relative to the first one (live). Images of another size than the
    output (a camera that reconnected at a new resolution) are scaled to fit. Thread-safe:
    ``close()`` may come from another thread or a signal path while ``write()`` runs.

    ``warnings`` collects what the user should hear about (audio dropped or transcoded).
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
        self._end_ticks = 0  # where the video ends, in stream ticks (pts + duration of the last frame)
        self._audio: _AudioTrack | None = None

        from vidtrack.sinks import check_writable

        # PyAV creates the file only when the first packet is written: check now, so a bad
        # path fails before any work is done.
        check_writable(self.path)
        container_options = {"movflags": "+faststart"} if self.format in ("mp4", "mov") else {}
        try:
            self._container = av.open(str(self.path), "w", format=self.format, options=container_options)
        except (OSError, av.FFmpegError) as exc:
            raise OutputError(f"cannot create {self.path} ({exc})", "choose another output path") from None
        try:
            self._stream = self._add_video_stream(crf, preset, threads)
            if audio_source is not None:
                self._audio = _AudioTrack.open(Path(audio_source), self._container, self.format, self.warnings)
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
        stream.codec_context.thread_count = threads
        if self.use_timestamps:
            stream.codec_context.time_base = LIVE_TIME_BASE
            stream.time_base = LIVE_TIME_BASE
        else:
            stream.codec_context.time_base = 1 / self.fps
            stream.time_base = 1 / self.fps
        return stream

    @staticmethod
    def _crf_x264(crf: int) -> int:
        return max(0, min(51, int(crf)))

    def write(self, image: np.ndarray, pts: float | None = None) -> None:
        """Encode one BGR image shown at ``pts`` seconds (used only with ``use_timestamps``)."""
        import av
        import cv2

        with self._lock:
            if self._closed:
                raise OutputError(f"{self.path} is already closed", "open a new VideoWriter")
            ticks, duration = self._next_ticks(pts)
            yuv = cv2.cvtColor(self._fit(image), cv2.COLOR_BGR2YUV_I420)
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts = ticks
            frame.time_base = self._time_base
            frame.duration = duration
            try:
                for packet in self._stream.encode(frame):
                    self._container.mux(packet)
                self.frames_written += 1
                self._end_ticks = ticks + duration
                if self._audio is not None:
                    # Keep the audio just ahead of the video so the muxer can interleave.
                    self._audio.feed_until(float(self._end_ticks * self._time_base))
            except (OSError, av.FFmpegError) as exc:
                raise OutputError(
                    f"writing {self.path} failed ({exc})", "check free disk space and that the folder is writable"
                ) from None

    def _next_ticks(self, pts: float | None) -> tuple[int, int]:
        """The frame's pts and duration in stream ticks; strictly increasing."""
        nominal = max(1, round(1 / (self.fps * self._time_base)))
        if not self.use_timestamps or pts is None:
            ticks = self._last_ticks + (nominal if self.use_timestamps else 1)
            ticks = max(ticks, 0)
        else:
            if self._first_pts is None:
                self._first_pts = pts
            ticks = round((pts - self._first_pts) / self._time_base)
            if ticks <= self._last_ticks:  # a clock that stood still or stepped back
                ticks = self._last_ticks + 1
        self._last_ticks = ticks
        return ticks, nominal if self.use_timestamps else 1

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
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                if self.frames_written:
                    for packet in self._stream.encode(None):
                        self._container.mux(packet)
                    if self._audio is not None:
                        self._audio.finish(float(self._end_ticks * self._time_base))
            finally:
                try:
                    if self._audio is not None:
                        self._audio.close()
                finally:
                    self._container.close()
                    if not self.frames_written:
                        _unlink_quietly(self.path)

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
        return self.writer.warnings if self.writer is not None else self._warnings

    def write(self, result: "FrameResult") -> None:
        image = result.annotated if result.annotated is not None else result.frame.image
        if self.writer is None:
            self.writer = self._open_writer(image.shape[1], image.shape[0])
        self.writer.write(image, result.frame.pts)
        if self.writer.use_timestamps:
            import time

            self._last = (image, result.frame.pts, time.monotonic())

    def close(self) -> None:
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
    from vidtrack.sinks import check_writable

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


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


class _AudioTrack:
    """The source's audio, read by a second demuxer and muxed alongside the video.

    Packets are copied as they are when the container takes the codec; otherwise they
    are decoded and re-encoded (e.g. AAC to Opus for WebM). Source time is shifted so
    that the source's first video frame is output time zero.
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

    @classmethod
    def open(
        cls, path: Path, container: "av.container.OutputContainer", fmt: str, warnings: list[str]
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
        if source.streams.video:
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

    def feed_until(self, end: float) -> None:
        """Mux the audio that starts before ``end`` seconds of output time."""
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
                if packet.pts is None or packet.size == 0:
                    continue  # the demuxer's end-of-stream marker, or no timing to place it by
            start = float(packet.pts * packet.time_base) - self._offset
            if start >= end:
                self._pending = packet
                return
            if start < 0:
                continue  # audio from before the first video frame
            self._mux(packet)

    def _mux(self, packet: "av.Packet") -> None:
        shift = round(self._offset / packet.time_base)
        if self._copy:
            packet.pts -= shift
            if packet.dts is not None:
                packet.dts -= shift
            packet.stream = self._out
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
        self.feed_until(end)
        self._done = True
        if not self._copy:
            for out_packet in self._out.encode(None):
                self._out.container.mux(out_packet)

    def close(self) -> None:
        self._source.close()
