"""Checks on paths the user gives, with every OS error turned into a one-line error.

``Path.exists()``/``is_dir()`` swallow some OS errors (a symlink loop reads as "missing")
and raise others (a name over 255 bytes), so the checks here ``stat`` once and report
what the OS said: :func:`vidtrack.errors.path_error` adds the fix for each errno.
"""

from __future__ import annotations

import os
from pathlib import Path

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
