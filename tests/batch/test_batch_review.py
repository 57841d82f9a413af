"""A batch with wall-clock times and per-file heatmaps, reviewed by ``vidtrack serve --review`` (issue 22)."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import PROJECT_ROOT, model_path, video_path, wait_until

pytestmark = pytest.mark.realdata


def test_batch_heatmaps_snapshots_clips_times_and_review(tmp_path: Path, browser: Any) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    # A copy, not a symlink: a batch resolves links, and the NVR-style name is what --start-time auto reads.
    shutil.copy(video_path("pedestrians_pets_mjpeg.avi"), archive / "ch02_20261206143000.avi")
    out = tmp_path / "out"
    result = subprocess.run(
        [sys.executable, "-m", "vidtrack", "batch", str(archive), "-o", str(out), "--no-video", "--heatmaps",
         "--snapshots", "--clips", "--pre", "1", "--post", "1",
         "--start-time", "auto", "--line", "0,0.5,1,0.5:mid", "--model", model_path(), "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    snapshots, clips = out / "ch02_20261206143000.snapshots", out / "ch02_20261206143000.clips"
    assert any(snapshots.glob("*.jpg")) and any(clips.glob("*.mp4"))
    assert not list(out.glob(".partial-*"))
    heatmap = out / "ch02_20261206143000.heatmap.png"
    assert heatmap.stat().st_size > 0
    with open(out / "report.csv", newline="") as handle:
        row = next(csv.DictReader(handle))
    assert "ch02_20261206143000.snapshots" in row["outputs"] and "ch02_20261206143000.clips" in row["outputs"]
    assert row["start_time"].startswith("2026-12-06T14:30:00.000") and row["end_time"].startswith("2026-12-06T14:30:10.000")
    summary = json.loads((out / "ch02_20261206143000.summary.json").read_text())
    assert summary["start_time_source"] == "file name chNN_YYYYMMDDHHMMSS"

    from vidtrack.web.review import ReviewIndex

    data = ReviewIndex(out).data()
    assert [r["heatmaps"] for r in data["runs"]] == [["/review/files/ch02_20261206143000.heatmap.png"]]
    assert data["events"] and all(e["time"].startswith("2026-12-06T14:30") for e in data["events"])
    crossings = [e for e in data["events"] if e["type"] == "cross"]
    assert crossings and all(e["snapshot"] and e["clip"] and e["clip_offset"] is not None for e in crossings)
    index = ReviewIndex(out)
    for event in crossings:
        for url in (event["snapshot"], event["clip"]):
            assert url.startswith("/review/files/ch02_20261206143000.") and index.file(url.removeprefix("/review/files/"))

    from vidtrack.web.app import create_app
    from vidtrack.web.server import Server

    server = Server(create_app(token="tok", review=ReviewIndex(out)), "127.0.0.1", 0)  # serve --review OUT_DIR
    server.start()
    try:
        page = browser.new_page()
        page.goto(server.base_url + "/review?token=tok")
        assert wait_until(page, "document.querySelectorAll('.ev').length") == len(data["events"])
        wait_until(page, "[...document.querySelectorAll('.ev img')].length > 0 && "
                         "[...document.querySelectorAll('.ev img')].every(i => i.complete && i.naturalWidth > 0)")
        page.select_option("#f-type", "cross")
        page.click(".ev >> nth=0")
        wait_until(page, "document.getElementById('player').readyState >= 2 && document.getElementById('player').videoWidth > 0")
        assert ".clips/" in page.evaluate("document.getElementById('player').currentSrc")
        page.close()
    finally:
        server.stop()

    again = subprocess.run(  # the same batch again: done with the same settings, folders intact -> skipped
        [sys.executable, "-m", "vidtrack", "batch", str(archive), "-o", str(out), "--no-video", "--heatmaps",
         "--snapshots", "--clips", "--pre", "1", "--post", "1",
         "--start-time", "auto", "--line", "0,0.5,1,0.5:mid", "--model", model_path(), "-q"],
        capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300,
    )
    assert again.returncode == 0, again.stderr
    with open(out / "report.csv", newline="") as handle:
        assert next(csv.DictReader(handle))["status"] == "skipped"
