"""The source contract (what the pipeline relies on in a source); opening one: :mod:`vidtrack.sources.open`."""

from __future__ import annotations

from typing import Iterator, Protocol, Sequence

from vidtrack.errors import SourceError
from vidtrack.frames import Frame, SourceInfo, SourceState, SourceStatus  # re-exported: the old import path

LIVE_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp", "srt")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}


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
