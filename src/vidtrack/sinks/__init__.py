"""Where results go: the annotated video, per-frame data (JSONL, MOT) and the run summary.

Every sink takes a :class:`~vidtrack.frames.FrameResult` per frame and is closed once at
the end (``close()`` is idempotent and finalises the file, also after Ctrl-C). Call
:func:`check_outputs` before processing starts so a bad ``-o`` fails in a second, not
after the whole video.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Protocol

from vidtrack.errors import OutputError
from vidtrack.sinks.data import JsonlSink, MotSink
from vidtrack.sinks.summary import SummaryBuilder
from vidtrack.sinks.video import VideoSink, VideoWriter, open_video_sink

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult

__all__ = [
    "JsonlSink",
    "MotSink",
    "Sink",
    "SummaryBuilder",
    "VideoSink",
    "VideoWriter",
    "check_outputs",
    "check_writable",
    "open_video_sink",
]


class Sink(Protocol):
    """Takes every processed frame in order, then is closed once."""

    def write(self, result: "FrameResult") -> None: ...

    def close(self) -> None: ...


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise a one-line OutputError unless ``path`` can be created (or overwritten).

    Creates and removes a probe file next to ``path`` rather than asking ``os.access``,
    which says yes to root and knows nothing of read-only mounts. ``path`` itself is
    not created or truncated.
    """
    path = Path(path)
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"output {path} is a folder", f"give a file name, e.g. {path / ('out' + path.suffix)}")
    if not folder.exists():
        raise OutputError(f"output folder {folder} does not exist", f"create it (mkdir -p {folder}) or choose another path")
    if not folder.is_dir():
        raise OutputError(f"output {path} is inside {folder}, which is not a folder", "choose a path inside a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".vidtrack-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot create files in {folder} ({exc.strerror or exc})", "choose a writable folder for the output"
        ) from None
    os.close(fd)
    os.unlink(probe)
    if path.exists():
        try:
            with open(path, "ab"):  # append mode: opens for writing without touching the content
                pass
        except OSError as exc:
            raise OutputError(
                f"cannot overwrite {path} ({exc.strerror or exc})", "remove it or choose another path"
            ) from None


def check_outputs(outputs: Iterable[str | os.PathLike[str]], inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Check every output path before a run: writable, distinct, and not one of the inputs."""
    seen: dict[Path, Path] = {}
    sources = {Path(p).resolve() for p in inputs}
    for out in outputs:
        path = Path(out)
        resolved = path.resolve()
        if resolved in sources:
            raise OutputError(f"output {path} is also the input", "write the output to another file")
        if resolved in seen:
            raise OutputError(f"{path} is given for two outputs", "give each output its own file")
        seen[resolved] = path
        check_writable(path)
