"""The batch report: one row per input in ``OUT_DIR/report.csv`` and ``OUT_DIR/report.jsonl``.

A row says what happened to the file (status, one-line error) and what was found: frames,
duration, processing rate, tracks per class, line counts and zone visits (the summary's
``lines`` and ``zones`` when the run had lines or zones), and image-tagging style tags.
The JSONL keeps nested values as objects; the CSV flattens them into one column per key
(``tracks.person``, ``lines.gate.in``...), so it opens as a plain table in a spreadsheet.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any, Iterable, Mapping

from vidtrack.paths import atomic_write

REPORT_CSV = "report.csv"
REPORT_JSONL = "report.jsonl"

#: Row statuses: processed now, already done with the same settings, failed, stopped by
#: Ctrl-C, or not reached before the batch stopped.
STATUSES = ("done", "skipped", "failed", "interrupted", "not run")

#: Fixed columns, in order; nested ones (tracks, lines, zones, tags) are flattened after them.
COLUMNS = (
    "input", "rel", "status", "error", "frames", "duration_s", "fps", "processing_fps", "wall_s", "worker", "outputs",
)
NESTED = ("tracks", "lines", "zones", "tags")
#: Columns present only when some file has them: the wall-clock span (``--start-time``).
OPTIONAL = ("start_time", "end_time")


def make_row(
    source: Path,
    rel: str,
    status: str,
    *,
    error: str | None = None,
    summary: Mapping[str, Any] | None = None,
    wall_s: float | None = None,
    worker: str = "",
    outputs: Iterable[str] = (),
) -> dict[str, Any]:
    """One report row from a file's run summary (``frames``, ``duration`` in seconds, ``fps``...).

    ``lines`` and ``zones`` are copied from the summary when present (they come from the
    analytics stage); missing numbers stay None (empty in the CSV).
    """
    summary = summary or {}
    return {
        "input": str(source),
        "rel": rel,
        "status": status,
        "error": error or "",
        "frames": summary.get("frames"),
        "duration_s": summary.get("duration"),
        "fps": summary.get("fps"),
        "processing_fps": summary.get("processing_fps"),
        "wall_s": wall_s,
        "worker": worker,
        "outputs": list(outputs),
        **{key: summary.get(key) or {} for key in NESTED},
        **{key: summary[key] for key in OPTIONAL if summary.get(key) is not None},
    }


def _flatten(prefix: str, value: Any, out: dict[str, Any]) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(f"{prefix}.{key}", item, out)
    elif isinstance(value, (list, tuple)):
        out[prefix] = json.dumps(value)
    else:
        out[prefix] = value


def flat_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """The CSV form of a row: nested dicts become dotted columns, lists JSON text."""
    flat: dict[str, Any] = {}
    for key in COLUMNS:
        value = row.get(key)
        flat[key] = " ".join(value) if key == "outputs" and isinstance(value, list) else value
    for key in OPTIONAL:
        if row.get(key) is not None:
            flat[key] = row[key]
    for key in NESTED:
        _flatten(key, row.get(key) or {}, flat)
    return flat


def write_report(out_dir: Path, rows: list[dict[str, Any]]) -> tuple[Path, Path]:
    """Write ``report.csv`` and ``report.jsonl`` atomically; returns their paths."""
    flats = [flat_row(row) for row in rows]
    columns = list(COLUMNS)
    extra = sorted({key for flat in flats for key in flat} - set(columns))
    csv_path, jsonl_path = out_dir / REPORT_CSV, out_dir / REPORT_JSONL
    with atomic_write(csv_path, newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns + extra, restval="")
        writer.writeheader()
        writer.writerows(flats)
    with atomic_write(jsonl_path) as handle:
        for row in rows:
            handle.write(json.dumps(row) + "\n")
    return csv_path, jsonl_path
