"""One file of a batch, run where a worker is (this process, a worker process, a Ray actor).

A :class:`FileJob` is plain data (picklable): the input, the ``run`` options and where each
output goes while it is written. :class:`Worker` runs jobs with the same code path as
``vidtrack run`` (:func:`vidtrack.options.request_from_options` then
:func:`vidtrack.runner.execute`), keeping the loaded model from one file to the next.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from vidtrack.errors import ModelError, VidtrackError

if TYPE_CHECKING:
    from vidtrack.config import DetectorConfig

#: Job statuses. ``interrupted`` files (Ctrl-C) get no record and are redone next time.
DONE, FAILED, INTERRUPTED = "done", "failed", "interrupted"

#: Frames between two progress messages from a worker.
PROGRESS_EVERY = 10


@dataclass(frozen=True)
class FileJob:
    """What to do with one input.

    Attributes:
        source: the input file (a path the worker can read).
        rel: the input's relative path: its key in the manifest and report.
        options: ``vidtrack run`` options by name, without output paths.
        outputs: output option name (``output``, ``jsonl``, ``summary``, ``events``,
            ``heatmap``, and the folders ``snapshots``, ``clips``) -> path to write it to (a temporary name; the driver renames it when recorded).
        attempt: 1 for the first try; retries after a lost worker count up.
    """

    source: str
    rel: str
    options: dict[str, Any]
    outputs: dict[str, str]
    attempt: int = 1


@dataclass
class FileResult:
    """What a worker reports for one job.

    Attributes:
        status: ``done``, ``failed`` or ``interrupted``.
        error: one line for failed files (the same text ``vidtrack run`` would print).
        fatal: the failure will repeat for every file (the model cannot be loaded).
        summary: the run summary dict (frames, duration, fps, tracks, tags, lines, zones...).
        wall_s: seconds from job start to outputs closed, model loading included.
        worker: ``host:pid`` that ran it.
        files: output name -> bytes (a folder output: {file name: bytes}), when the worker
            is on another machine (Ray) and the driver writes the files; None when the worker wrote ``job.outputs`` itself.
    """

    rel: str
    status: str
    error: str | None = None
    fatal: bool = False
    summary: dict[str, Any] | None = None
    wall_s: float = 0.0
    worker: str = ""
    warnings: list[str] = field(default_factory=list)
    files: dict[str, Any] | None = None


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, VidtrackError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def remove_quietly(paths: Any) -> None:
    """Delete files or folders (snapshot and clip folders) that may not exist (partial outputs
    of a failed or stopped file)."""
    import shutil

    for path in paths:
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
                continue
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass


class Worker:
    """Runs jobs one after another, loading the model once for all of them."""

    def __init__(self) -> None:
        self._detector: Any = None
        self._detector_config: "DetectorConfig | None" = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def _detector_for(self, config: "DetectorConfig") -> Any:
        if self._detector is None or self._detector_config != config:
            from vidtrack.detection import load_detector

            self._detector = load_detector(config)
            self._detector_config = config
        return self._detector

    def run(
        self,
        job: FileJob,
        on_frames: Callable[[int], None] | None = None,
        install_signals: bool = False,
    ) -> FileResult:
        """Process one file into ``job.outputs``; never raises for a bad file.

        Args:
            job: the file and its options.
            on_frames: called with the number of frames finished since the last call
                (every :data:`PROGRESS_EVERY` frames and at the end).
            install_signals: Ctrl-C/SIGTERM stop this file cleanly (status ``interrupted``);
                only in the main thread of the batch's own process.

        Returns:
            The result; partial outputs of a failed or interrupted file are removed.
        """
        from vidtrack.options import request_from_options
        from vidtrack.runner import execute

        start = time.monotonic()
        pending = 0

        def frame(_lane: int, _result: Any) -> None:
            nonlocal pending
            pending += 1
            if pending >= PROGRESS_EVERY and on_frames is not None:
                on_frames(pending)
                pending = 0

        result = FileResult(rel=job.rel, status=FAILED, worker=self.name)
        try:
            for path in job.outputs.values():
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            request = request_from_options([job.source], {**job.options, **job.outputs})
            detector = self._detector_for(request.detector)
            outcome = execute(request, on_frame=frame, install_signals=install_signals, detector=detector)
        except ModelError as exc:
            result.error, result.fatal = _one_line(exc), True
        except Exception as exc:  # a bad file must not stop the batch: report it in its row
            result.error = _one_line(exc)
        else:
            result.summary = outcome.summaries[0] if outcome.summaries else None
            result.warnings = list(outcome.warnings)
            if any(report.stopped for report in outcome.reports):
                result.status = INTERRUPTED
            elif outcome.error is not None:
                result.error = _one_line(outcome.error)
            else:
                result.status = DONE
        if pending and on_frames is not None:
            on_frames(pending)
        if result.status != DONE:
            remove_quietly(job.outputs.values())
        result.wall_s = round(time.monotonic() - start, 3)
        return result
