"""The sink contract and the checks every file output shares (before a run: writable, distinct)."""

from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol, Sequence

from vidtrack.errors import OutputError, os_error_reason, path_error, short_path
from vidtrack.optionspec import Option
from vidtrack.paths import stat_mode

if TYPE_CHECKING:
    import numpy as np
    from vidtrack.frames import FrameResult, SourceInfo


class Sink(Protocol):
    """Takes every processed frame in order, then is closed once."""

    #: What the user should be told at the end of the run (audio dropped...); usually empty.
    warnings: Sequence[str]

    def write(self, result: "FrameResult") -> None:
        """Take one finished frame (frames come in order, from one output thread per lane).

        Raises:
            OutputError: the output cannot be written (the pipeline stops the lane and reports it).
        """

    def close(self) -> None:
        """Finish the output (flush, trailer, end-of-stream events); called once, even after an error.

        Raises:
            OutputError: what was written cannot be completed (the pipeline reports it).
        """


@dataclass(frozen=True)
class Output:
    """A file output that brings its own path option: what a sink module declares to be one file + one line.

    ``option`` is the run option that names the file (``Option(Path, "output", help=...)``;
    the option's name is the key this output is registered under in
    :data:`vidtrack.sinks.open.OPENERS`); ``open(path, info, config, lane)`` opens the sink for
    one source's file (``info``: its :class:`~vidtrack.frames.SourceInfo`, ``config``: the
    run's :class:`~vidtrack.config.OutputConfig`, ``lane``: :class:`~vidtrack.sinks.open.LaneOutputs`).
    Registered, the option joins :data:`vidtrack.options.OPTIONS`, so ``vidtrack run
    --NAME FILE``, a config file's ``NAME: FILE``, ``vidtrack.track(..., NAME=FILE)`` and the
    HTTP API (which refuses paths: the server names outputs) all know it; the file's path
    reaches ``open`` through ``OutputConfig.more``, with the per-source suffix of several sources.
    """

    option: Option
    open: Callable[[Path, "SourceInfo", Any, Any], Sink]

    def __call__(self, path: Path, info: "SourceInfo", config: Any, lane: Any) -> Sink:
        return self.open(path, info, config, lane)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise a one-line OutputError unless ``path`` can be created (or overwritten).

    Creates and removes a probe file next to ``path`` rather than asking ``os.access``,
    which says yes to root and knows nothing of read-only mounts. ``path`` itself is
    not created or truncated. Every OS error on the way (a name over 255 bytes, no
    permission, a symlink loop, a read-only file system, ...) becomes an OutputError
    with the fix for that error.
    """
    path = Path(path)
    try:
        _check_writable(path)
    except OSError as exc:
        raise path_error(OutputError, "write output", path, exc) from None


def _check_writable(path: Path) -> None:
    folder = path.parent
    folder_mode = stat_mode(folder)
    if folder_mode is None:
        raise OutputError(
            f"output folder {short_path(folder)} does not exist",
            f"create it (mkdir -p {short_path(folder)}) or choose another path",
        )
    if not stat.S_ISDIR(folder_mode):
        raise OutputError(
            f"output {short_path(path)} is inside {short_path(folder)}, which is not a folder",
            "choose a path inside a folder",
        )
    mode = stat_mode(path)
    if mode is not None and stat.S_ISDIR(mode):
        raise OutputError(
            f"output {short_path(path)} is a folder", f"give a file name, e.g. {short_path(path / ('out' + path.suffix))}"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".vidtrack-probe-", dir=folder)
    except OSError as exc:
        raise OutputError(
            f"cannot create files in {short_path(folder)} ({os_error_reason(exc)})", "choose a writable folder for the output"
        ) from None
    os.close(fd)
    os.unlink(probe)
    if mode is not None:
        with open(path, "ab"):  # append mode: opens for writing without touching the content
            pass


def check_outputs(outputs: Iterable[str | os.PathLike[str]], inputs: Iterable[str | os.PathLike[str]] = ()) -> None:
    """Check every output path before a run: writable, distinct, and not one of the inputs."""
    seen: dict[Path, Path] = {}
    sources = set()
    for p in inputs:
        try:
            sources.add(Path(p).resolve())
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop (Python < 3.13)
            continue  # opening that input reports it
    for out in outputs:
        path = Path(out)
        try:
            resolved = path.resolve()
        except (OSError, RuntimeError) as exc:
            raise path_error(OutputError, "write output", path, exc) from None
        if resolved in sources:
            raise OutputError(f"output {path} is also the input", "write the output to another file")
        if resolved in seen:
            raise OutputError(f"{path} is given for two outputs", "give each output its own file")
        seen[resolved] = path
        check_writable(path)


def output_folder(folder: str | os.PathLike[str], what: str) -> Path:
    """Create the output folder ``folder`` (and its parents) and return it as a Path.

    ``what`` names it in the error ("clip folder", "snapshot folder").

    Raises:
        OutputError: the folder cannot be created (one line naming it and the OS's reason).
    """
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the {what} {path} ({os_error_reason(exc)})", "choose a writable folder") from None
    return path


def write_image(path: Path, image: "np.ndarray", what: str, params: Sequence[int] = ()) -> None:
    """Encode the BGR ``image`` (H x W x 3 uint8) in the format of ``path``'s suffix (.jpg, .png,
    .webp) and write it whole: into a hidden ``.partial-`` file first, renamed into place, so a
    full disk never leaves half a picture. ``params``: OpenCV's encoder flags
    (e.g. ``[cv2.IMWRITE_JPEG_QUALITY, 90]``). ``what`` names the file in errors ("snapshot").

    Raises:
        OutputError: the image cannot be encoded, or written (the disk, permissions).
    """
    import cv2

    ok, data = cv2.imencode(path.suffix.lower(), image, list(params))
    if not ok:
        raise OutputError(f"cannot encode {what} {path} as {path.suffix}", "use .jpg, .png or .webp")
    tmp = path.with_name(f".partial-{path.name}")
    try:
        tmp.write_bytes(data.tobytes())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"writing {what} {path} failed ({os_error_reason(exc)})", "check free disk space") from None

