"""Checks on paths the user gives, with every OS error turned into a one-line error.

``Path.exists()``/``is_dir()`` swallow some OS errors (a symlink loop reads as "missing")
and raise others (a name over 255 bytes), so the checks here ``stat`` once and report
what the OS said: :func:`vidtrack.errors.path_error` adds the fix for each errno.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import IO, Any, Iterator

from vidtrack.errors import VidtrackError, path_error


def stat_mode(path: str | os.PathLike[str]) -> int | None:
    """``st_mode`` of ``path`` (following links), None when nothing is there.

    Other OS errors propagate: ENAMETOOLONG (a name over 255 bytes), ENOTDIR (a file
    used as a folder), ELOOP (a symlink loop), EACCES (a folder on the way unreadable).
    """
    try:
        return os.stat(path).st_mode
    except FileNotFoundError:
        return None


def check_readable(path: str | os.PathLike[str], error: type[VidtrackError], what: str) -> None:
    """Raise ``error`` (one line, with the fix) unless ``path`` opens for reading.

    Files are opened and closed; folders are listed. ``what`` names the role in the
    message: ``cannot {what} PATH (Permission denied): ...``.
    """
    try:
        if os.path.isdir(path):
            with os.scandir(path):
                pass
        else:
            os.close(os.open(path, os.O_RDONLY))
    except OSError as exc:
        raise path_error(error, what, Path(path), exc) from None


@contextlib.contextmanager
def atomic_write(path: Path, *, newline: str | None = None, fsync: bool = False) -> Iterator[IO[str]]:
    """Open ``path`` for writing text so that a kill leaves the old file or the whole new one.

    Writes ``NAME.tmp`` beside it and renames it over ``path`` when the block ends without
    an error (the rename is atomic on one file system); on an error the temporary file is
    removed and ``path`` is untouched. ``fsync`` makes the content durable before the rename.
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline=newline) as handle:
            yield handle
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as indented JSON with :func:`atomic_write`."""
    with atomic_write(path) as handle:
        handle.write(json.dumps(data, indent=2) + "\n")
