"""A toy output for tests: one CSV row per tracked box (``frame,track_id,class``).

It is written the way a new output is meant to be added: this one file holds the sink and
the :class:`~vidtrack.sinks.base.Output` that declares its path option; one line in
``vidtrack.sinks.open.OPENERS`` (``"track_csv": track_csv.OUTPUT``) registers it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vidtrack.optionspec import PANEL_OUTPUT, Option
from vidtrack.sinks.base import Output


class TrackCsvSink:
    """Writes ``frame,track_id,class`` per tracked box; closed once."""

    warnings: list[str] = []

    def __init__(self, path: Path) -> None:
        self.file = open(path, "w", encoding="utf-8")
        self.file.write("frame,track_id,class\n")

    def write(self, result: Any) -> None:
        det = result.detections
        if det.tracker_id is None:
            return
        names = det.data.get("class_name", [""] * len(det))
        for track, name in zip(det.tracker_id, names):
            self.file.write(f"{result.frame.index},{int(track)},{name}\n")

    def close(self) -> None:
        if not self.file.closed:
            self.file.close()


OUTPUT = Output(
    Option(Path, "output", "CSV of every tracked box: frame,track_id,class.", panel=PANEL_OUTPUT),
    lambda path, info, config, lane: TrackCsvSink(path),
)
