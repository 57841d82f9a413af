"""A batch with wall-clock times and per-file heatmaps, reviewed by ``vidtrack serve --review`` (issue 22)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, model_path, video_path

pytestmark = pytest.mark.realdata


def test_batch_heatmaps_times_and_review(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    # A copy, not a symlink: a batch resolves links, and the NVR-style name is what --start-time auto reads.
    shutil.copy(video_path("pedestrians_pets_mjpeg.avi"), archive / "ch02_20261206143000.avi")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "batch", str(archive), "-o", str(out), "--no-video", "--heatmaps",
         "--start-time", "auto", "--line", "0,0.5,1,0.5:mid", "--model", model_path(), "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    heatmap = out / "ch02_20261206143000.heatmap.png"
    assert heatmap.stat().st_size > 0
    with open(out / "report.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["start_time"].startswith("2026-12-06T14:30:00.000") and row["end_time"].startswith("2026-12-06T14:30:10.000")
    summary = json.loads((out / "ch02_20261206143000.summary.json").read_text())
    assert summary["start_time_source"] == "file name chNN_YYYYMMDDHHMMSS"

    from vidtrack.web.review import ReviewIndex

    data = ReviewIndex(out).data()
    assert [r["heatmaps"] for r in data["runs"]] == [["/review/files/ch02_20261206143000.heatmap.png"]]
    assert data["events"] and all(e["time"].startswith("2026-12-06T14:30") for e in data["events"])
