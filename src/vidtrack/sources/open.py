"""From what the user typed to a reader: :func:`classify` names the kind of source, :data:`OPENERS` opens it.

A source kind is one file (a class with the :class:`~vidtrack.sources.base.Source` contract)
plus one line in :data:`OPENERS`. A kind named by a URL scheme (``pattern://...``) registers an
:class:`~vidtrack.sources.base.Input` under its scheme, and :func:`classify` recognises it with
no more code; its options join the option table (:func:`input_options`). The built-in kinds are
:class:`SourceKind` members that :func:`classify` tells apart by their specs' shape.
"""

from __future__ import annotations

import enum
import glob
import re
import stat
import sys
import time
from pathlib import Path
from typing import Callable, Union
from urllib.parse import urlsplit

from vidtrack.config import SourceConfig
from vidtrack.errors import SourceError, path_error, short_path
from vidtrack.paths import check_readable, stat_mode
from vidtrack.optionspec import Option
from vidtrack.sources.base import IMAGE_SUFFIXES, LIVE_SCHEMES, Input, Source, sequence_files

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


class SourceKind(enum.Enum):
    """The built-in kinds of source that :func:`classify` tells apart by the spec's shape."""
    VIDEO_FILE = "video file"
    IMAGES = "images"
    WEBCAM = "webcam"
    STREAM = "stream"


def classify(spec: str) -> "SourceKind | str":
    """Decide what kind of source ``spec`` names, or raise a one-line SourceError.

    A URL whose scheme is registered in :data:`OPENERS` (an :class:`Input`) is that kind: the scheme is returned.
    """
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
        if scheme in OPENERS:
            return scheme
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


def _open_file(spec: str, config: SourceConfig, source_id: int, connect_timeout: float | None) -> Source:
    from vidtrack.sources.files import VideoFileSource

    return VideoFileSource(spec, config, source_id=source_id)


def _open_images(spec: str, config: SourceConfig, source_id: int, connect_timeout: float | None) -> Source:
    from vidtrack.sources.images import ImageSource

    return ImageSource(spec, config, source_id=source_id)


def _open_webcam(spec: str, config: SourceConfig, source_id: int, connect_timeout: float | None) -> Source:
    from vidtrack.sources.live import LiveSource

    check_camera_device(spec)
    return LiveSource(spec, config, source_id=source_id, webcam=True, connect_timeout=connect_timeout)


def _open_stream(spec: str, config: SourceConfig, source_id: int, connect_timeout: float | None) -> Source:
    """A stream URL: an http(s) URL of a finite resource is read like a file, the rest live."""
    from vidtrack.sources.live import LiveSource

    started = time.monotonic()
    if is_finite_http(spec, config, connect_timeout):
        return _open_file(spec, config, source_id, connect_timeout)
    if connect_timeout is not None:  # the probe above spent part of it
        connect_timeout = max(0.1, connect_timeout - (time.monotonic() - started))
    return LiveSource(spec, config, source_id=source_id, webcam=False, connect_timeout=connect_timeout)


#: Opens ``(spec, config, source_id, connect_timeout)`` of each kind: one line per source kind.
#: A kind named by a URL scheme is keyed by the scheme: ``"pattern": pattern.INPUT`` (an :class:`Input`).
OPENERS: dict[Union[SourceKind, str], Callable[[str, SourceConfig, int, float | None], Source]] = {
    SourceKind.VIDEO_FILE: _open_file,
    SourceKind.IMAGES: _open_images,
    SourceKind.WEBCAM: _open_webcam,
    SourceKind.STREAM: _open_stream,
}


def input_options() -> dict[str, Option]:
    """The options that registered source kinds declare (:class:`Input` entries of :data:`OPENERS`), by name."""
    return {name: option for entry in OPENERS.values() if isinstance(entry, Input) for name, option in entry.options.items()}


def _open(
    spec: str, kind: "SourceKind | str", config: SourceConfig, source_id: int, connect_timeout: float | None = None
) -> Source:
    return OPENERS[kind](spec, config, source_id, connect_timeout)


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
