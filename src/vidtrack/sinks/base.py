"""The sink contract and the checks every file output shares (before a run: writable, distinct)."""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Protocol, Sequence

from vidtrack.errors import OutputError, os_error_reason, path_error, short_path
from vidtrack.paths import stat_mode

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult


class Sink(Protocol):
    """Takes every processed frame in order, then is closed once."""

    #: What the user should be told at the end of the run (audio dropped...); usually empty.
    warnings: Sequence[str]

    def write(self, result: "FrameResult") -> None: ...

    def close(self) -> None: ...


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
