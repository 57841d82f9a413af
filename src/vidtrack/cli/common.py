"""What every command shares: the one-line error and its exit code."""

from __future__ import annotations

import typer

from vidtrack.errors import VidtrackError, mask_credentials


def fail(error: BaseException | str, code: int = 2) -> "typer.Exit":
    """Print one ``error:`` line to stderr and return the Exit to raise.

    A VidtrackError prints as it is (problem: fix); any other exception (a runtime
    failure mid-run) as its type and the line of its message that names the cause.
    """
    if isinstance(error, BaseException) and not isinstance(error, VidtrackError):
        from vidtrack.errors import exception_cause

        error = exception_cause(error)
    typer.echo(mask_credentials(f"error: {error}"), err=True)
    return typer.Exit(code)
