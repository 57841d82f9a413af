"""The batch's progress bar (files and frames) and its end table."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

#: Rows shown in the end table; the report files hold all of them.
TABLE_ROWS = 40


class BatchReporter:
    """A rich progress display: a files bar (done / total) and a frames counter with rate.

    Implements :class:`vidtrack.batch.BatchProgress`. Draws only on a terminal.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress: Any = None
        self._files = self._frames = 0

    def start(self, total: int, skipped: int, engine: str) -> None:
        """Print the plan (files, already done, engine) and start the bars."""
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

        console = Console(stderr=True)
        done = f"{skipped} already done" + (f" ({SKIPPED_WHY})" if skipped else "")
        console.print(f"batch: {total} files, {done}; {engine}")
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[info]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self._progress.start()
        self._files = self._progress.add_task("files", total=total, completed=skipped, info="")
        self._frames = self._progress.add_task("frames", total=None, info="")

    def frames(self, count: int) -> None:
        """Add ``count`` processed frames (from any worker) and refresh the frames/s."""
        if self._progress is not None:
            self._progress.update(self._frames, advance=count)
            task = self._progress.tasks[self._frames]
            self._progress.update(self._frames, info=f"{task.speed or 0:.1f} frames/s")

    def file_done(self, row: dict[str, Any]) -> None:
        """Advance the files bar and show the last file's status."""
        if self._progress is not None:
            self._progress.update(self._files, advance=1, info=f"last: {row['rel']} {row['status']}")

    def stop(self) -> None:
        """Remove the bars (idempotent)."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


#: Why a file is skipped, and how to redo it.
SKIPPED_WHY = "done before with the same settings and input; --overwrite redoes it"


def print_batch_table(rows: list[dict[str, Any]], out_dir: Path) -> None:
    """Per-file table (first :data:`TABLE_ROWS` rows), status counts and the report's path."""
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True)
    table = Table(title="vidtrack batch")
    for column in ("file", "status", "frames", "fps", "tracks", "error / note"):
        table.add_column(column, overflow="fold")
    for row in rows[:TABLE_ROWS]:
        tracks = ", ".join(f"{n} {name}" for name, n in (row.get("tracks") or {}).items()) or "-"
        fps = row.get("processing_fps")
        note = row.get("error") or (SKIPPED_WHY if row["status"] == "skipped" else "")
        table.add_row(
            str(row["rel"]), row["status"], str(row.get("frames") or "-"),
            "-" if fps is None else f"{fps:.1f}", tracks, note,
        )
    console.print(table)
    if len(rows) > TABLE_ROWS:
        console.print(f"... {len(rows) - TABLE_ROWS} more rows in the report")
    counts = Counter(row["status"] for row in rows)
    console.print(", ".join(f"{n} {status}" for status, n in counts.items()) + f"; report: {out_dir / 'report.csv'}")
