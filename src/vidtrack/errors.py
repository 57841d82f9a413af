"""User-facing errors.

Every problem a user can fix (bad path, bad option, missing model, ...) is raised as a
:class:`VidtrackError`. The CLI prints it on one line and exits with code 2; library
code never prints or exits.
"""

from __future__ import annotations


class VidtrackError(Exception):
    """A problem the user can fix: ``problem`` says what is wrong, ``fix`` what to do."""

    def __init__(self, problem: str, fix: str | None = None) -> None:
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
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
