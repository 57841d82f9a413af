"""Progress bars while running and the table printed at the end."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vidtrack.frames import FrameResult, SourceInfo
    from vidtrack.runner import RunOutcome


def shown_url(url: str, terminal: bool) -> str:
    """The web view's address as printed: whole on a terminal; with ``?token=`` masked otherwise.

    A log file or a CI console is read by more people than the terminal: there the token
    is written ``token=...`` (the operator knows it, having passed ``--token``).
    """
    if terminal or "token=" not in url:
        return url
    import re

    return re.sub(r"([?&]token=)[^&#]*", r"\1...", url)


class ProgressReporter:
    """One rich progress bar per source: a bar for files of known length, a counter otherwise."""

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._progress = None
        self._tasks: list[int] = []

    #: Whether any source of the run is live (the end-of-run table then shows frame age).
    live = False

    def start(self, infos: list["SourceInfo"], viewer_url: str | None = None) -> None:
        """Show one progress task per source (in ``infos`` order) on stderr; print the web view's address first.

        ``viewer_url`` is printed whole on a terminal, its token masked otherwise
        (:func:`shown_url`). Without a terminal (or ``enabled=False``) no bar is shown.
        """
        self.live = any(info.is_live for info in infos)
        if viewer_url:
            print(f"web view: {shown_url(viewer_url, sys.stderr.isatty())}", file=sys.stderr, flush=True)
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[fps]:>6.1f} fps"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=True,
        )
        self._progress.start()
        for info in infos:
            self._tasks.append(self._progress.add_task(info.name, total=info.frame_count, fps=0.0))

    def frame(self, lane: int, result: "FrameResult") -> None:
        """Advance lane ``lane``'s bar by one frame and show its rate (frames/s); a no-op without bars."""
        if self._progress is not None:
            self._progress.update(self._tasks[lane], advance=1, fps=result.fps or 0.0)

    def stop(self) -> None:
        """Remove the bars (they are transient). Idempotent."""
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def print_summary(outcome: "RunOutcome", width: int | None = None, live: bool = False) -> None:
    """A table per run: frames, rate, tracks per class (frame age for live sources); then one
    line of per-stage milliseconds per source and the files written.

    Kept within 80 columns (``width``: the console's, default the terminal's): no cell wraps
    on a normal terminal; the stage timings are a line of their own, not a wrapped column.
    ``live``: some source was live, so frame age (capture to output) means something.
    """
    from rich import box
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=True, width=width)
    live = live and any((data.get("frame_age_ms") or {}).get("p50") is not None for data in outcome.summaries)
    table = Table(title="vidtrack run", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("source", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("frames", justify="right", no_wrap=True)
    table.add_column("fps", justify="right", no_wrap=True)
    table.add_column("tracks", overflow="fold")
    if live:
        table.add_column("frame age p50/p95", no_wrap=True)
    for data in outcome.summaries:
        tracks = ", ".join(f"{n} {name}" for name, n in data.get("tracks", {}).items()) or "-"
        rate = data.get("processing_fps") or 0.0
        # A rate needs two finished frames (first to last): one photo has none to show, not 0.0.
        shown = f"{rate:.1f}" if (data.get("frames") or 0) >= 2 else "-"
        row = [str(data.get("source", "")), str(data.get("frames", "")), shown, tracks]
        if live:
            age = data.get("frame_age_ms", {})
            row.append("-" if age.get("p50") is None else f"{age['p50']:.0f} / {age['p95']:.0f} ms")
        table.add_row(*row)
    console.print(table)
    for data in outcome.summaries:
        # Under a schedule the detector's figure is per detector run, not per frame (the summary's ``detector`` block).
        scheduled = isinstance(data.get("detector"), dict)
        stages = " ".join(
            f"{k} {v:.1f}{'/run' if scheduled and k == 'detect' else ''}"
            for k, v in data.get("timings_ms", {}).items() if v
        )
        if stages:
            name = str(data.get("source", "")) if len(outcome.summaries) > 1 else ""
            console.print(f"{name + ': ' if name else ''}ms/frame by stage: {stages}", style="dim", overflow="fold")
        line = detector_line(data)
        if line:
            name = str(data.get("source", "")) if len(outcome.summaries) > 1 else ""
            console.print(f"{name + ': ' if name else ''}{line}", style="dim", overflow="fold", highlight=False)
    from vidtrack.sinks.summary import dropped_hint

    for data in outcome.summaries:
        hint = dropped_hint(data)
        if hint:
            console.print(hint, style="yellow", highlight=False)
    analytics = analytics_table(outcome.summaries)
    if analytics is not None:
        console.print(analytics)
    for path in outcome.outputs:
        if path.exists():
            console.print(f"wrote {path}", overflow="fold")
        else:  # the video file is created with its first frame: a camera that never connected
            console.print(f"{path} not written: no frames from the source", overflow="fold")
    for folder in outcome.folders:
        count = sum(1 for entry in folder.iterdir() if entry.is_file() and not entry.name.startswith("."))
        console.print(f"wrote {folder}/ ({count} file{'s' if count != 1 else ''})", overflow="fold")


def detector_line(summary: dict) -> str | None:
    """What the detector skipped in one run, from its summary's ``detector`` block, or None.

    E.g. ``detector: 125/302 frames detected (41%), 0 gated, 177 strided, 8.3 detections/s``
    (detections/s: detector runs per second of wall time).
    Present only with ``--motion-gate``/``--detect-every`` (the block's condition); the stage
    line's ``detect`` figure is then per detector run (``detect 31.0/run``), not per frame.
    """
    block = summary.get("detector")
    if not isinstance(block, dict):
        return None
    detected, gated, strided = (int(block.get(key) or 0) for key in ("frames_detected", "frames_gated", "frames_strided"))
    frames = detected + gated + strided
    if frames == 0:
        return None
    rate = block.get("detections_per_s")
    per_s = f", {rate:.1f} detections/s" if isinstance(rate, (int, float)) else ""
    return f"detector: {detected}/{frames} frames detected ({detected / frames:.0%}), {gated} gated, {strided} strided{per_s}"


def analytics_table(summaries: list[dict]) -> "object | None":
    """Counts per line and visits per zone of every source (None when no run had any)."""
    from rich.table import Table

    rows = []
    for data in summaries:
        source = str(data.get("source", ""))
        for name, line in data.get("lines", {}).items():
            by_class = ", ".join(f"{c} {v['in']}/{v['out']}" for c, v in line.get("by_class", {}).items()) or "-"
            rows.append((source, f"line {name}", f"in {line['in']} out {line['out']}", by_class, "-"))
        for name, zone in data.get("zones", {}).items():
            dwell = zone.get("dwell_s", {})
            dwell_text = (
                "-" if dwell.get("mean") is None else f"{dwell['mean']:.1f}/{dwell['median']:.1f}/{dwell['max']:.1f} s"
            )
            counts = f"entries {zone['entries']} exits {zone['exits']} visits {zone['visits']}"
            by_class = ", ".join(f"{c} {n}" for c, n in zone.get("entries_by_class", {}).items()) or "-"
            rows.append((source, f"zone {name}", counts, by_class, dwell_text))
    if not rows:
        return None
    from rich import box

    several = len({row[0] for row in rows}) > 1
    table = Table(title="lines and zones", box=box.SIMPLE_HEAD, pad_edge=False)
    columns = ("source", "where", "counts", "by class", "dwell mean/med/max")
    for column in columns[0 if several else 1:]:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(row if several else row[1:]))
    return table
