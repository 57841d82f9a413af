"""The source contract and the dispatch from what the user typed to a reader."""

from __future__ import annotations

import enum
import glob
import re
import sys
import time
import stat
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit
from typing import Iterator, Protocol, Sequence

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError, path_error, short_path
from vidtrack.frames import Frame, SourceInfo
from vidtrack.paths import check_readable, stat_mode

LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: The printf-style number of an ffmpeg/OpenCV image sequence pattern: ``%d``, ``%04d``.
_SEQUENCE_NUMBER = re.compile(r"%(0?\d*)d")


def sequence_files(spec: str) -> list[Path] | None:
    """The files an ffmpeg/OpenCV sequence pattern names (``img_%04d.png``), in number order.

    ``%04d`` matches exactly four digits (as ffmpeg's image2 demuxer reads it), ``%d`` any
    number of digits. Returns None when ``spec`` is not such a pattern (no ``%d`` in its
    file name), else the matching files (possibly none).
    """
    path = Path(spec).expanduser()
    name = path.name
    found = _SEQUENCE_NUMBER.search(name)
    if found is None or "%" in name[found.end() :] or "%" in name[: found.start()]:
        return None
    width = found.group(1)
    digits = rf"\d{{{int(width)}}}" if width.startswith("0") and len(width) > 1 else r"\d+"
    rule = re.compile(re.escape(name[: found.start()]) + f"({digits})" + re.escape(name[found.end() :]) + r"\Z")
    folder = path.parent
    try:
        entries = list(folder.iterdir())
    except OSError:
        return []
    matched = [(int(m.group(1)), p) for p in entries if (m := rule.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(matched)]


class SourceState(enum.Enum):
    """Where a source stands; the one vocabulary for pipeline, overlay, viewers and summary.

    Files and image folders go CONNECTED -> ENDED. Live sources start CONNECTING, are
    CONNECTED while new pictures arrive, STALLED once ``--stall-timeout`` seconds pass with
    no new picture (nothing received, or a frozen camera repeating one image), RECONNECTING
    during each reopen attempt, and ENDED when stopped, finished (an HLS playlist with
    ``#EXT-X-ENDLIST``) or given up (then the source's ``error`` says why).
    """

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    STALLED = "stalled"
    ENDED = "ended"


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A :class:`SourceState` plus the reconnect attempt it belongs to.

    ``attempt`` counts reopen attempts since the stream last made progress (0 while
    connected or before the first failure). ``str()`` is the label shown to people
    (``"reconnecting 3"``, ``"stalled"``); code compares ``state``, never the label.
    """

    state: SourceState
    attempt: int = 0

    def __str__(self) -> str:
        if self.state is SourceState.RECONNECTING and self.attempt:
            return f"{self.state.value} {self.attempt}"
        return self.state.value

    @property
    def ok(self) -> bool:
        """True while pictures flow normally (CONNECTED)."""
        return self.state is SourceState.CONNECTED


class Source(Protocol):
    """Yields frames in order until the source ends or ``stop()`` is called."""

    info: SourceInfo
    #: Times the stream was lost and reopened (live sources; always 0 for files and images).
    #: The pipeline ends the lane's tracks when it changes: the picture had a gap.
    reconnects: int
    #: ``(frame index, seconds, width, height)`` where the picture changed size (files).
    size_changes: Sequence[tuple[int, float, int, int]]
    #: Why the source ended on its own before it was stopped (a live stream given up after
    #: ``--max-retries``); None otherwise. The runner reports it to the user.
    error: SourceError | None

    @property
    def truncated(self) -> bool:
        """True when the source ended before the frame count its header promised (files only)."""

    def frames(self) -> Iterator[Frame]: ...

    def stop(self) -> None:
        """Ask ``frames()`` to end soon; safe to call from any thread or a signal handler."""

    def close(self) -> None:
        """Release the device/file/connection. Idempotent."""

    @property
    def status(self) -> SourceStatus:
        """Current :class:`SourceStatus` (state and reconnect attempt); cheap, any thread."""


class SourceKind(enum.Enum):
    VIDEO_FILE = "video file"
    IMAGES = "images"
    WEBCAM = "webcam"
    STREAM = "stream"


def classify(spec: str) -> SourceKind:
    """Decide what kind of source ``spec`` names, or raise a one-line SourceError."""
    spec = spec.strip()
    if not spec:
        raise SourceError("empty source", "give a video file, image folder, webcam index or stream URL")
    if spec.isdigit() or spec.startswith("/dev/video"):
        return SourceKind.WEBCAM
    match = _SCHEME.match(spec)
    if match:
        scheme = match.group(1).lower()
        if scheme in LIVE_SCHEMES:
            _check_url(spec)
            return SourceKind.STREAM
        if scheme == "file":
            return classify(spec[len("file://") :])
        raise SourceError(
            f"unknown URL scheme {scheme!r} in {spec}",
            "use rtsp://, http(s)://, udp://, tcp://, a webcam index or a file path",
        )
    path = Path(spec).expanduser()
    try:
        mode = stat_mode(path)
    except OSError as exc:
        raise path_error(SourceError, "read source", spec, exc) from None
    if mode is None:
        sequence = sequence_files(spec)
        if sequence is not None:
            if not sequence:
                raise SourceError(
                    f"no files match the sequence pattern {short_path(spec)}",
                    "check the folder and the number width (%04d = exactly 4 digits, %d = any)",
                )
            return SourceKind.IMAGES
        if any(ch in spec for ch in "*?["):
            if not glob.glob(spec):
                raise SourceError(f"no files match {short_path(spec)}", "check the pattern, e.g. 'frames/*.jpg'")
            return SourceKind.IMAGES
        raise SourceError(f"no such file: {short_path(spec)}", "check the path, or give a webcam index or stream URL")
    if stat.S_ISDIR(mode):
        check_readable(path, SourceError, "read folder")
        return SourceKind.IMAGES
    if not stat.S_ISREG(mode):
        raise SourceError(f"{short_path(spec)} is not a regular file", "give a video file, image folder or stream URL")
    check_readable(path, SourceError, "read")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return SourceKind.IMAGES
    return SourceKind.VIDEO_FILE


def _check_url(spec: str) -> None:
    """Raise a one-line SourceError for a stream URL FFmpeg could never open."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(spec)
        port = parts.port  # ValueError when not a number in 0-65535
    except ValueError as exc:
        problem = "port out of range" if "port" in str(exc).lower() else str(exc)
        raise SourceError(f"bad stream URL {spec} ({problem})", "check the host and port, e.g. rtsp://HOST:554/PATH") from None
    if port is not None and port == 0:
        raise SourceError(f"bad stream URL {spec} (port 0)", "give the camera's port, 1-65535")
    if not parts.hostname and parts.scheme.lower() not in ("udp", "tcp", "srt"):
        raise SourceError(f"no host in stream URL {spec}", "write it as SCHEME://HOST[:PORT]/PATH")


def open_source(
    spec: str, config: SourceConfig | None = None, source_id: int = 0, connect_timeout: float | None = None
) -> Source:
    """Open whatever ``spec`` names; raises SourceError with the fix when it can't.

    ``spec`` is what ``vidtrack run`` takes (a path, URL, glob or webcam index) or a
    :class:`~vidtrack.sources.memory.MemoryInput` (frames a Python caller passed).

    ``connect_timeout`` (seconds, live sources only) bounds the wait for a camera's first
    frame before returning it still connecting (default: the stall timeout plus one second).

    An OS error while opening (the file vanished, became unreadable, ...) is a
    SourceError too, never a traceback.
    """
    config = config or SourceConfig()
    if not isinstance(spec, str):  # frames a Python caller holds (see sources/memory.py)
        from vidtrack.sources.memory import MemoryInput

        if isinstance(spec, MemoryInput):
            return spec.open(config, source_id)
        spec = str(spec)
    kind = classify(spec)
    if spec.strip().lower().startswith("file://"):
        spec = spec.strip()[len("file://") :]
    try:
        return _open(spec, kind, config, source_id, connect_timeout)
    except OSError as exc:
        raise path_error(SourceError, "read source", spec, exc) from None


def _open(
    spec: str, kind: SourceKind, config: SourceConfig, source_id: int, connect_timeout: float | None = None
) -> Source:
    if kind is SourceKind.VIDEO_FILE:
        from vidtrack.sources.files import VideoFileSource

        return VideoFileSource(spec, config, source_id=source_id)
    if kind is SourceKind.IMAGES:
        from vidtrack.sources.images import ImageSource

        return ImageSource(spec, config, source_id=source_id)
    if kind is SourceKind.WEBCAM:
        check_camera_device(spec)
    started = time.monotonic()
    if kind is SourceKind.STREAM and is_finite_http(spec, config, connect_timeout):
        from vidtrack.sources.files import VideoFileSource

        return VideoFileSource(spec, config, source_id=source_id)
    if connect_timeout is not None:  # the probe above spent part of it
        connect_timeout = max(0.1, connect_timeout - (time.monotonic() - started))
    from vidtrack.sources.live import LiveSource

    return LiveSource(
        spec, config, source_id=source_id, webcam=kind is SourceKind.WEBCAM, connect_timeout=connect_timeout
    )


def camera_device(spec: str) -> Path:
    """The V4L2 device node a webcam spec names on Linux: ``"0"`` -> ``/dev/video0``."""
    spec = spec.strip()
    return Path(f"/dev/video{spec}") if spec.isdigit() else Path(spec)


def check_camera_device(spec: str, dev: Path = Path("/dev")) -> None:
    """On Linux, refuse a webcam whose device node does not exist (instead of retrying forever).

    A camera that exists but is busy or unplugged later is still retried like any live source.
    ``dev`` is the device folder (a parameter for tests).

    Raises:
        SourceError: no such device, naming the cameras that do exist.
    """
    if not sys.platform.startswith("linux") or not Path("/dev").is_dir():
        return
    node = camera_device(spec)
    if dev != Path("/dev"):
        node = dev / node.name
    if node.exists():
        return
    present = sorted(p.name for p in dev.glob("video*"))
    found = f" (cameras here: {', '.join(present)})" if present else ", and no camera is connected"
    raise SourceError(f"no camera at {node}{found}", "plug one in, or give a video file, image folder or stream URL")


def is_finite_http(spec: str, config: SourceConfig, timeout: float | None = None) -> bool:
    """True when ``spec`` is an http(s) URL of a finite resource (a video file, a VOD
    playlist): it is then read like a file, every frame to its end, never reconnected.
    MJPEG and live HLS stay live. Decided from the server's answer, see
    :func:`vidtrack.sources.http.probe_http`; waits at most ``config.stall_timeout`` s
    (or ``timeout`` s when shorter: parallel opens must not wait on a hung camera).
    """
    if urlsplit(spec).scheme.lower() not in ("http", "https"):
        return False
    from vidtrack.sources.http import HttpResource, probe_http

    wait = config.stall_timeout if timeout is None else min(timeout, config.stall_timeout)
    return probe_http(spec.strip(), timeout=wait) is HttpResource.FINITE
