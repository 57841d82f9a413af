"""User-facing errors.

Every problem a user can fix (bad path, bad option, missing model, ...) is raised as a
:class:`VidtrackError`. The CLI prints it on one line and exits with code 2; library
code never prints or exits.
"""

from __future__ import annotations

import re

#: ``user:password@`` inside any text: after ``//``, a quote, a bracket or whitespace, up to
#: the last ``@`` before a ``/`` (a password may itself hold an unescaped ``@``). Matched on
#: text, not parsed as a URL, so URLs that do not parse (``rtps://``, ``http//``,
#: ``[::1/live``, a port out of range) are masked too.
_CREDENTIALS = re.compile(r"(?P<pre>^|[\s'\"(\[/=,])(?P<user>[^\s/@:'\"\[\]]+):(?P<secret>[^\s'\"/]*)@")


def mask_credentials(text: str) -> str:
    """``text`` with every ``user:password@`` written as ``user:***@``.

    For every message that may quote what the user typed: errors, log lines, names shown
    in the window, web view and summary. ``rtsp://admin:hunter2@cam/live`` becomes
    ``rtsp://admin:***@cam/live``; text without credentials comes back unchanged.
    """
    return _CREDENTIALS.sub(lambda m: f"{m['pre']}{m['user']}:***@", text)


class VidtrackError(Exception):
    """A problem the user can fix: ``problem`` says what is wrong, ``fix`` what to do."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = mask_credentials(problem)  # errors often quote the source the user typed
        self.fix = None if fix is None else mask_credentials(fix)
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """``problem: fix`` on one line, as the CLI prints it.

        The problem's trailing dots and spaces are dropped, ``: fix`` follows when there is a
        fix, and every run of whitespace (newlines included) becomes one space. Both parts
        already have credentials masked (:func:`mask_credentials`).
        """
        text = self.problem.rstrip(". ")
        if self.fix:
            text += f": {self.fix}"
        return " ".join(text.split())


class SourceError(VidtrackError):
    """The input video/stream/images cannot be opened or read."""


class ModelError(VidtrackError):
    """The model cannot be found, downloaded or loaded."""


class OutputError(VidtrackError):
    """An output path cannot be written."""


class OptionError(VidtrackError):
    """A command-line option has a bad value."""


_FLAG_WITH_VALUE = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*) (?=['\"\d(\[-]|None\b|True\b|False\b|[A-Z][A-Z0-9_.]*\b)")
_FLAG = re.compile(r"(?<![\w-])--([a-z][a-z0-9-]*)")
#: How each front end points at its list of options, instead of the CLI's ``--help``.
_OPTION_HELP = {"python": "help(vidtrack.track)", "http": "the fields at /docs"}


def in_terms_of(error: VidtrackError, front: str) -> VidtrackError:
    """``error`` worded for the front end the user called: ``"python"`` or ``"http"``.

    Option errors are written once, in the CLI's terms (``--conf 2 is out of range``); a
    Python or HTTP caller named the option ``conf``, so ``--conf 2`` becomes ``conf=2``,
    ``--max-age`` ``max_age``, and "see 'vidtrack run --help'" points at ``help(vidtrack.track)``
    or ``/docs``. A :class:`ModelError`'s fix is reworded for Python too (``--model PATH`` becomes
    ``model=PATH``); over HTTP it stays as it is (clients cannot choose the model, the server's
    operator reads it). Other errors come back unchanged (same class).
    """
    if front not in _OPTION_HELP or not (
        isinstance(error, OptionError) or (isinstance(error, ModelError) and front == "python")
    ):
        return error

    def reword(text: str | None) -> str | None:
        if text is None:
            return None
        text = re.sub(r"'?vidtrack run --help'?", _OPTION_HELP[front], text)
        text = _FLAG_WITH_VALUE.sub(lambda m: m.group(1).replace("-", "_") + "=", text)
        return _FLAG.sub(lambda m: m.group(1).replace("-", "_"), text)

    problem, fix = reword(error.problem), reword(error.fix)
    if (problem, fix) == (error.problem, error.fix):
        return error
    return type(error)(problem or "", fix)


def quiet_ffmpeg() -> None:
    """Keep OpenCV/FFmpeg from printing decoder chatter on bad input: vidtrack reports errors itself.

    Sets the environment variables OpenCV reads when it loads; call it before the first
    ``import cv2`` (the CLI does at start, the sources before opening anything).
    """
    import os

    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")


def check_option(ok: bool, flag: str, value: object, fix: str) -> None:
    """The one range check for option values: raise ``OptionError("<flag> <value> is out of range", fix)`` unless ``ok``."""
    if not ok:
        raise OptionError(f"{flag} {value} is out of range", fix)



#: What to do about the OS errors a path the user gave can raise, by errno name.
_OS_ERROR_FIXES = {
    "ENAMETOOLONG": "shorten it: at most 255 bytes per file or folder name, 4096 for the whole path",
    "EACCES": "check its permissions, or choose another path",
    "EPERM": "check its permissions, or choose another path",
    "ENOTDIR": "a part of the path is a file, not a folder: fix the path",
    "ELOOP": "a symbolic link in the path points back to itself: fix the link or give the real path",
    "EROFS": "that file system is read-only: choose a path on a writable one",
    "ENOSPC": "free some disk space or choose another disk",
    "EDQUOT": "free some space in your quota or choose another disk",
    "ENOENT": "check the path",
    "EISDIR": "give a file name, not a folder",
    "EMFILE": "too many open files: close other programs or raise the limit (ulimit -n)",
}


def short_path(path: object, limit: int = 80) -> str:
    """``path`` as text for a one-line message; longer than ``limit`` characters it is cut
    in the middle and its length in bytes is added, so a 300-byte name stays readable."""
    text = str(path)
    if len(text) <= limit:
        return text
    size = len(text.encode("utf-8", "surrogateescape"))
    keep = (limit - 5) // 2
    return f"{text[:keep]}...{text[-keep:]} [{size} bytes]"


def os_error_fix(exc: BaseException) -> str:
    """The fix to suggest for an ``OSError`` on a user-given path (by its errno)."""
    import errno as errno_names

    if isinstance(exc, RuntimeError) and "loop" in str(exc).lower():  # Path.resolve before 3.13
        return _OS_ERROR_FIXES["ELOOP"]
    name = errno_names.errorcode.get(getattr(exc, "errno", None) or -1, "")
    return _OS_ERROR_FIXES.get(name, "check the path and its permissions")


def os_error_reason(exc: BaseException) -> str:
    """The OS's short reason (``File name too long``), without the repeated file name."""
    reason = getattr(exc, "strerror", None)
    return str(reason) if reason else (str(exc) or type(exc).__name__)


def path_error(cls: type[VidtrackError], what: str, path: object, exc: BaseException) -> VidtrackError:
    """A one-line ``cls`` for an OS error on a user-given path: ``cannot read video X (reason): fix``.

    ``what`` names the role of the path ("read video", "write output"). ``exc`` is the
    ``OSError`` (or ``RuntimeError`` for symlink loops on ``Path.resolve``) raised for it.
    """
    return cls(f"cannot {what} {short_path(path)} ({os_error_reason(exc)})", os_error_fix(exc))


def exception_cause(exc: BaseException, with_type: bool = True, limit: int = 160) -> str:
    """One line naming what went wrong in ``exc``, for errors that are not VidtrackErrors.

    The first line of the message that is not a C++ source location (OpenVINO stacks
    ``Exception from src/...cpp:117:`` lines above the cause, e.g. ``std::bad_alloc``),
    cut to ``limit`` characters, after ``TypeName: `` when ``with_type``.
    """
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    causes = [line for line in lines if not line.startswith("Exception from ")]
    text = (causes or lines or [""])[0][:limit]
    if not with_type:
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
