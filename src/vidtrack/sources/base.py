"""The source contract (what the pipeline relies on in a source); opening one: :mod:`vidtrack.sources.open`."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator, Mapping, Protocol, Sequence

from vidtrack.errors import SourceError
from vidtrack.optionspec import Option
from vidtrack.frames import Frame, SourceInfo, SourceState, SourceStatus  # re-exported: the old import path

if TYPE_CHECKING:
    from vidtrack.config import SourceConfig

LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
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
    try:
        entries = list(path.parent.iterdir())
    except OSError:
        return []
    matched = [(int(m.group(1)), p) for p in entries if (m := rule.match(p.name)) and p.is_file()]
    return [p for _, p in sorted(matched)]


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

    def frames(self) -> Iterator[Frame]:
        """Yield the frames in order, with their index, pts (seconds) and BGR picture, until the end or ``stop()``.

        Raises:
            SourceError: a picture cannot be read (sources that do not skip damage).
        """

    def stop(self) -> None:
        """Ask ``frames()`` to end soon; safe to call from any thread or a signal handler."""

    def close(self) -> None:
        """Release the device/file/connection. Idempotent."""

    @property
    def status(self) -> SourceStatus:
        """Current :class:`SourceStatus` (state and reconnect attempt); cheap, any thread."""


@dataclass(frozen=True)
class Input:
    """A source kind named by its URL scheme that brings its own options: one file + one line.

    The source module declares ``INPUT = Input(open, options)`` and one line in
    :data:`vidtrack.sources.open.OPENERS` registers it under its scheme (``"pattern": pattern.INPUT``):
    ``vidtrack run pattern://...`` then opens it. ``open(spec, config, source_id,
    connect_timeout)`` returns the :class:`Source`. ``options`` (name -> :class:`Option` of group
    ``"source"``) join :data:`vidtrack.options.OPTIONS`, so the CLI, config files, the HTTP API and
    the Python API all take them; their values reach ``open`` as ``config.extra(name)``.
    """

    open: Callable[[str, "SourceConfig", int, "float | None"], "Source"]
    options: Mapping[str, Option] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name, option in self.options.items():
            if option.group != "source":
                raise ValueError(f"source option {name!r} must be of group 'source', not {option.group!r}")

    def __call__(self, spec: str, config: "SourceConfig", source_id: int, connect_timeout: "float | None") -> "Source":
        return self.open(spec, config, source_id, connect_timeout)


class FiniteSource:
    """What the sources of a known list of pictures share (images on disk, frames in memory).

    Nothing to reconnect, nothing truncated, no size changes to report; a stop flag
    (``self._stop``, set by :meth:`stop`) and a status that is CONNECTED until the last frame,
    ENDED after it (:meth:`_end`). Subclasses call ``super().__init__()`` once they have
    opened their input, and set ``info`` themselves.
    """

    reconnects = 0  # nothing to reopen
    error = None  # a bad picture raises at once
    truncated = False  # every listed picture is read or reported
    size_changes: tuple[tuple[int, float, int, int], ...] = ()  # pictures of other sizes are other scenes

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._status = SourceStatus(SourceState.CONNECTED)

    @property
    def status(self) -> SourceStatus:
        """CONNECTED while frames remain, ENDED after the last one (or stop())."""
        return self._status

    def stop(self) -> None:
        """Make ``frames()`` end before its next frame."""
        self._stop.set()

    def _end(self) -> None:
        self._status = SourceStatus(SourceState.ENDED)

